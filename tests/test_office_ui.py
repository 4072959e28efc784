"""Issue 11's office pages in real headless Chromium (Debian's chromium, Playwright) against a running
`omr serve` (the module fixture of test_review_ui), at 1366×768 in Vietnamese: navigation by role,
the operator's upload page (type/size checks before sending, a dropped connection retried, a re-sent
file kept once, the live batch list), the admin page and the results page (figures as /api/indices
gives them). Screenshots go to SHOTS (docs/screenshots/ with OMR_UPDATE_SCREENSHOTS=1)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_review_ui import CHROMIUM, ROOT, SHOTS, _req, browser, service  # noqa: F401  (fixtures)

VIEW = {"width": 1366, "height": 768}
NAV = {
    "admin1": ["Quản trị", "Tải lên", "Duyệt", "Kết quả"],
    "operator1": ["Tải lên", "Kết quả"],
    "reviewer1": ["Duyệt", "Kết quả"],
    "viewer1": ["Kết quả"],
}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"),
]


@pytest.fixture()
def page(browser):  # noqa: F811
    ctx = browser.new_context(viewport=VIEW, locale="vi-VN")
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("dialog", lambda d: (errors.append("dialog: " + d.message), d.dismiss()))
    yield pg
    ctx.close()
    assert not errors, errors


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
    link = page.get_by_role("link", name="Kết quả")
    link.focus()
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
    want = {"Quản trị": "Admin", "Tải lên": "Upload", "Duyệt": "Review", "Kết quả": "Results"}
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
