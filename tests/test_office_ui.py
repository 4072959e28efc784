"""Issue 11's office pages in real headless Chromium (Debian's chromium, Playwright) against a running
`omr serve` (the module fixture of test_review_ui), at 1366×768 in Vietnamese: navigation by role,
the operator's upload page (type/size checks before sending, a dropped connection retried, a re-sent
file kept once, the live batch list), the admin page and the results page (figures as /api/indices
gives them). Screenshots go to SHOTS (docs/screenshots/ with OMR_UPDATE_SCREENSHOTS=1)."""
from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from test_review_ui import CHROMIUM, ROOT, SHOTS, _req, browser, service, watched_page  # noqa: F401  (fixtures)

VIEW = {"width": 1366, "height": 768}
NAV = {
    "admin1": ["Quản trị", "Thiết kế phiếu", "Tải lên", "Duyệt", "Duyệt theo lưới", "Kiểm tra chất lượng", "Kết quả"],
    "operator1": ["Tải lên", "Kết quả"],
    "reviewer1": ["Duyệt", "Duyệt theo lưới", "Kiểm tra chất lượng", "Kết quả"],
    "viewer1": ["Kết quả"],
}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"),
]


@pytest.fixture()
def page(browser):  # noqa: F811
    with watched_page(browser, VIEW) as pg:
        yield pg


def _login_to(page, base: str, target: str, name: str, token: str) -> None:  # noqa: ANN001
    """Open an office page signed out: it sends us to the login, which brings us back to it."""
    page.goto(f"{base}/ui/{target}")
    page.wait_for_selector("#login-view:not([hidden])")
    assert "next=" in page.url
    page.get_by_label("Tên người dùng").fill(name)
    page.get_by_label("Mã truy cập").fill(token)
    page.get_by_role("button", name="Đăng nhập").click()
    if target:
        page.wait_for_url(re.compile(re.escape(target) + r"$"))
    page.get_by_role("navigation", name="Các trang").wait_for()
    page.wait_for_load_state("networkidle")  # the page's modules have bound their forms (a click before would submit natively)


def _nav_links(page) -> list[str]:  # noqa: ANN001
    return [x.strip() for x in page.get_by_role("navigation", name="Các trang").get_by_role("link").all_inner_texts()]


@pytest.mark.parametrize("user", list(NAV))
def test_navigation_by_role(service, page, user):  # noqa: F811
    base, tok = service["base"], service["tok"]
    page.goto(base + "/ui/")
    page.wait_for_selector("#login-view:not([hidden])")
    page.keyboard.type(user)
    page.keyboard.press("Tab")
    page.keyboard.type(tok[user])
    page.keyboard.press("Enter")
    page.get_by_role("navigation", name="Các trang").wait_for()
    assert _nav_links(page) == NAV[user]
    # by keyboard: focus the results link and follow it with Enter; the results page shows the same links
    page.wait_for_load_state("networkidle")  # the queue page has loaded its rounds (it focuses its start button)
    link = page.get_by_role("link", name="Kết quả")
    link.focus()
    assert page.evaluate("document.activeElement.textContent.trim()") == "Kết quả"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"results\.html$"))
    page.get_by_role("navigation", name="Các trang").wait_for()
    assert _nav_links(page) == NAV[user]
    assert page.get_by_role("link", name="Kết quả").get_attribute("aria-current") == "page"
    # a page the role may not use says so and shows nothing of itself
    if "Tải lên" not in NAV[user]:
        page.goto(base + "/ui/upload.html")
        page.get_by_role("navigation", name="Các trang").wait_for()
        page.get_by_role("alert").filter(has_text="không có quyền").wait_for()
        assert page.locator("#upload-main").is_hidden()
    # English switch
    page.get_by_role("button", name="English").click()
    want = {"Quản trị": "Admin", "Thiết kế phiếu": "Form designer", "Tải lên": "Upload", "Duyệt": "Review", "Duyệt theo lưới": "Grid review", "Kiểm tra chất lượng": "Quality check", "Kết quả": "Results"}
    assert [x.strip() for x in page.get_by_role("navigation", name="Pages").get_by_role("link").all_inner_texts()] == [want[x] for x in NAV[user]]
    page.get_by_role("button", name="Tiếng Việt").click()


def test_upload_page_checks_retries_and_lists_batches(service, page):  # noqa: F811
    base, tok, port = service["base"], service["tok"], service["port"]
    st, rnd = _req(port, "POST", "/api/rounds", tok["admin1"], {"name": "Tải lên 2026", "template": "sipas-2017", "period": "2026"})
    assert st == 201, rnd
    demo = sorted((ROOT / "samples" / "demo").glob("sipas-2017-00000[12]-p*.jpg"))[:3]
    assert len(demo) == 3, demo
    _login_to(page, base, "upload.html", "operator1", tok["operator1"])
    assert _nav_links(page) == NAV["operator1"]
    page.get_by_label("Đợt khảo sát").select_option(label="Tải lên 2026")
    page.get_by_text("mỗi tệp tối đa 300 MB").wait_for()
    page.locator("#up-files").set_input_files([*[{"name": f.name, "mimeType": "image/jpeg", "buffer": f.read_bytes()} for f in demo], {"name": "ghi-chu.txt", "mimeType": "text/plain", "buffer": b"not a scan"},
                                               {"name": "rong.png", "mimeType": "image/png", "buffer": b""}])
    rows = page.locator("#up-list tbody tr")
    assert rows.count() == 5
    assert "loại tệp không nhận" in rows.filter(has_text="ghi-chu.txt").inner_text()
    assert "tệp rỗng" in rows.filter(has_text="rong.png").inner_text()
    # the first request of the second file is dropped on the way: the page sends it again by itself
    dropped: list[str] = []

    def drop_once(route):  # noqa: ANN001, ANN202
        if route.request.method == "POST" and not dropped and demo[1].name.encode() in (route.request.post_data_buffer or b""):
            dropped.append(route.request.url)
            return route.abort("connectionreset")
        return route.continue_()

    page.route("**/api/batches", drop_once)
    send = page.get_by_role("button", name="Gửi 3 tệp")
    send.click()
    for f in demo:
        page.locator("#up-list tbody tr", has_text=f.name).get_by_text("Đã gửi").wait_for(timeout=30000)
    assert dropped, "the connection was never dropped"
    assert page.locator("#up-overall").evaluate("e => e.value === e.max && e.max > 0")
    st, batches = _req(port, "GET", f"/api/batches?round={rnd['id']}", tok["viewer1"])
    assert len(batches) == 3, batches  # the two bad files were never sent, the dropped one once
    # the live list: each batch's pages read as the API counts them
    for _ in range(300):
        st, batches = _req(port, "GET", f"/api/batches?round={rnd['id']}", tok["viewer1"])
        if all(b["status"] in ("done", "failed") for b in batches):
            break
        page.wait_for_timeout(300)
    page.wait_for_timeout(2500)
    for b in batches:
        row = page.locator(f'#up-batches tr[data-batch="{b["id"]}"]')
        assert row.locator("td").nth(3).inner_text() == f"{b['pages_done']}/{b['pages_total']}"
        assert row.locator("td").nth(6).inner_text() == str(b["review_pending"])
        assert "đã đọc xong" in row.inner_text()
    # the same file again: a duplicate by its hash, shown as such, never counted twice
    page.unroute("**/api/batches")
    page.locator("#up-files").set_input_files([demo[0]])
    page.get_by_role("button", name="Gửi 1 tệp").click()
    page.locator("#up-list tbody tr", has_text=demo[0].name).last.get_by_text("Đã gửi").wait_for(timeout=30000)
    page.locator("#up-batches").get_by_text("đã được tải lên trước đó").wait_for(timeout=10000)
    page.screenshot(path=str(SHOTS / "office-upload.png"))


AGENCIES_CSV = "Mã;Tên;Loại;Mã cấp trên;Hoạt động\nTTH;Tỉnh Thừa Thiên Huế;Tỉnh;;Có\nSYT;Sở Y tế;Sở;TTH;Có\n"


def test_admin_page_agencies_accounts_rounds_and_print_runs(service, page, tmp_path):  # noqa: F811
    base, tok, port = service["base"], service["tok"], service["port"]
    _login_to(page, base, "admin.html", "admin1", tok["admin1"])
    assert _nav_links(page) == NAV["admin1"]
    # agencies: a list with errors per row is refused whole, the right one is taken, one added by hand
    bad = tmp_path / "don-vi.csv"
    bad.write_text(AGENCIES_CSV + "X Y;Tên;Phường;NOPE;Có\n", encoding="utf-8")
    page.get_by_label("Tệp danh sách").set_input_files(str(bad))
    page.get_by_role("button", name="Nhập danh sách").click()
    page.get_by_text("Không nhập gì cả").wait_for()
    errs = page.get_by_role("list", name="Lỗi theo dòng").get_by_role("listitem").all_inner_texts()
    assert errs and all(x.startswith("Dòng 4") for x in errs), errs
    assert _req(port, "GET", "/api/agencies", tok["viewer1"])[1] == []
    good = tmp_path / "don-vi-dung.csv"
    good.write_text(AGENCIES_CSV, encoding="utf-8")
    page.get_by_label("Tệp danh sách").set_input_files(str(good))
    page.get_by_role("button", name="Nhập danh sách").click()
    page.get_by_text("Đã nhập 2 dòng: 2 cơ quan mới").wait_for()
    assert page.get_by_role("list", name="Lỗi theo dòng").get_by_role("listitem").count() == 0
    form = page.get_by_role("form", name="Thêm cơ quan")
    form.get_by_label("Mã", exact=True).fill("SNV")
    form.get_by_label("Tên", exact=True).fill("Sở Nội vụ")
    form.get_by_label("Mã cấp trên").fill("TTH")
    form.get_by_role("button", name="Thêm cơ quan").click()
    page.locator("#ag-table tr", has_text="Sở Nội vụ").wait_for()
    ags = {a["code"]: a for a in _req(port, "GET", "/api/agencies", tok["viewer1"])[1]}
    assert ags["SNV"]["name"] == "Sở Nội vụ" and ags["SNV"]["parent"] == "TTH" and ags["SNV"]["kind"] == "so"
    # accounts: the token shown once works; a new token replaces it; disabling is refused at sign-in
    uf = page.get_by_role("form", name="Tạo tài khoản")
    uf.get_by_label("Tên người dùng").fill("thu_ky")
    uf.get_by_label("Vai trò").select_option("operator")
    uf.get_by_role("button", name="Tạo tài khoản").click()
    page.get_by_text("chỉ hiện một lần").wait_for()
    token1 = page.locator("#us-token").inner_text().rsplit(" ", 1)[1]
    assert _req(port, "GET", "/api/me", token1) == (200, {"name": "thu_ky", "role": "operator"})
    page.get_by_role("button", name="Cấp mã mới: thu_ky").click()
    page.wait_for_function("t => !document.getElementById('us-token').textContent.endsWith(t)", arg=token1)
    token2 = page.locator("#us-token").inner_text().rsplit(" ", 1)[1]
    assert _req(port, "GET", "/api/me", token1)[0] == 401 and _req(port, "GET", "/api/me", token2)[0] == 200
    page.get_by_role("button", name="Tắt: thu_ky").click()
    page.get_by_role("button", name="Bật: thu_ky").wait_for()
    assert _req(port, "GET", "/api/me", token2)[0] == 401
    # rounds: created from a template with targets, closed and reopened
    rf = page.get_by_role("form", name="Tạo đợt khảo sát")
    rf.get_by_label("Tên đợt").fill("Đợt in 2026")
    rf.get_by_label("Mẫu phiếu").select_option("sipas-2017")
    rf.get_by_label("Kỳ").fill("2026")
    rf.get_by_label("Mẫu mục tiêu").fill("SNV=50, SYT=30")
    rf.get_by_role("button", name="Tạo đợt").click()
    page.get_by_role("button", name="Đóng đợt: Đợt in 2026").click()
    page.get_by_role("button", name="Mở lại: Đợt in 2026").wait_for()
    rnd = next(r for r in _req(port, "GET", "/api/rounds", tok["viewer1"])[1] if r["name"] == "Đợt in 2026")
    assert rnd["state"] == "closed" and rnd["targets"] == {"SNV": 50, "SYT": 30}
    page.get_by_role("button", name="Mở lại: Đợt in 2026").click()
    page.get_by_role("button", name="Đóng đợt: Đợt in 2026").wait_for()
    # print runs: a PDF downloaded with the next serials, then listed with its response rate
    pf = page.get_by_role("form", name="In phiếu")
    pf.get_by_label("Đợt khảo sát").select_option(label="Đợt in 2026")
    pf.get_by_label("Cơ quan").select_option("SNV")
    pf.get_by_label("Số phiếu").fill("5")
    with page.expect_download() as dl:
        pf.get_by_role("button", name="Tải tệp PDF để in").click()
    path = dl.value.path()
    assert Path(path).read_bytes()[:5] == b"%PDF-" and dl.value.suggested_filename.endswith(".pdf")
    row = page.locator("#pr-table tbody tr", has_text="SNV")
    row.wait_for()
    runs = _req(port, "GET", f"/api/rounds/{rnd['id']}/print-runs", tok["viewer1"])[1]
    assert len(runs) == 1 and runs[0]["count"] == 5 and runs[0]["agency"] == "SNV"
    cells = row.locator("td").all_inner_texts()
    assert cells[1] == f"{runs[0]['first_serial']}–{runs[0]['last_serial']}" and cells[2] == "5" and cells[3] == "0" and cells[4] == "0,0%"
    page.screenshot(path=str(SHOTS / "office-admin.png"), full_page=False)
    page.screenshot(path=str(SHOTS / "office-admin-full.png"), full_page=True)


def _fig(x) -> str:  # noqa: ANN001
    """The figure as the page writes it: at the published precision (2 decimals, half away from zero on the
    number as JSON gives it), with a decimal comma (60.0 → "60,00"); tests/test_results_page.py checks the rest."""
    if x is None:
        return "–"
    return f"{Decimal(repr(float(x))).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}".replace(".", ",")


def _check_figures(page, api: dict) -> None:  # noqa: ANN001
    assert page.locator("#rs-overall").inner_text() == _fig(api["overall"])
    assert f"n = {api['n']} " in page.locator("#rs-overall-n").inner_text()
    assert f"{api['pending_review']} mục chờ duyệt" in page.locator("#rs-overall-n").inner_text()
    for e in api["elements"]:
        cells = page.locator(f'#rs-elements tr[data-element="{e["id"]}"]').locator("th, td").all_inner_texts()
        assert cells[1:] == [_fig(e["index"]), str(e["n"]), str(e["pending"])], (e["id"], cells)
        for c in e["criteria"]:
            cells = page.locator(f'#rs-elements tr[data-criterion="{c["id"]}"] td').all_inner_texts()
            assert cells[1:] == [_fig(c["index"]), str(c["n"]), str(c["pending"])], (c["id"], cells)


def test_results_page_shows_the_indices_as_the_api_gives_them(service, page):  # noqa: F811
    base, tok, port, rid = service["base"], service["tok"], service["port"], service["round"]
    _login_to(page, base, f"results.html", "viewer1", tok["viewer1"])
    assert _nav_links(page) == NAV["viewer1"]
    page.get_by_label("Đợt khảo sát").select_option(str(rid))
    st, api = _req(port, "GET", f"/api/indices?round={rid}&agencies=true", tok["viewer1"])
    assert st == 200 and api["elements"], api
    page.wait_for_function("v => document.getElementById('rs-overall').textContent === v", arg=_fig(api["overall"]))
    _check_figures(page, api)
    ranking = page.locator("#rs-ranking tbody tr")
    assert ranking.count() == max(1, len(api["agencies"]))
    for row, a in zip(ranking.all(), api["agencies"]):
        cells = row.locator("td").all_inner_texts()
        assert cells[0] == ("–" if a["rank"] is None else str(a["rank"])) and cells[2] == _fig(a["overall"]) and cells[3] == str(a["n"])
    # the charts are drawn by the vendored Chart.js, served by the service itself
    assert page.evaluate("typeof Chart") == "function"
    assert page.evaluate("Chart.getChart('rs-chart-elements').data.datasets[0].data") == [e["index"] for e in api["elements"]]
    # the channel filter asks the server again: online answers (none here) and paper ones
    page.get_by_label("Kênh").select_option(label="Trực tuyến")
    st, online = _req(port, "GET", f"/api/indices?round={rid}&agencies=true&channel=online", tok["viewer1"])
    page.wait_for_function("v => document.getElementById('rs-overall').textContent === v", arg=_fig(online["overall"]))
    _check_figures(page, online)
    page.get_by_label("Kênh").select_option(label="Giấy")
    st, paper = _req(port, "GET", f"/api/indices?round={rid}&agencies=true&channel=paper", tok["viewer1"])
    page.wait_for_function("v => document.getElementById('rs-overall').textContent === v", arg=_fig(paper["overall"]))
    _check_figures(page, paper)
    # downloads: every link answers with a file
    for name in ("CSV", "XLSX (Excel)", "SPSS (.sav)", "JSON", "Báo cáo (PDF)"):
        href = page.get_by_role("link", name=name, exact=True).get_attribute("href")
        r = page.request.get(base + href)
        assert r.status == 200 and len(r.body()) > 50, (name, r.status)
    assert page.request.get(base + "/ui/vendor/chart.umd.min.js").status == 200
    page.screenshot(path=str(SHOTS / "office-results.png"))
    page.get_by_role("button", name="English").click()
    page.get_by_role("heading", name="Overall satisfaction index").wait_for()
