"""Issue 11, item 4: the results page of a round. API: the answer distribution per criterion (counts and
shares), the respondent groups and levels the page's filters and chart need, `compare=ROUND` (the change
against an earlier round of the same questionnaire, a 422 for another questionnaire) and the exports and
report under the page's filters, on SQLite and PostgreSQL. Browser (Debian's Chromium, Playwright, against a
running `omr serve` with paper and online answers): the figures shown are the ones /api/indices returns,
in Vietnamese or English number format; the distribution chart is drawn from the API's counts; the filters
change the figures and the URL; the comparison shows the signed points; every control is reachable by
keyboard. Screenshots go to SHOTS (docs/screenshots/ with OMR_UPDATE_SCREENSHOTS=1)."""
from __future__ import annotations

import csv
import io
import json
from decimal import ROUND_HALF_UP, Decimal

import pytest

from tests.test_agencies_print_runs import AGENCIES_CSV, _client
from tests.test_integrity import _h, _tokens
from tests.test_online_import import MAPPING, _online_csv

LEVELS = ["Rất không hài lòng", "Không hài lòng", "Bình thường", "Hài lòng", "Rất hài lòng"]


def _index(rows: list[dict], cid: str) -> float | None:
    """A criterion's index from the rows as written: share of 4 and 5 among the answers 1..5 (the written definition)."""
    valid = [r[cid] for r in rows if r[cid] is not None]
    return 100.0 * sum(1 for v in valid if v >= 4) / len(valid) if valid else None


def _overall(rows: list[dict]) -> float | None:
    xs = [x for x in (_index(rows, c) for c in ("c01", "c02", "c03")) if x is not None]  # hue-2017: one criterion per element
    return sum(xs) / len(xs) if xs else None


def _import(c, tok, rid: int, text: str, name: str) -> None:  # noqa: ANN001
    r = c.post(f"/api/rounds/{rid}/imports", headers=_h(tok["admin"]), files={"file": (name, text.encode())},
               data={"mapping": json.dumps(MAPPING)})
    assert r.status_code == 200 and r.json()["refused"] == 0, r.text


def test_indices_compare_distribution_and_filtered_exports(tmp_path, db_url):
    now_text, now_rows = _online_csv(40, seed=21)
    before_text, before_rows = _online_csv(30, seed=22)
    with _client(tmp_path, db_url) as c:
        tok = _tokens(c)
        v = _h(tok["viewer"])
        assert c.post("/api/agencies/import", headers=_h(tok["admin"]), files={"file": ("a.csv", AGENCIES_CSV.encode())}).status_code == 200
        ids = {}
        for name, tpl in (("Huế 2025", "hue-2017"), ("Huế 2026", "hue-2017"), ("SIPAS 2025", "sipas-2017")):
            r = c.post("/api/rounds", headers=_h(tok["admin"]), json={"name": name, "template": tpl})
            assert r.status_code == 201, r.text
            ids[name] = r.json()["id"]
        _import(c, tok, ids["Huế 2025"], before_text, "2025.csv")
        _import(c, tok, ids["Huế 2026"], now_text, "2026.csv")

        # the distribution per criterion: counts and shares of the final answers, with the levels' labels
        d = c.get(f"/api/indices?round={ids['Huế 2026']}", headers=v).json()
        assert [lv["label"] for lv in d["levels"]] == LEVELS and [lv["value"] for lv in d["levels"]] == [1, 2, 3, 4, 5]
        assert [g["id"] for g in d["respondent_groups"]] == ["gioi_tinh", "do_tuoi", "linh_vuc"]
        assert d["respondent_groups"][0]["options"] == [{"value": 1, "label": "Nam"}, {"value": 2, "label": "Nữ"}]
        assert d["published_decimals"] == 2 and d["template"] == "hue-2017" and d["round_id"] == ids["Huế 2026"]
        c03 = next(cr for e in d["elements"] for cr in e["criteria"] if cr["id"] == "c03")
        blanks = sum(1 for r in now_rows if r["c03"] is None)
        assert blanks and c03["no_answer"] == blanks and c03["n"] == 40 - blanks
        assert c03["distribution"] == {str(k): sum(1 for r in now_rows if r["c03"] == k) for k in range(1, 6)}
        assert c03["shares"]["no_answer"] == pytest.approx(100 * blanks / 40, abs=1e-4)
        assert c03["shares"]["4"] == pytest.approx(100 * c03["distribution"]["4"] / 40, abs=1e-4)
        assert sum(c03["shares"].values()) == pytest.approx(100, abs=1e-3)
        assert "change" not in d and "compare" not in d  # no comparison asked: nothing added

        # compare: the change of every figure, this round minus the earlier one, overall, per element, per agency
        r = c.get(f"/api/indices?round={ids['Huế 2026']}&compare={ids['Huế 2025']}&agencies=true", headers=v)
        assert r.status_code == 200, r.text
        d = r.json()
        assert d["compare"]["name"] == "Huế 2025" and d["compare"]["id"] == ids["Huế 2025"]
        assert d["previous"] == pytest.approx(_overall(before_rows), abs=1e-4)
        assert d["change"] == pytest.approx(_overall(now_rows) - _overall(before_rows), abs=2e-4)
        for e in d["elements"]:
            cid = e["criteria"][0]["id"]
            want = _index(now_rows, cid) - _index(before_rows, cid)
            assert e["change"] == pytest.approx(want, abs=2e-4) and e["criteria"][0]["change"] == e["change"], e
        ag = {a["agency"]: a for a in d["agencies"]}
        assert set(ag) == {"SNV", "STP"}
        for code, a in ag.items():
            want = _overall([x for x in now_rows if x["agency"] == code]) - _overall([x for x in before_rows if x["agency"] == code])
            assert a["change"] == pytest.approx(want, abs=2e-4), (code, a["change"], want)
            assert a["previous_rank"] in (1, 2) and a["result"]["change"] == a["change"]
        # the filters apply to both rounds: women only, then one agency
        r = c.get(f"/api/indices?round=Huế 2026&compare=Huế 2025&group=gioi_tinh=2", headers=v).json()
        women = lambda rows: [x for x in rows if x["gioi_tinh"] == 2]  # noqa: E731
        assert r["change"] == pytest.approx(_overall(women(now_rows)) - _overall(women(before_rows)), abs=2e-4)
        r = c.get(f"/api/indices?round=Huế 2026&compare=Huế 2025&agency=SNV", headers=v).json()
        snv = lambda rows: [x for x in rows if x["agency"] == "SNV"]  # noqa: E731
        assert r["previous"] == pytest.approx(_overall(snv(before_rows)), abs=1e-4)
        # an earlier round with no answers under the filters: no change to show, never a 0
        r = c.get(f"/api/indices?round=Huế 2026&compare=Huế 2025&channel=paper", headers=v).json()
        assert r["previous"] is None and r["change"] is None and all(e["change"] is None for e in r["elements"])
        # refused: another questionnaire (a clear 422), the round itself, a round that does not exist
        r = c.get(f"/api/indices?round={ids['Huế 2026']}&compare={ids['SIPAS 2025']}", headers=v)
        assert r.status_code == 422 and "sipas-2017" in r.json()["detail"] and "same questionnaire" in r.json()["detail"]
        r = c.get(f"/api/indices?round={ids['Huế 2026']}&compare={ids['Huế 2026']}", headers=v)
        assert r.status_code == 422 and "itself" in r.json()["detail"]
        assert c.get(f"/api/indices?round={ids['Huế 2026']}&compare=Không có", headers=v).status_code == 404
        # documented in the OpenAPI description
        params = {p["name"]: p for p in c.get("/openapi.json").json()["paths"]["/api/indices"]["get"]["parameters"]}
        assert "same questionnaire" in params["compare"]["description"]

        # the exports and the report carry the page's filters
        q = f"round={ids['Huế 2026']}&agency=SNV&group=gioi_tinh=2&channel=online"
        r = c.get(f"/api/export?{q}&format=csv", headers=v)
        assert r.status_code == 200, r.text
        got = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert len(got) == sum(1 for x in now_rows if x["agency"] == "SNV" and x["gioi_tinh"] == 2) > 0
        r = c.get(f"/api/export?{q}&format=json", headers=v)
        assert r.status_code == 200 and r.json()["indices"]["overall"] == pytest.approx(
            _overall([x for x in now_rows if x["agency"] == "SNV" and x["gioi_tinh"] == 2]), abs=1e-4)
        assert c.get(f"/api/export?{q}&format=xlsx", headers=v).status_code == 200
        assert c.get(f"/api/export?round=Huế 2026&group=tuoi=1&format=csv", headers=v).status_code == 422
        r = c.get(f"/api/report?{q}&format=html", headers=v)
        assert r.status_code == 200 and "Cơ quan: SNV" in r.text and "Nữ" in r.text and "Kênh: Trực tuyến" in r.text
