"""Grid review in real headless Chromium (Debian's chromium, Playwright) against the running `omr serve` of
test_review_ui, on a round of generated scans that share one doubt (a faint dot on criterion 7): a reviewer
opens the grid page signed out, signs in, works the whole round by keyboard alone, corrects two crops of a
grid, undoes a grid and saves it again; the API then shows every item decided once and every decision
audited alone. Screenshots at 1366×768 go to SHOTS (docs/screenshots/ with OMR_UPDATE_SCREENSHOTS=1)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_review_ui import CHROMIUM, SHOTS, _req, browser, service, upload_and_wait, watched_page  # noqa: F401  (fixtures)

from tests._like_scans import like_sheets

VIEW = {"width": 1366, "height": 768}
ROUND = "Lưới 2026"
SHEETS = 26

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"),
]


@pytest.fixture(scope="module")
def grid_round(service, tmp_path_factory):  # noqa: F811
    """A second round on the same server: SHEETS sheets whose c07 carries a faint dot in box 4."""
    port, tok = service["port"], service["tok"]
    st, rnd = _req(port, "POST", "/api/rounds", tok["admin1"], {"name": ROUND, "template": "sipas-2017"})
    assert st == 201, rnd
    files = like_sheets(tmp_path_factory.mktemp("like"), SHEETS, first_serial=500)
    b, info = upload_and_wait(port, tok, ROUND, files)
    assert info["status"] == "done" and info["pages_failed"] == 0, info
    return {"id": rnd["id"], "batch": b["id"]}


@pytest.fixture()
def page(browser):  # noqa: F811
    with watched_page(browser, VIEW) as pg:
        yield pg


def _rendered(page) -> float:  # noqa: ANN001
    return page.evaluate("window.__gridRender ? window.__gridRender.at : 0")


def _press(page, key: str) -> dict:  # noqa: ANN001
    """Press a key that loads another grid (or the end) and wait for it."""
    before = _rendered(page)
    page.keyboard.press(key)
    page.wait_for_function(f"window.__gridRender && window.__gridRender.at > {before}", timeout=20000)
    return page.evaluate("window.__gridRender")


def _cells(page):  # noqa: ANN001, ANN202
    return page.get_by_role("group").locator(".gcell")


def test_a_round_worked_in_grids_by_keyboard(service, grid_round, page):  # noqa: F811
    port, tok, base = service["port"], service["tok"], service["base"]
    st, groups = _req(port, "GET", f"/api/review/groups?round={grid_round['id']}", tok["reviewer1"])
    assert st == 200 and groups["groups"][0]["field_id"] == "c07" and groups["groups"][0]["proposed"] == 4
    big = groups["groups"][0]["count"]
    assert big >= SHEETS // 2, groups  # most sheets: the faint dot on c07
    total = groups["items"]

    # signed out: the grid page sends us to the login, which brings us back; all by keyboard
    page.goto(base + "/ui/grid.html")
    page.wait_for_selector("#login-view:not([hidden])")
    assert "next=" in page.url
    page.keyboard.type("reviewer1")
    page.keyboard.press("Tab")
    page.keyboard.type(tok["reviewer1"])
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/ui/grid\.html$"))
    page.get_by_role("navigation", name="Các trang").wait_for()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("link", name="Duyệt theo lưới").get_attribute("aria-current") == "page"
    page.get_by_label("Đợt khảo sát").select_option(label=ROUND)
    page.get_by_label("Số mục mỗi lưới").select_option("20")
    page.get_by_role("button", name="Bắt đầu").focus()
    first = _press(page, "Enter")
    assert len(first["ids"]) == min(20, big)
    page.get_by_role("heading", name=re.compile("c07")).wait_for()
    page.get_by_text("dấu mờ").first.wait_for()  # the reason, in Vietnamese
    page.wait_for_function("[...document.querySelectorAll('.gcell img')].every(i => i.complete && i.naturalWidth > 0)")
    # correct two crops: the second to 3, the fifth to 5 (arrows move the focus, a digit corrects)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("3")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("5")
    fixed = page.locator(".gcell.fixed")
    assert fixed.count() == 2
    assert re.search(r"^Ô 2, phiếu \d+: 3\b.*\(đã sửa\)$", fixed.nth(0).get_attribute("aria-label"))
    assert page.evaluate("window.__gridRender.fixes") == {str(first["ids"][1]): {"value": 3}, str(first["ids"][4]): {"value": 5}}
    page.get_by_role("button", name=re.compile(r"Lưu cả lưới: 20 mục")).wait_for()
    # O opens the focused crop's whole page alone, in a new tab
    st, fifth = _req(port, "GET", f"/api/review/{first['ids'][4]}", tok["reviewer1"])
    with page.context.expect_page() as popup:
        page.keyboard.press("o")
    popup.value.wait_for_load_state()
    assert popup.value.url.endswith(f"/ui/page.html?id={fifth['page_id']}")
    popup.value.close()
    page.bring_to_front()
    page.screenshot(path=str(SHOTS / "review-grid.png"))

    # Enter saves the whole grid; the next one comes
    second = _press(page, "Enter")
    page.get_by_text("Đã lưu 20 mục (2 ô đã sửa).").wait_for()
    assert second["ids"] and not set(second["ids"]) & set(first["ids"])
    # save the second grid too, then undo it: it comes back, pending and ours, and is saved again
    third = _press(page, "Enter")
    undone = _press(page, "u")
    page.get_by_text(re.compile(r"Đã hoàn tác lưới: \d+ mục trở lại hàng đợi\.")).wait_for()
    assert sorted(undone["ids"]) == sorted(second["ids"]) and third["ids"] != second["ids"]
    page.screenshot(path=str(SHOTS / "review-grid-undo.png"))
    grids = [first["ids"], second["ids"]]
    state = _press(page, "Enter")
    while state["ids"]:
        grids.append(state["ids"])
        state = _press(page, "Enter")
        assert len(grids) < 40
    page.get_by_text("Không còn mục nào để duyệt theo lưới").wait_for()
    page.screenshot(path=str(SHOTS / "review-grid-done.png"))

    # the API: every field item decided once, by reviewer1, and each decision audited alone
    decided = [i for g in grids for i in g]
    assert len(decided) == len(set(decided)) == total
    st, prog = _req(port, "GET", f"/api/progress?round={grid_round['id']}", tok["viewer1"])
    assert prog["left"] == 0 and prog["done"] == total
    by_reviewer = {r["name"]: r["done"] for r in prog["by_reviewer"]}
    assert by_reviewer == {"reviewer1": total}
    audits: dict[int, list[str]] = {}
    values: dict[int, object] = {}
    for iid in decided:
        st, item = _req(port, "GET", f"/api/review/{iid}", tok["viewer1"])
        assert st == 200 and item["state"] == "done" and item["decided_by"] == "reviewer1" and item["source"] == "reviewer"
        values[iid] = item["value"]
        st, log = _req(port, "GET", f"/api/pages/{item['page_id']}/audit", tok["viewer1"])
        entries = [e for e in (log["entries"] if isinstance(log, dict) else log) if e["field_id"] == item["field_id"]]
        audits[iid] = [e["action"] for e in entries]
        assert all(e["user"] == "reviewer1" for e in entries)
    for iid in decided:
        want = ["review", "undo", "review"] if iid in second["ids"] else ["review"]
        assert sorted(audits[iid]) == sorted(want), (iid, audits[iid])
    assert values[first["ids"][1]] == 3 and values[first["ids"][4]] == 5
    assert all(values[i] == 4 for i in first["ids"] if i not in (first["ids"][1], first["ids"][4]))


def test_results_page_shows_the_measured_error_rate_and_intervals(service, grid_round, page):  # noqa: F811
    """The quality sample of the grid round read blind on the check page by keyboard (one reading differs; a
    second reviewer confirms it through the API: an engine mistake), then the results page: the error rate
    with its interval and the warning, as /api/quality says."""
    port, tok, base = service["port"], service["tok"], service["base"]
    rid = grid_round["id"]
    st, _ = _req(port, "PUT", f"/api/quality/settings?round={rid}", tok["admin1"], {"rate": 0.08})
    assert st == 200
    # reviewer1 reads the sample blind on the check page, by keyboard; the first single-choice one differently
    # (signed in on the queue page, then to the check page by its link on the grid page)
    page.goto(base + "/ui/")
    page.wait_for_selector("#login-view:not([hidden])")
    page.keyboard.type("reviewer1")
    page.keyboard.press("Tab")
    page.keyboard.type(tok["reviewer1"])
    page.keyboard.press("Enter")
    page.get_by_role("navigation", name="Các trang").wait_for()
    page.get_by_role("link", name="Duyệt theo lưới").first.click()
    page.wait_for_url(re.compile(r"/ui/grid\.html$"))
    page.wait_for_load_state("networkidle")
    page.get_by_role("navigation", name="Các trang").get_by_role("link", name="Kiểm tra chất lượng").click()  # in the navigation, and beside the grid
    page.wait_for_url(re.compile(r"/ui/check\.html$"))
    page.wait_for_load_state("networkidle")
    page.get_by_label("Đợt khảo sát").select_option(label=ROUND)
    page.get_by_role("button", name="Bắt đầu").focus()
    before = page.evaluate("window.__checkRender ? window.__checkRender.at : 0")
    page.keyboard.press("Enter")
    first_wrong, shot = None, False
    for _ in range(60):
        page.wait_for_function(f"window.__checkRender && window.__checkRender.at > {before}", timeout=20000)
        cid = page.evaluate("window.__checkRender.id")
        if cid is None:
            break
        st, check = _req(port, "GET", f"/api/quality/{cid}", tok["reviewer1"])
        assert "value" not in check and check["stage"] == "first"
        st, pg = _req(port, "GET", f"/api/pages/{check['page_id']}", tok["viewer1"])
        value = pg["fields"][check["field_id"]]["value"]
        if first_wrong is None and check["field_kind"] == "single":  # read differently: a disagreement
            value = next(o["value"] for o in check["options"] if o["value"] != value)
            first_wrong = (cid, value)
        page.keyboard.press("Enter")  # nothing chosen yet: nothing recorded, the page says so
        page.get_by_text("Hãy chọn một phương án").wait_for()
        page.keyboard.press("0" if value is None else str(value))
        if not shot:
            page.wait_for_function("[...document.querySelectorAll('#qc-crop')].every(i => i.complete && i.naturalWidth > 0)")
            page.screenshot(path=str(SHOTS / "review-check.png"))
            shot = True
        before = page.evaluate("window.__checkRender.at")
        page.keyboard.press("Enter")
    page.get_by_text("Không còn câu nào của mẫu kiểm tra chờ bạn đọc").wait_for()
    st, check = _req(port, "GET", f"/api/quality/next?round={rid}", tok["reviewer2"])
    assert check["id"] == first_wrong[0] and check["stage"] == "second"
    assert _req(port, "POST", f"/api/quality/{check['id']}", tok["reviewer2"], {"value": first_wrong[1]})[1]["corrected"]
    st, qual = _req(port, "GET", f"/api/quality?round={rid}", tok["viewer1"])
    assert qual["checked"] == qual["sampled"] >= 10 and qual["wrong"] == 1 and qual["over_limit"]

    page.get_by_role("link", name="Kết quả").click()
    page.wait_for_url(re.compile(r"results\.html$"))
    page.get_by_label("Đợt khảo sát").select_option(label=ROUND)
    page.wait_for_function("window.__qualityRender && window.__qualityRender.quality && window.__qualityRender.quality.round_id === "
                           + str(rid))
    box = page.locator("#rs-quality")
    box.get_by_role("heading", name="Độ tin cậy của kết quả").wait_for()
    lo, hi = qual["ci95"]
    def vi(x: float) -> str:  # noqa: E306
        return f"{round(x * 100, 3)} %".replace(".", ",")
    assert vi(qual["error_rate"]) in box.inner_text() and vi(lo) in box.inner_text() and vi(hi) in box.inner_text()
    box.get_by_role("alert").filter(has_text="Cảnh báo trước khi công bố").wait_for()
    st, ind = _req(port, "GET", f"/api/indices?round={rid}&agencies=true", tok["viewer1"])
    overall_ci = f"{ind['ci95'][0]:.2f}–{ind['ci95'][1]:.2f}".replace(".", ",")
    assert overall_ci in box.locator("#rs-ci").inner_text()
    box.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "results-quality.png"))
    # the admin closing the round is warned first (the upper bound is over the limit); declining keeps it open
    ctx = page.context.browser.new_context(viewport=VIEW, locale="vi-VN")
    admin = ctx.new_page()
    admin.goto(base + "/ui/admin.html")
    admin.wait_for_selector("#login-view:not([hidden])")
    admin.get_by_label("Tên người dùng").fill("admin1")
    admin.get_by_label("Mã truy cập").fill(tok["admin1"])
    admin.get_by_role("button", name="Đăng nhập").click()
    close = admin.get_by_role("button", name=f"Đóng đợt: {ROUND}")
    close.wait_for()
    admin.wait_for_load_state("networkidle")
    seen: list[str] = []
    admin.once("dialog", lambda d: (seen.append(d.message), d.dismiss()))
    close.click()
    admin.locator("#rd-msg").filter(has_text="vượt ngưỡng").wait_for()
    assert seen and "vượt ngưỡng" in seen[0] and ROUND in seen[0]
    assert _req(port, "GET", "/api/rounds", tok["admin1"])[1][-1]["state"] == "open"
    admin.once("dialog", lambda d: d.accept())
    close.click()
    admin.get_by_role("button", name=f"Mở lại: {ROUND}").wait_for()
    assert [r for r in _req(port, "GET", "/api/rounds", tok["admin1"])[1] if r["id"] == rid][0]["state"] == "closed"
    ctx.close()
