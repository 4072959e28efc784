"""Uncertainty in the published figures (service.indices): every index's 95% interval from its n, computed
by hand on a small case, in the JSON as new keys; agencies under the round's minimum sample marked and not
ranked; the same figures in /api/indices, the XLSX export and the report."""
from __future__ import annotations

import io

import pytest

from service.indices import (CriterionCounts, CriterionSpec, ElementSpec, IndexSpec, Tally, compute_indices, index_ci95,
                             rank_agencies)

SPEC = IndexSpec(satisfied_values=frozenset({4, 5}), scale=(1, 5),
                 elements=(ElementSpec("E1", "Tiếp cận", (CriterionSpec("c01", "Một"), CriterionSpec("c02", "Hai"))),))


def _result(c01: dict[int, int], c02: dict[int, int], sheets: int):  # noqa: ANN202
    t = Tally(criteria={"c01": CriterionCounts(values=c01), "c02": CriterionCounts(values=c02)},
              element_sheets={"E1": sheets}, sheets_answered=sheets, sheets=sheets)
    return compute_indices(SPEC, t)


def test_interval_of_a_criterion_by_hand():
    # c01: 8 of 10 satisfied, index 80 %: p = 0.8, n = 10, z² = 3.841459, d = 1 + z²/n = 1.38414588
    #   centre = (0.8 + z²/20) / d = (0.8 + 0.19207294) / 1.38414588           = 0.71674016
    #   half   = z · √(0.8·0.2/10 + z²/400) / d = 1.959964 · √(0.016 + 0.00960365) / d
    #          = 1.959964 · 0.16001140 / 1.38414588                              = 0.22657769
    #   ci95   = 100 × [0.71674016 − 0.22657769, 0.71674016 + 0.22657769]        = [49.0162, 94.3318]
    r = _result({5: 3, 4: 5, 2: 2}, {3: 2, 4: 2}, sheets=10)
    c01, c02 = r.elements[0].criteria
    assert c01.index == 80.0 and c01.n == 10
    assert index_ci95(c01.index, c01.n) == (pytest.approx(49.0162, abs=1e-4), pytest.approx(94.3318, abs=1e-4))
    # c02: 2 of 4, index 50 %: d = 1 + 3.841459/4 = 1.96036471, centre = 0.5, half = 1.959964 · √(0.0625 + 0.06001967) / d
    #      = 1.959964 · 0.35003256 / 1.96036471 = 0.34996101 → [15.0039, 84.9961]
    j = r.to_json()
    assert j["elements"][0]["criteria"][1]["ci95"] == [pytest.approx(15.0039, abs=1e-4), pytest.approx(84.9961, abs=1e-4)]
    assert j["elements"][0]["criteria"][0]["ci95"] == [pytest.approx(49.0162, abs=1e-4), pytest.approx(94.3318, abs=1e-4)]
    # the element (65 %) and the overall index carry theirs from n = 10 sheets
    assert j["elements"][0]["index"] == 65.0 and j["ci95"] == j["elements"][0]["ci95"]
    lo, hi = index_ci95(65.0, 10)
    assert j["ci95"] == [round(lo, 4), round(hi, 4)] and lo < 65 < hi
    # no valid answer: no index, no interval (never [0, 100] pretending to be a figure)
    assert _result({}, {}, 0).to_json()["ci95"] is None
    # the old keys are all still there
    assert {"overall", "n", "elements", "pending_review", "mean", "sheets", "satisfied_values", "scale"} <= set(j)


def test_agencies_under_the_minimum_sample_are_marked_not_ranked():
    per = {"A": _result({5: 27, 2: 3}, {5: 30}, 30),   # 95 %, n 30
           "B": _result({5: 5}, {5: 5}, 5),             # 100 %, but n 5
           "C": _result({4: 20, 1: 20}, {4: 40}, 40),   # 75 %, n 40
           "D": _result({}, {}, 0)}                     # no answer
    plain = [(x.agency, x.rank) for x in rank_agencies(per)]
    assert plain == [("B", 1), ("A", 2), ("C", 3), ("D", None)]
    ranked = rank_agencies(per, min_sample=20)
    assert [(x.agency, x.rank, x.below_min_sample) for x in ranked] == [
        ("A", 1, False), ("C", 2, False), ("B", None, True), ("D", None, True)]
    j = ranked[2].to_json()
    assert j["ranked"] is False and j["below_min_sample"] is True and j["rank"] is None
    lo, hi = index_ci95(100.0, 5)  # 5 of 5: [z²/(n+z²) complement, 100] = [100·5/(5+3.841459), 100]
    assert hi == 100.0 and lo == pytest.approx(100 * 5 / (5 + 3.841459), abs=1e-4) and j["ci95"][0] == round(lo, 4)


def test_the_service_carries_them(tmp_path):
    """/api/indices, the XLSX export and the report with a minimum sample set on the round."""
    from fastapi.testclient import TestClient
    from openpyxl import load_workbook

    from service.app import create_app
    from service.auth import add_user
    from service.settings import Settings
    from tests._review_seed import seed_pages

    with TestClient(create_app(Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
                                        workers=1, ocr=False))) as c:
        with c.app.state.factory() as s, s.begin():
            tok = add_user(s, "admin1", "admin")
        h = {"Authorization": f"Bearer {tok}"}
        rid = c.post("/api/rounds", headers=h, json={"name": "R", "template": "sipas-2017"}).json()["id"]
        ok = {"gioi_tinh": 1, "do_tuoi": 2, "trinh_do": 3, "nghe_nghiep": 1}
        seed_pages(c.app.state.factory, rid, {f"{k:06d}": ok for k in range(1, 7)}, agency="SNV")
        seed_pages(c.app.state.factory, rid, {f"{k:06d}": {**ok, "c01": 2} for k in range(7, 9)}, agency="STP")
        assert c.put("/api/quality/settings?round=R", headers=h, json={"min_sample": 3}).status_code == 200
        ind = c.get("/api/indices?round=R&agencies=true", headers=h).json()
        assert ind["min_sample"] == 3 and ind["ci95"] is not None
        by = {a["agency"]: a for a in ind["agencies"]}
        assert by["SNV"]["rank"] == 1 and by["SNV"]["ranked"] and not by["SNV"]["below_min_sample"]
        assert by["STP"]["rank"] is None and by["STP"]["below_min_sample"] and by["STP"]["n"] == 2
        crit = ind["elements"][0]["criteria"][0]
        assert crit["ci95"] == [round(x, 4) for x in index_ci95(crit["index"], crit["n"])]
        wb = load_workbook(io.BytesIO(c.get("/api/export?round=R&format=xlsx", headers=h).content))
        ws = wb.worksheets[0]
        head = [x.value for x in ws[1]]
        lo_col = head.index("KTC 95 % – cận dưới (%)")
        assert ws.cell(row=2, column=lo_col + 1).value == round(index_ci95(ind["overall"], ind["n"])[0], 2)
        wr = wb["Xếp hạng đơn vị"]
        rows = {r[1]: r for r in wr.iter_rows(min_row=2, values_only=True)}
        assert rows["STP"][0] == "–" and rows["STP"][-1] == "n dưới cỡ mẫu tối thiểu: không xếp hạng" and rows["SNV"][0] == 1
        html = c.get("/api/report?round=R", headers=h).text
        assert "KTC 95 %" in html and "–*" in html and "cỡ mẫu tối thiểu" in html and "Kiểm tra chất lượng" in html
