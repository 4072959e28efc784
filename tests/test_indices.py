"""Satisfaction indices computed by hand on tiny cases, and JSONL counting."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from omr.template import load_template
from service.indices import (
    CriterionCounts,
    IndexSpec,
    Tally,
    compute_indices,
    indices_from_sheets,
    rank_agencies,
)
from service.tally_jsonl import (
    ResultsFileError,
    filter_sheets,
    frequencies,
    group_sheets,
    indices_by_agency,
    indices_for,
    iter_results,
    parse_group_filter,
)

DATA = Path(__file__).parent / "data"
PAGE1 = ("gioi_tinh", "do_tuoi", "ma_ho_so", "c01", "c02")
PAGE2 = ("c03", "c04", "cai_thien", "y_kien")


def fld(v):
    """A field from a short code: int/list -> answered, None -> blank, "?" -> uncertain, "*" -> multiple."""
    if v is None:
        return {"value": None, "status": "blank", "confidence": 0.99}
    if v == "?":
        return {"value": None, "status": "uncertain", "confidence": 0.4}
    if v == "*":
        return {"value": None, "status": "multiple", "confidence": 0.9}
    return {"value": v, "status": "answered", "confidence": 0.97}


def pages(serial, agency="", **answers):
    """The two page dicts (`omr scan` JSON lines) of one sheet of tests/data/tally-form.yaml."""
    out = []
    for no, ids in ((1, PAGE1), (2, PAGE2)):
        out.append({
            "source": f"scan-{serial}.pdf", "index": no - 1, "status": "ok", "error": None,
            "template": "tally-form", "version": 1, "sheet": serial, "page": no, "agency": agency,
            "fields": {k: fld(answers[k]) for k in ids if k in answers},
        })
    return out


@pytest.fixture(scope="module")
def template():
    return load_template(DATA / "tally-form.yaml")


@pytest.fixture(scope="module")
def spec(template):
    return IndexSpec.from_template(template)


def hand_case():
    # S1: c01=5 c02=4 c03=3 c04=2      S2: c01=4 c02=blank c03=? c04=5
    # S3: c01=1 c02=multiple c03=5 c04=blank     S4: all blank     S5: c01=? only
    return [
        *pages("000001", "A", c01=5, c02=4, c03=3, c04=2, gioi_tinh=1),
        *pages("000002", "A", c01=4, c02=None, c03="?", c04=5, gioi_tinh=2),
        *pages("000003", "A", c01=1, c02="*", c03=5, c04=None, gioi_tinh=2),
        *pages("000004", "A", c01=None, c02=None, c03=None, c04=None),
        *pages("000005", "A", c01="?"),
    ]


def test_hand_computed_case(spec):
    sheets = group_sheets(hand_case()).sheets
    assert len(sheets) == 5
    r = indices_for(spec, sheets)
    e1, e2, e3 = r.elements
    c01, c02 = e1.criteria
    (c03,), (c04,) = e2.criteria, e3.criteria
    # c01: valid 5, 4, 1 -> n=3; satisfied (4,5): 2 -> 100*2/3 = 66.667; mean (5+4+1)/3 = 3.333; S5 pending
    assert (c01.n, c01.pending, c01.satisfied) == (3, 1, 2)
    assert c01.index == pytest.approx(200 / 3) and c01.mean == pytest.approx(10 / 3)
    assert c01.distribution == {1: 1, 2: 0, 3: 0, 4: 1, 5: 1}
    # c02: valid 4 only (blank and multiple excluded) -> n=1, index 100, mean 4
    assert (c02.n, c02.index, c02.mean, c02.blank, c02.multiple) == (1, 100.0, 4.0, 2, 1)
    # c03: valid 3, 5 -> 50 %, mean 4; S2 pending
    assert (c03.n, c03.index, c03.mean, c03.pending) == (2, 50.0, 4.0, 1)
    # c04: valid 2, 5 -> 50 %, mean 3.5
    assert (c04.n, c04.index, c04.mean) == (2, 50.0, 3.5)
    # E1 = (66.667 + 100) / 2 = 83.333; mean (3.333 + 4) / 2 = 3.667;
    # n = sheets with a valid c01 or c02: S1, S2, S3 = 3; answers 3 + 1 = 4
    assert e1.index == pytest.approx(250 / 3) and e1.mean == pytest.approx(11 / 3)
    assert (e1.n, e1.answers) == (3, 4)
    # E2 = 50 (n: S1, S3); E3 = 50 (n: S1, S2)
    assert (e2.index, e2.n, e3.index, e3.n) == (50.0, 2, 50.0, 2)
    # overall = (83.333 + 50 + 50) / 3 = 61.111; n = S1, S2, S3 = 3; pending = c01@S5 + c03@S2 = 2
    assert r.overall == pytest.approx(550 / 9)
    assert r.mean == pytest.approx((11 / 3 + 4 + 3.5) / 3)
    assert (r.n, r.pending_review, r.sheets) == (3, 2, 5)


def test_to_json_contract(spec):
    r = indices_for(spec, group_sheets(hand_case()).sheets)
    j = r.to_json()
    json.dumps(j, allow_nan=False)
    assert {"overall", "n", "elements", "pending_review"} <= j.keys()
    el = j["elements"][0]
    assert {"id", "name", "index", "mean", "n", "criteria"} <= el.keys()
    cr = el["criteria"][0]
    assert {"id", "text", "index", "mean", "n", "pending", "distribution"} <= cr.keys()
    assert cr["distribution"] == {1: 1, 2: 0, 3: 0, 4: 1, 5: 1}
    assert j["overall"] == pytest.approx(61.1111) and j["n"] == 3 and j["pending_review"] == 2
    assert el["name"] == "Tiếp cận dịch vụ hành chính công"


def test_no_answers_gives_none_not_zero(spec):
    for sheets in ([], [{"c01": fld(None), "c02": fld("*")}]):
        r = indices_from_sheets(spec, sheets)
        assert r.overall is None and r.mean is None and r.n == 0
        for e in r.elements:
            assert e.index is None and e.mean is None and e.n == 0
            assert all(c.index is None and c.mean is None and c.n == 0 for c in e.criteria)
        j = r.to_json()
        json.dumps(j, allow_nan=False)  # no NaN anywhere
        assert j["overall"] is None


def test_all_pending(spec):
    # 3 sheets, every criterion awaiting review: 3 x 4 = 12 pending, nothing valid
    sheets = [{c: fld("?") for c in ("c01", "c02", "c03", "c04")} for _ in range(3)]
    r = indices_from_sheets(spec, sheets)
    assert r.overall is None and r.n == 0 and r.pending_review == 12
    assert [e.pending for e in r.elements] == [6, 3, 3]
    assert r.sheets == 3


def test_element_with_no_answers_is_skipped_in_overall(spec):
    # only E1 answered: c01 = 4 (100 %), c02 = 2 (0 %) -> E1 = 50; E2, E3 None; overall = 50
    r = indices_from_sheets(spec, [{"c01": fld(4), "c02": fld(2)}])
    assert [e.index for e in r.elements] == [50.0, None, None]
    assert r.overall == 50.0 and r.n == 1


def test_criterion_without_answers_skipped_in_element(spec):
    # c01 = 5 on two sheets (100 %), c02 never valid -> E1 = 100, not 50
    r = indices_from_sheets(spec, [{"c01": fld(5)}, {"c01": fld(5), "c02": fld(None)}])
    assert r.elements[0].index == 100.0 and r.elements[0].n == 2


def test_out_of_scale_values_ignored(spec):
    # a value 9 (not on 1..5) is not a valid answer; a list on a single-choice field neither
    r = indices_from_sheets(spec, [{"c01": fld(9)}, {"c01": fld(4)}, {"c01": fld([4, 5])}])
    c01 = r.elements[0].criteria[0]
    assert (c01.n, c01.index) == (1, 100.0)
    assert r.n == 1


def test_counts_input_like_sql(spec):
    # what service/tallies.py would pass from GROUP BY queries
    t = Tally(
        criteria={
            "c01": CriterionCounts(values={5: 10, 4: 20, 3: 10}, pending=2),  # 30/40 = 75, mean (50+80+30)/40 = 4.0
            "c02": CriterionCounts(values={2: 20, 4: 20}),  # 20/40 = 50, mean 3.0
            "c03": CriterionCounts(values={5: 4}),  # 100, mean 5
        },
        element_sheets={"E1": 40, "E2": 4},
        sheets_answered=40,
        sheets=45,
    )
    r = compute_indices(spec, t)
    # E1 = (75 + 50) / 2 = 62.5; E2 = 100; E3 none -> overall = (62.5 + 100) / 2 = 81.25
    assert [e.index for e in r.elements] == [62.5, 100.0, None]
    assert r.elements[0].mean == 3.5 and r.elements[0].answers == 80
    assert r.overall == 81.25 and r.n == 40 and r.pending_review == 2


def test_ranking_ties_share_rank(spec):
    def res(*c01_values):
        return indices_from_sheets(spec, [{"c01": fld(v)} for v in c01_values])

    results = {
        "SNV": res(5, 5, 1),  # 66.67
        "STP": res(5),  # 100
        "SYT": res(4, 2, 4),  # 66.67 -> ties with SNV
        "SXD": res(1),  # 0
        "SGD": res(),  # nothing valid
    }
    ranking = rank_agencies(results, names={"STP": "Sở Tư pháp"})
    assert [(r.agency, r.rank) for r in ranking] == [("STP", 1), ("SNV", 2), ("SYT", 2), ("SXD", 4), ("SGD", None)]
    assert ranking[0].name == "Sở Tư pháp"
    assert ranking[3].overall == 0.0  # zero is a real index, not "no answer"
    json.dumps([r.to_json() for r in ranking], allow_nan=False)


def test_group_sheets_merges_pages_and_flags_disagreement():
    dup = pages("000001", "A", c01=5, c03=4)
    again = pages("000001", "A", c01=2, c03=4)  # page 1 scanned twice, c01 read differently
    ss = group_sheets([*dup, again[0], {"source": "x.pdf", "index": 9, "status": "unrecognized", "fields": {}}])
    assert len(ss.sheets) == 1 and ss.pages_skipped == 1 and ss.pages_ok == 3
    sh = ss.sheets[0]
    assert sorted(sh.pages) == [1, 1, 2] and sh.agency == "A"
    assert sh.fields["c01"]["status"] == "uncertain"  # never guessed
    assert sh.fields["c03"]["value"] == 4


def test_group_sheets_other_template_skipped():
    other = pages("000001", "A", c01=5)
    for p in other:
        p["template"] = "sipas-2017"
    ss = group_sheets([*other, *pages("000001", "A", c01=4)], template="tally-form")
    assert len(ss.sheets) == 1 and ss.sheets[0].value("c01") == 4
    assert ss.templates == {"sipas-2017": 2, "tally-form": 2}


def test_filters_by_agency_and_group(spec):
    raw = [
        *pages("000001", "SNV", c01=5, gioi_tinh=2),
        *pages("000002", "SNV", c01=1, gioi_tinh=1),
        *pages("000003", "STP", c01=4, gioi_tinh=2),
        *pages("000004", "SNV", c01=4, gioi_tinh="?"),  # group unknown: not in any group
    ]
    sheets = group_sheets(raw).sheets
    assert [s.serial for s in filter_sheets(sheets, agency="SNV")] == ["000001", "000002", "000004"]
    women = filter_sheets(sheets, groups={"gioi_tinh": 2})
    assert [s.serial for s in women] == ["000001", "000003"]
    assert [s.serial for s in filter_sheets(sheets, agency="SNV", groups={"gioi_tinh": [1, 2]})] == ["000001", "000002"]
    by = indices_by_agency(spec, sheets)
    # SNV c01: 5, 1, 4 -> 2/3; STP c01: 4 -> 100
    assert by["SNV"].overall == pytest.approx(200 / 3) and by["STP"].overall == 100.0
    assert parse_group_filter("gioi_tinh=2") == ("gioi_tinh", 2)
    with pytest.raises(ValueError):
        parse_group_filter("gioi_tinh")


def test_frequencies(template):
    raw = [
        *pages("000001", c01=5, cai_thien=[1, 3], gioi_tinh=1),
        *pages("000002", c01=5, cai_thien=[3], gioi_tinh="*"),
        *pages("000003", c01="?", cai_thien=None),
    ]
    fr = {f.id: f for f in frequencies(template, group_sheets(raw).sheets)}
    assert [f for f in fr] == ["gioi_tinh", "do_tuoi", "c01", "c02", "c03", "c04", "cai_thien"]
    ct = fr["cai_thien"]
    assert [(o.value, o.count) for o in ct.options] == [(1, 1), (2, 0), (3, 2)]
    assert (ct.answered, ct.blank) == (2, 1) and ct.share(2) == 100.0
    assert (fr["c01"].answered, fr["c01"].pending) == (2, 1)
    assert (fr["gioi_tinh"].answered, fr["gioi_tinh"].multiple, fr["gioi_tinh"].blank) == (1, 1, 1)


def test_iter_results_errors(tmp_path):
    with pytest.raises(ResultsFileError, match="no such file"):
        list(iter_results(tmp_path / "missing.jsonl"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(pages("000001")[0]) + "\n\n{not json\n", encoding="utf-8")
    with pytest.raises(ResultsFileError, match=r"bad\.jsonl: line 3: not valid JSON"):
        list(iter_results(bad))
    arr = tmp_path / "arr.jsonl"
    arr.write_text("[1, 2]\n", encoding="utf-8")
    with pytest.raises(ResultsFileError, match="line 1: expected a JSON object"):
        list(iter_results(arr))


def test_no_nan_ever(spec):
    r = indices_from_sheets(spec, [{"c01": fld(3)}])
    for v in (r.overall, r.elements[0].index, r.elements[0].criteria[0].index):
        assert v is not None and not math.isnan(v)
    assert r.overall == 0.0


def test_agency_indices_from_grouped_queries_match_one_by_one(tmp_path):
    """indices_by_agency (two grouped queries) agrees with a tally per agency."""
    import random

    from sqlalchemy import insert

    from omr.template import load_template
    from service import tallies
    from service.db import make_engine, migrate, session_factory
    from service.models import Answer, Batch, Page, Round, UploadedFile

    engine = make_engine(f"sqlite:///{tmp_path / 'a.sqlite'}")
    migrate(engine)
    t = load_template("hue-2017")
    rng = random.Random(5)
    with engine.begin() as c:
        rid = c.execute(insert(Round).values(name="r", template=t.id, version=1, period="")).inserted_primary_key[0]
        bid = c.execute(insert(Batch).values(round_id=rid, created_by="x")).inserted_primary_key[0]
        fid = c.execute(insert(UploadedFile).values(batch_id=bid, round_id=rid, filename="f", sha256="0" * 64, size=0)).inserted_primary_key[0]
        for k in range(60):
            ag = ["A", "B", "C"][k % 3]
            pid = c.execute(insert(Page).values(batch_id=bid, round_id=rid, file_id=fid, index=k, status="done", result_status="ok",
                                                template=t.id, version=1, sheet=f"{k:06d}", page_no=1, agency=ag)).inserted_primary_key[0]
            for cid in ("c01", "c02", "c03"):
                v = rng.choice([None, 1, 2, 3, 4, 5, 5, 4])
                st = rng.choice(["answered"] * 9 + ["uncertain"])
                c.execute(insert(Answer).values(page_id=pid, round_id=rid, field_id=cid, value=v, value_int=v,
                                                status="blank" if v is None else st, source="engine", counted=True,
                                                sheet=f"{k:06d}", agency=ag))
    with session_factory(engine)() as s, s.begin():
        tallies.rebuild_summaries(s, rid)
    with session_factory(engine)() as s:
        grouped = tallies.indices_by_agency(s, t, rid)
        assert set(grouped) == {"A", "B", "C"}
        for ag, res in grouped.items():
            assert res.to_json() == tallies.indices(s, t, rid, agency=ag).to_json()
