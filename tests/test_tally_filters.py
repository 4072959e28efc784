"""GET /api/tallies and /api/indices filtered by agency, batch, period and respondent group: a small
round whose counts and indices are worked out by hand, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from service import tallies
from service.app import create_app
from service.auth import add_user
from service.models import Answer, Batch, Page, Round, UploadedFile
from service.settings import Settings

U = "?"  # the engine was unsure: pending review
# hue-2017: criteria c01, c02, c03 (one per element E1, E2, E3), satisfied = 4 or 5.
# sheet: (batch, gioi_tinh, do_tuoi, c01, c02, c03); a value written as (v, "reviewer") was settled by a person
SHEETS = {
    "000001": (1, 2, 1, 5, 3, 4),
    "000002": (1, 1, 2, 2, 4, U),
    "000003": (2, 2, 2, 4, None, 1),
    "000004": (2, U, 1, 5, 5, 5),
    "000005": (3, (2, "reviewer"), 1, 1, 2, 4),
}
BATCHES = {  # id: (agency, received at, UTC)
    1: ("A", datetime(2026, 3, 10, 3, 0, tzinfo=timezone.utc)),  # 10 March in Vietnam
    2: ("B", datetime(2026, 3, 31, 18, 0, tzinfo=timezone.utc)),  # 1 April, 01:00 in Vietnam: April
    3: ("A", datetime(2026, 4, 20, 2, 0, tzinfo=timezone.utc)),
}


@pytest.fixture
def api(tmp_path, db_url):
    app = create_app(Settings(data_dir=tmp_path / "data", database_url=db_url, start_workers=False, ocr=False))
    with TestClient(app) as c:
        factory = app.state.factory
        with factory() as s, s.begin():
            token = add_user(s, "v", "viewer")
            rid = s.execute(insert(Round).values(name="Huế 2026", template="hue-2017", version=1, period="2026")).inserted_primary_key[0]
            for bid, (agency, at) in BATCHES.items():
                s.execute(insert(Batch).values(id=bid, round_id=rid, agency=agency, created_by="x", created_at=at))
                s.execute(insert(UploadedFile).values(id=bid, batch_id=bid, round_id=rid, filename=f"{bid}.pdf", sha256=str(bid) * 64,
                                                      size=1, status="split"))
            for k, (serial, (bid, *values)) in enumerate(SHEETS.items()):
                agency = BATCHES[bid][0]
                pid = s.execute(insert(Page).values(batch_id=bid, round_id=rid, file_id=bid, index=k, status="done", result_status="ok",
                                                    template="hue-2017", version=1, sheet=serial, page_no=1, agency=agency)
                                ).inserted_primary_key[0]
                for fid, v in zip(("gioi_tinh", "do_tuoi", "c01", "c02", "c03"), values):
                    source = "engine"
                    if isinstance(v, tuple):
                        v, source = v
                    status = "uncertain" if v == U else ("blank" if v is None else "answered")
                    v = None if v == U else v
                    s.execute(insert(Answer).values(page_id=pid, round_id=rid, field_id=fid, value=v, value_int=v, status=status,
                                                    source=source, counted=True, sheet=serial, agency=agency))
            # sheet 1 again, rescanned with April's batch 3 (an extra page without answers): still received in March
            s.execute(insert(Page).values(batch_id=3, round_id=rid, file_id=3, index=99, status="done", result_status="ok",
                                          template="hue-2017", version=1, sheet="000001", page_no=2, agency="A"))
            tallies.rebuild_summaries(s, rid)

        def get(path, **q):
            r = c.get(path, params={"round": "Huế 2026", **q}, headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200, r.text
            return r.json()

        get.client, get.token, get.factory, get.round_id = c, token, factory, rid
        yield get


def _counts(doc, qid):
    q = next(q for q in doc["questions"] if q["id"] == qid)
    return {o["value"]: o["count"] for o in q["options"] if o["count"]}, q["blank"], q["pending"]


def _crit(doc):
    return {cr["id"]: cr["index"] for el in doc["elements"] for cr in el["criteria"]}


def test_group_filter_by_hand(api):
    # gioi_tinh=2 (Nữ): sheets 1, 3 and 5 (settled by a reviewer); sheet 4's answer is still pending: not in the group
    doc = api("/api/tallies", group="gioi_tinh=2")
    assert doc["group"] == ["gioi_tinh=2"]
    assert _counts(doc, "c01") == ({5: 1, 4: 1, 1: 1}, 0, 0)
    assert _counts(doc, "c02") == ({3: 1, 2: 1}, 1, 0)
    assert _counts(doc, "c03") == ({4: 2, 1: 1}, 0, 0)
    assert _counts(doc, "gioi_tinh") == ({2: 3}, 0, 0)
    ind = api("/api/indices", group="gioi_tinh=2")
    assert _crit(ind) == pytest.approx({"c01": 200 / 3, "c02": 0.0, "c03": 200 / 3}, abs=1e-3)
    assert {el["id"]: el["n"] for el in ind["elements"]} == {"E1": 3, "E2": 2, "E3": 3}
    assert ind["overall"] == pytest.approx((200 / 3 + 0 + 200 / 3) / 3, abs=1e-3) and ind["n"] == 3
    assert ind["sheets"] == 3 and ind["pending_review"] == 0
    # two questions: both must match (sheets 1 and 5); two values of one question: either (every sheet but 4)
    assert _counts(api("/api/tallies", group=["gioi_tinh=2", "do_tuoi=1"]), "c01") == ({5: 1, 1: 1}, 0, 0)
    assert _counts(api("/api/tallies", group=["do_tuoi=1", "do_tuoi=2"]), "c01") == ({5: 2, 2: 1, 4: 1, 1: 1}, 0, 0)
    # the ranking under the same filter: A has sheets 1 and 5, B sheet 3
    ranked = {a["agency"]: a for a in api("/api/indices", group="gioi_tinh=2", agencies="true")["agencies"]}
    assert ranked["A"]["overall"] == pytest.approx((50 + 0 + 100) / 3, abs=1e-3)
    assert ranked["B"]["overall"] == pytest.approx((100 + 0) / 2, abs=1e-3)  # c02 blank: E2 has no answer, skipped


def test_period_filter_by_hand(api):
    # March in Vietnam: batch 1 only (batch 2 came at 01:00 on 1 April, Vietnam time)
    doc = api("/api/tallies", period="2026-03")
    assert doc["period"] == "2026-03"
    assert _counts(doc, "c01") == ({5: 1, 2: 1}, 0, 0)
    assert _counts(doc, "c03") == ({4: 1}, 0, 1)
    ind = api("/api/indices", period="2026-03")
    assert _crit(ind) == pytest.approx({"c01": 50.0, "c02": 50.0, "c03": 100.0}, abs=1e-3)
    assert ind["overall"] == pytest.approx(200 / 3, abs=1e-3) and ind["pending_review"] == 1 and ind["n"] == 2
    assert {el["id"]: el["n"] for el in ind["elements"]} == {"E1": 2, "E2": 2, "E3": 1}
    april = api("/api/indices", period="2026-04")  # sheets 3, 4, 5; not sheet 1, whose first page came in March
    assert april["sheets"] == 3 and april["n"] == 3
    assert _counts(api("/api/tallies", period="2026-04"), "c01") == ({4: 1, 5: 1, 1: 1}, 0, 0)
    # a day, a range, a quarter, a year
    assert _counts(api("/api/tallies", period="2026-04-01"), "c01") == ({4: 1, 5: 1}, 0, 0)
    assert _counts(api("/api/tallies", period="2026-03-31"), "c01") == ({}, 0, 0)
    assert _counts(api("/api/tallies", period="2026-03-01..2026-04-01"), "c01") == ({5: 2, 2: 1, 4: 1}, 0, 0)
    assert _counts(api("/api/tallies", period="2026-Q2"), "c01") == ({4: 1, 5: 1, 1: 1}, 0, 0)
    assert _counts(api("/api/tallies", period="2026"), "c01") == ({5: 2, 2: 1, 4: 1, 1: 1}, 0, 0)
    assert api("/api/indices", period="2025")["overall"] is None


def test_filters_together_and_batch_on_indices(api):
    # April to June, women, agency A: sheet 5 alone
    ind = api("/api/indices", period="2026-Q2", group="gioi_tinh=2", agency="A")
    assert _crit(ind) == {"c01": 0.0, "c02": 0.0, "c03": 100.0}
    assert ind["overall"] == pytest.approx(100 / 3, abs=1e-3) and ind["n"] == 1 and ind["sheets"] == 1
    assert (ind["agency"], ind["period"], ind["group"]) == ("A", "2026-Q2", ["gioi_tinh=2"])
    # batch 2 (sheets 3 and 4) on the indices as on the tallies
    ind = api("/api/indices", batch=2)
    assert _crit(ind) == {"c01": 100.0, "c02": 100.0, "c03": 50.0} and ind["n"] == 2
    assert _counts(api("/api/tallies", batch=2), "c02") == ({5: 1}, 1, 0)
    # every agency under the period filter agrees with one agency at a time
    t = __import__("omr.template", fromlist=["load_template"]).load_template("hue-2017")
    when = tallies.parse_period("2026-Q2")
    with api.factory() as s:
        per = tallies.indices_by_agency(s, t, api.round_id, period=when, groups={"gioi_tinh": [2]})
        assert set(per) == {"A", "B"}
        for ag, res in per.items():
            assert res.to_json() == tallies.indices(s, t, api.round_id, agency=ag, period=when, groups={"gioi_tinh": [2]}).to_json()


@pytest.mark.parametrize("query, problem", [
    ({"group": "nope=1"}, "'nope' is not a single-choice question of hue-2017"),
    ({"group": "gioi_tinh=7"}, "gioi_tinh has the values 1, 2"),
    ({"group": "gioi_tinh"}, "write QUESTION=VALUE"),
    ({"period": "2026-13"}, "write 2026, 2026-Q1"),
    ({"period": "2026-05-01..2026-04-01"}, "the last day is before the first"),
])
def test_bad_filters_name_the_problem(api, query, problem):
    for path in ("/api/tallies", "/api/indices"):
        r = api.client.get(path, params={"round": "Huế 2026", **query}, headers={"Authorization": f"Bearer {api.token}"})
        assert r.status_code == 422 and problem in r.json()["detail"], r.text


def test_the_same_figures_asked_for_at_once_are_computed_once(api):
    """Two readers asking for the same figures at the same revision: one pass, both get it; another key is not
    held up by it; once the data changes the figures are computed again."""
    import threading
    import time

    factory, rid = api.factory, api.round_id
    calls: list[str] = []
    started = threading.Event()

    def slow(tag: str):  # noqa: ANN202
        def compute() -> str:
            calls.append(tag)
            started.set()
            time.sleep(0.5)
            return f"figures {tag}"
        return compute

    got: dict[str, str] = {}

    def reader(name: str, key: tuple, tag: str) -> None:
        with factory() as s:
            got[name] = tallies.cached(s, key, slow(tag))

    first = threading.Thread(target=reader, args=("a", ("t-sf", 1), "1"))
    first.start()
    assert started.wait(5)
    second = threading.Thread(target=reader, args=("b", ("t-sf", 1), "2"))
    second.start()
    t0 = time.perf_counter()
    with factory() as s:
        assert tallies.cached(s, ("t-sf", 2), lambda: "other") == "other"
    assert time.perf_counter() - t0 < 0.4  # not queued behind the slow one
    first.join(5)
    second.join(5)
    assert got == {"a": "figures 1", "b": "figures 1"} and calls == ["1"]
    with factory() as s, s.begin():
        s.get(Round, rid).period = "2026-b"  # a round changed: the revision moves on
    with factory() as s:
        assert tallies.cached(s, ("t-sf", 1), slow("3")) == "figures 3"
