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
import random
import re
import urllib.parse
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from test_review_ui import CHROMIUM, SHOTS, _req, browser, service, watched_page  # noqa: F401  (fixtures)

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

        # the round and its agencies from one pass (agencies=true) are the figures of the separate calls, also
        # with answers of no agency (they count for the round, in no agency's row)
        r = c.post("/api/rounds", headers=_h(tok["admin"]), json={"name": "Huế trộn", "template": "hue-2017"})
        mix = r.json()["id"]
        _import(c, tok, mix, _online_csv(20, seed=31)[0], "mix.csv")
        first = c.get(f"/api/indices?round={mix}&agencies=true", headers=v).json()
        assert first["n"] == 20 and c.get(f"/api/indices?round={mix}&agencies=true", headers=v).json() == first  # served again
        r = c.post(f"/api/rounds/{mix}/imports", headers=_h(tok["admin"]), files={"file": ("khong-don-vi.csv", _online_csv(6, seed=32)[0].encode())},
                   data={"mapping": json.dumps({**MAPPING, "Mã đơn vị": "skip"})})
        assert r.status_code == 200 and r.json()["taken"] == 6, r.text
        from omr.template import load_template
        from service import tallies

        t = load_template("hue-2017")
        with c.app.state.factory() as s:
            for f in ({}, {"groups": {"gioi_tinh": [1]}}, {"channel": "online"}, {"channel": "paper"}):
                whole, per = tallies.indices_with_agencies(s, t, mix, **f)
                assert whole.to_json() == tallies.indices(s, t, mix, **f).to_json(), f
                assert {a: x.to_json() for a, x in per.items()} == {a: x.to_json() for a, x in tallies.indices_by_agency(s, t, mix, **f).items()}, f
            assert whole.n == 0 and tallies.indices(s, t, mix).n == 26 and set(tallies.indices_by_agency(s, t, mix)) == {"SNV", "STP"}
        d = c.get(f"/api/indices?round={mix}&agencies=true", headers=v).json()  # the import committed: new figures
        assert d["n"] == 26 and sum(a["n"] for a in d["agencies"]) == 20 and d["sheets"] == 26

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


# ---------------------------------------------------------------------------------------------- in Chromium
VIEW = {"width": 1366, "height": 768}


def in_chromium(fn):  # noqa: ANN001, ANN201
    """The marks of a browser test (as tests/test_office_ui.py's, which marks its whole module)."""
    for m in (pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed at /usr/bin/chromium")):
        fn = m(fn)
    return fn


def _vi(x, dec: int = 2, lang: str = "vi") -> str:  # noqa: ANN001
    """A figure as the page writes it (Intl.NumberFormat): the number as JSON writes it, rounded half away from
    zero (63.165 → 63,17), digits grouped; Vietnamese 1.234,56, English 1,234.56; None is "–"."""
    if x is None:
        return "–"
    q = Decimal(repr(x)).quantize(Decimal(1).scaleb(-dec), rounding=ROUND_HALF_UP)
    s = f"{q:,.{dec}f}"
    return s.replace(",", " ").replace(".", ",").replace(" ", ".") if lang == "vi" else s


def _points(x, lang: str = "vi") -> str:  # noqa: ANN001
    """A change as the page writes it: ▲ +2,35 / ▼ −1,20 / 0,00 / –."""
    if x is None:
        return "–"
    s = _vi(abs(x), 2, lang)
    if not any(ch in "123456789" for ch in s):
        return s
    return f"▲ +{s}" if x > 0 else f"▼ −{s}"


def _sipas_csv(n: int, seed: int, agencies=("SNV", "STP")) -> tuple[str, dict]:  # noqa: ANN001
    """n online answers to sipas-2017 (headers are the question ids; a fifth of the criteria left empty) and their mapping."""
    rng = random.Random(seed)
    crit = [f"c{k:02d}" for k in range(1, 23)]
    cols = ["gioi_tinh", "do_tuoi", "trinh_do", "nghe_nghiep", *crit, "linh_vuc", "agency"]
    lines = [",".join(cols)]
    for _ in range(n):
        row = [rng.choice([1, 2]), rng.randint(1, 5), rng.randint(1, 6), rng.randint(1, 7)]
        row += [rng.choice(["", 1, 2, 3, 4, 4, 5, 5, 5]) for _ in crit]
        row += [rng.randint(1, 6), rng.choice(agencies)]
        lines.append(",".join(map(str, row)))
    return "\n".join(lines) + "\n", {c: c for c in cols}


def _import_online(port: int, token: str, rid: int, text: str, mapping: dict, name: str) -> dict:
    boundary = "b0undaryRS"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\nContent-Type: text/csv\r\n\r\n'
            f"{text}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"mapping\"\r\n\r\n{json.dumps(mapping)}\r\n"
            f"--{boundary}--\r\n").encode()
    st, rep = _req(port, "POST", f"/api/rounds/{rid}/imports", token, body, f"multipart/form-data; boundary={boundary}")
    assert st == 200 and rep["taken"] > 0 and rep["refused"] == 0, rep
    return rep


@pytest.fixture(scope="module")
def office(service):  # noqa: F811
    """The module's service (paper sheets of "Demo 2025" read and waiting for review) plus online answers in the
    same round, an earlier round of the same questionnaire, and a round of another questionnaire."""
    port, tok = service["port"], service["tok"]
    boundary = "b0undaryAG"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="don-vi.csv"\r\nContent-Type: text/csv\r\n\r\n'
            f"{AGENCIES_CSV}\r\n--{boundary}--\r\n").encode()
    st, rep = _req(port, "POST", "/api/agencies/import", tok["admin1"], body, f"multipart/form-data; boundary={boundary}")
    assert st == 200, rep
    text, mapping = _sipas_csv(24, seed=3)
    _import_online(port, tok["admin1"], service["round"], text, mapping, "truc-tuyen-2025.csv")
    ids = {"Demo 2025": service["round"]}
    for name, tpl in (("Demo 2024", "sipas-2017"), ("Huế 2024", "hue-2017")):
        st, r = _req(port, "POST", "/api/rounds", tok["admin1"], {"name": name, "template": tpl, "period": "2024"})
        assert st == 201, r
        ids[name] = r["id"]
    text, mapping = _sipas_csv(30, seed=4)
    _import_online(port, tok["admin1"], ids["Demo 2024"], text, mapping, "truc-tuyen-2024.csv")
    return {**service, "ids": ids}


@pytest.fixture()
def page(browser):  # noqa: F811
    with watched_page(browser, VIEW) as pg:
        yield pg


def _open(page, office, query: str = "", user: str = "viewer1") -> None:  # noqa: ANN001
    """Open the results page signed out, with a view in the URL: the login brings us back to that view."""
    page.goto(f"{office['base']}/ui/results.html{query}")
    page.wait_for_selector("#login-view:not([hidden])")
    page.get_by_label("Tên người dùng").fill(user)
    page.get_by_label("Mã truy cập").fill(office["tok"][user])
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/results.html*")
    _drawn(page)


def _drawn(page) -> None:  # noqa: ANN001
    page.wait_for_selector("body[data-charts-drawn]", timeout=30000)


def _api(office, **params) -> dict:  # noqa: ANN001
    q = urllib.parse.urlencode([(k, x) for k, v in params.items() for x in (v if isinstance(v, list) else [v])])
    st, d = _req(office["port"], "GET", f"/api/indices?{q}", office["tok"]["viewer1"])
    assert st == 200, d
    return d


def _check(page, d: dict, lang: str = "vi") -> None:  # noqa: ANN001
    """Every figure on the page is the API's, formatted: overall, n, each element and criterion, and (with a
    comparison) the signed points beside each."""
    assert page.locator("#rs-overall").inner_text() == _vi(d["overall"], 2, lang)
    n_line = page.locator("#rs-overall-n").inner_text()
    assert n_line.startswith(f"n = {_vi(d['n'], 0, lang)} ") and f" {_vi(d['pending_review'], 0, lang)} " in n_line, n_line
    cmp = "change" in d
    for e in d["elements"]:
        cells = page.locator(f'#rs-elements tr[data-element="{e["id"]}"]').locator("th, td").all_inner_texts()
        want = [_vi(e["index"], 2, lang), *([_points(e["change"], lang)] if cmp else []), _vi(e["n"], 0, lang), _vi(e["pending"], 0, lang)]
        assert cells[1:] == want, (e["id"], cells, want)
        for c in e["criteria"]:
            cells = page.locator(f'#rs-elements tr[data-criterion="{c["id"]}"] td').all_inner_texts()
            want = [_vi(c["index"], 2, lang), *([_points(c["change"], lang)] if cmp else []), _vi(c["n"], 0, lang), _vi(c["pending"], 0, lang)]
            assert cells[1:] == want, (c["id"], cells, want)
    # the charts hold the API's numbers as they are (no rounding, no arithmetic)
    assert page.evaluate("Chart.getChart('rs-chart-elements').data.datasets[0].data") == [e["index"] for e in d["elements"]]
    crits = [c for e in d["elements"] for c in e["criteria"]]
    ds = page.evaluate("Chart.getChart('rs-chart-dist').data.datasets.map(x => ({key: x.key, data: x.data, counts: x.counts}))")
    assert [x["key"] for x in ds] == [*(str(lv["value"]) for lv in d["levels"]), "no_answer"]
    for x in ds:
        assert x["data"] == [c["shares"][x["key"]] for c in crits], x["key"]
        assert x["counts"] == [(c["no_answer"] if x["key"] == "no_answer" else c["distribution"][x["key"]]) for c in crits], x["key"]


def _check_ranking(page, d: dict) -> None:  # noqa: ANN001
    rows = page.locator("#rs-ranking tbody tr")
    assert rows.count() == max(1, len(d["agencies"]))
    for row, a in zip(rows.all(), d["agencies"]):
        cells = row.locator("td").all_inner_texts()
        assert cells[0] == ("–" if a["rank"] is None else str(a["rank"])) and cells[2] == _vi(a["overall"]), (a, cells)
        if "change" in a:
            assert cells[3] == _points(a["change"]) and cells[4] == _vi(a["n"], 0), (a, cells)
        else:
            assert cells[3] == _vi(a["n"], 0), (a, cells)


def _query(page) -> dict:  # noqa: ANN001
    return urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)


@in_chromium
def test_results_page_figures_distribution_filters_and_comparison(office, page):
    ids, rid = office["ids"], office["ids"]["Demo 2025"]
    _open(page, office, f"?round={rid}&channel=paper")
    assert _query(page) == {"round": [str(rid)], "channel": ["paper"]}  # a shared link survives the login
    assert page.get_by_label("Kênh").input_value() == "paper"
    page.get_by_label("Kênh").select_option(label="Tất cả")
    _drawn(page)
    d = _api(office, round=rid, agencies="true")
    paper, online = _api(office, round=rid, channel="paper"), _api(office, round=rid, channel="online")
    assert paper["sheets"] > 0 and online["sheets"] == 24 and d["sheets"] == paper["sheets"] + online["sheets"]
    assert d["n"] >= 1000 or "." not in _vi(d["n"], 0)  # n is grouped as 1.234 once it reaches thousands
    _check(page, d)
    _check_ranking(page, d)
    assert page.locator("#rs-overall").inner_text().count(",") == 1 and len(page.locator("#rs-overall").inner_text().split(",")[1]) == 2
    assert page.locator("#rs-quality").count() == 1  # the place left for the intervals / quality block
    page.screenshot(path=str(SHOTS / "office-results.png"))

    # filters: each asks the server again, the figures follow and the URL keeps the view
    page.get_by_label("Kênh").select_option(label="Trực tuyến")
    _drawn(page)
    assert _query(page)["channel"] == ["online"]
    _check(page, _api(office, round=rid, channel="online"))
    page.get_by_label("Giới tính").select_option(label="Nữ")
    _drawn(page)
    q = _query(page)
    assert q["group"] == ["gioi_tinh=2"] and q["channel"] == ["online"]
    women = _api(office, round=rid, channel="online", group="gioi_tinh=2")
    assert women["n"] < online["n"]
    _check(page, women)
    # the export links carry the filters in force, and each answers with a file
    names = ("CSV", "XLSX (Excel)", "SPSS (.sav)", "JSON", "Báo cáo (PDF)")
    for name in names:
        href = page.get_by_role("link", name=name, exact=True).get_attribute("href")
        hq = urllib.parse.parse_qs(urllib.parse.urlsplit(href).query)
        assert hq["channel"] == ["online"] and hq["group"] == ["gioi_tinh=2"] and hq["round"] == [str(rid)], href
        r = page.request.get(office["base"] + href)
        assert r.status == 200 and len(r.body()) > 50, (name, r.status)
    js = page.request.get(office["base"] + page.get_by_role("link", name="JSON", exact=True).get_attribute("href")).json()
    assert js["indices"]["overall"] == women["overall"]
    # the view in the URL is shared: opened again, the same controls and figures
    shared = page.url
    page.goto(shared)
    _drawn(page)
    assert page.get_by_label("Kênh").input_value() == "online" and page.get_by_label("Giới tính").input_value() == "2"
    _check(page, women)
    # a period: typed, applied with Enter; nothing received in 2020
    page.get_by_label("Thời gian nhận phiếu").fill("2020")
    page.get_by_label("Thời gian nhận phiếu").press("Enter")
    page.wait_for_function("() => new URLSearchParams(location.search).get('period') === '2020'")
    _drawn(page)
    empty = _api(office, round=rid, channel="online", group="gioi_tinh=2", period="2020")
    assert empty["n"] == 0 and empty["overall"] is None
    _check(page, empty)
    page.get_by_label("Thời gian nhận phiếu").fill("2020-13")
    page.get_by_label("Thời gian nhận phiếu").press("Enter")
    page.get_by_role("alert").filter(has_text="2020-13").wait_for()
    assert page.locator("#rs-overall").inner_text() == ""  # no stale figures under a filter that was refused

    # one agency: its figures, the ranking still of every agency (its row marked)
    page.goto(f"{office['base']}/ui/results.html?round={rid}")
    _drawn(page)
    page.get_by_role("combobox", name=re.compile("^Cơ quan")).select_option("SNV")
    _drawn(page)
    assert _query(page)["agency"] == ["SNV"]
    _check(page, _api(office, round=rid, agency="SNV"))
    _check_ranking(page, _api(office, round=rid, agencies="true"))
    assert "SNV · Sở Nội vụ" in page.locator("#rs-ranking tr.mine").inner_text()  # the name from the list of agencies
    page.screenshot(path=str(SHOTS / "office-results-agency.png"))

    # comparison: only rounds of the same questionnaire are offered; the signed points per element and agency
    page.get_by_role("combobox", name=re.compile("^Cơ quan")).select_option("")
    _drawn(page)
    offered = page.locator("#rs-compare option").all_inner_texts()
    assert offered == ["Không so sánh", "Demo 2024 (2024)"], offered
    page.get_by_label("So sánh với đợt").select_option(label="Demo 2024 (2024)")
    _drawn(page)
    assert _query(page)["compare"] == [str(ids["Demo 2024"])]
    c = _api(office, round=rid, agencies="true", compare=ids["Demo 2024"])
    assert c["change"] is not None and any(e["change"] for e in c["elements"])
    _check(page, c)
    _check_ranking(page, c)
    line = page.locator("#rs-overall-change").inner_text()
    assert line.startswith(_points(c["change"])) and "Demo 2024" in line and _vi(c["previous"]) in line, line
    assert page.evaluate("Chart.getChart('rs-chart-elements').data.datasets[1].data") == [e["previous"] for e in c["elements"]]
    page.screenshot(path=str(SHOTS / "office-results-compare.png"))
    page.screenshot(path=str(SHOTS / "office-results-compare-full.png"), full_page=True)

    # English: the same figures with a decimal point and English words
    page.get_by_role("button", name="English").click()
    page.get_by_role("heading", name="Overall satisfaction index").wait_for()
    _drawn(page)
    _check(page, c, "en")
    assert page.get_by_role("columnheader", name="Change (points)").first.is_visible()
    page.screenshot(path=str(SHOTS / "office-results-en.png"))
    page.get_by_role("button", name="Tiếng Việt").click()


@in_chromium
def test_results_page_controls_by_keyboard(office, page):
    rid = office["ids"]["Demo 2025"]
    _open(page, office, f"?round={rid}")
    page.locator("#rs-round").focus()
    seen = []
    for _k in range(16):
        seen.append(page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()"))
        page.keyboard.press("Tab")
    want = ["rs-round", "rs-agency", "rs-channel", "rs-period", "rs-compare", "Xem", "rs-group-gioi_tinh", "rs-group-do_tuoi",
            "rs-group-trinh_do", "rs-group-nghe_nghiep", "rs-group-linh_vuc", "CSV"]
    assert seen[: len(want)] == want, seen
    # a bare results.html shows the newest round and keeps its URL bare until the reader chooses something;
    # a select changed by keyboard alone applies at once, and the URL names the whole view
    page.goto(f"{office['base']}/ui/results.html")
    _drawn(page)
    assert page.url.endswith("/ui/results.html") and page.locator("#rs-round").input_value() == str(office["ids"]["Huế 2024"])
    page.get_by_label("Đợt khảo sát").select_option(str(rid))
    _drawn(page)
    page.evaluate("window.__views = []; document.addEventListener('rs:view', (e) => window.__views.push(e.detail.query))")
    page.locator("#rs-channel").focus()
    page.keyboard.press("ArrowDown")
    _drawn(page)
    assert _query(page) == {"round": [str(rid)], "channel": ["paper"]}
    assert page.evaluate("window.__views") == [f"round={rid}&channel=paper"]  # what a module in #rs-quality learns
    _check(page, _api(office, round=rid, channel="paper"))
