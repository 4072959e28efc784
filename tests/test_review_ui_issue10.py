"""Issue 10 in the review pages, in real headless Chromium against a running `omr serve` (1366×768, Vietnamese).

Module-level tests pass against today's server (the UI falls back where the API has not grown yet):
role lines (item 20); free text never prefilled, shortcuts before typing, Enter on an empty box
stores nothing (21); two-marks items without a proposal (6); duplicates side by side (1); a refused
placement says why (7); 401 back to the login; the page view's table fits at 1366 px (21); batch
labels counting pages live (21).

`TestNeedsIssue10Server` needs the service side of issue 10 (docs: /work/notes/review-api-contract.md):
the CSRF header from the login's `csrf`, `revision` echoed in every decision and a 409 naming who won,
`marks` and `{"invalid": true}`, manual entry through `/api/templates/{id}/{version}/geometry`,
`fields_read` after placing a page, option `label`s in `/api/pages/{id}`, the login's 429 with
Retry-After. They fail until that lands.
"""
from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from test_review_ui import CHROMIUM, ROOT, SHOTS, _demo_files, _req

VIEW = {"width": 1366, "height": 768}
REVIEWERS = ("rv_text", "rv_two", "rv_dup", "rv_place", "rv_manual", "rv_conflict", "rv_401", "rv_x", "rv_csrf")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed at /usr/bin/chromium (apt-get install chromium)"),
]


def _multipart(fields: dict[str, str], files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = "b0undary10"
    body = b""
    for k, v in fields.items():
        body += f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
    for name, data in files:
        body += (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
                 f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + b"\r\n"
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _upload(port: int, token: str, round_name: str, files: list[tuple[str, bytes]]) -> int:
    body, ctype = _multipart({"round": round_name}, files)
    st, b = _req(port, "POST", "/api/batches", token, body, ctype)
    assert st == 201, b
    return b["id"]


def _wait_batch(port: int, token: str, batch: int) -> dict:
    for _ in range(1200):
        st, info = _req(port, "GET", f"/api/batches/{batch}", token)
        if info["status"] in ("done", "failed"):
            return info
        time.sleep(0.3)
    raise AssertionError(f"batch {batch} was not read: {info}")


def _second_batch_files() -> list[tuple[str, bytes]]:
    """A re-encoded copy of sheet 000004 page 1 (a duplicate serial) and page 2 of it with its QR code and
    printed serial painted out (markers found, identity unreadable: the engine can read it once placed)."""
    from PIL import Image, ImageDraw

    demo = ROOT / "samples" / "demo"
    dup = io.BytesIO()
    Image.open(demo / "sipas-2017-000004-p1.jpg").save(dup, "JPEG", quality=88)
    im = Image.open(demo / "sipas-2017-000004-p2.jpg").convert("L")
    s = im.size[0] / 210
    ImageDraw.Draw(im).rectangle([int(16 * s), int(262 * s), int(194 * s), im.size[1] - 1], fill=255)
    noid = io.BytesIO()
    im.save(noid, "PNG")
    return [("copy-000004-p1.jpg", dup.getvalue()), ("no-serial-000004-p2.png", noid.getvalue())]


def _all_items(port: int, token: str) -> list[dict]:
    out = []
    for i in range(1, 400):
        st, it = _req(port, "GET", f"/api/review/{i}", token)
        if st == 404:
            break
        out.append(it)
    return out


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ui10")
    common = ["--data-dir", str(tmp / "data"), "--database", f"sqlite:///{tmp / 'db.sqlite'}"]
    omr = [sys.executable, "-m", "omr.cli"]
    env = dict(os.environ, OMR_WORKERS="2")
    tok = {}
    accounts = [("admin1", "admin"), ("operator1", "operator"), ("viewer1", "viewer"), ("reviewer1", "reviewer")]
    for name, role in accounts + [(r, "reviewer") for r in REVIEWERS]:
        tok[name] = subprocess.run(omr + ["user", "add", name, "--role", role] + common, env=env, cwd=ROOT, capture_output=True,
                                   text=True, check=True).stdout.strip()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(tmp / "serve.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(omr + ["serve", "--port", str(port)] + common, env=env, cwd=ROOT, start_new_session=True,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/me", timeout=2)
            except urllib.error.HTTPError:
                break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError((tmp / "serve.log").read_text()) from None
                time.sleep(0.2)
        st, rnd = _req(port, "POST", "/api/rounds", tok["admin1"], {"name": "Đợt 1/2026", "template": "sipas-2017", "period": "2026"})
        assert st == 201, rnd
        b1 = _upload(port, tok["operator1"], rnd["name"], [(f.name, f.read_bytes()) for f in _demo_files(tmp)])
        _wait_batch(port, tok["viewer1"], b1)
        b2 = _upload(port, tok["operator1"], rnd["name"], _second_batch_files())
        _wait_batch(port, tok["viewer1"], b2)
        items = _all_items(port, tok["viewer1"])
        # each test works on its own items, claimed for its own reviewer: the UI's preloading never takes another test's item
        pick = {
            "rv_text": [i for i in items if i["field_kind"] == "text"][:2],
            "rv_two": [i for i in items if i["field_kind"] == "single" and i["status"] == "multiple"][:1],
            "rv_x": [i for i in items if i["field_kind"] == "single" and i["status"] == "multiple"][1:2],
            "rv_dup": [i for i in items if i["reason"] == "duplicate sheet"][:1],
            "rv_place": [i for i in items if i["reason"] == "page of another form"][:1]
                        + [i for i in items if i["reason"] == "unrecognized page" and i["batch_id"] == b2][:1],
            "rv_manual": [i for i in items if i["reason"] == "unrecognized page" and i["batch_id"] == b1][:1],
            "rv_conflict": [i for i in items if i["field_kind"] == "single" and i["status"] == "uncertain"][:2],
            "rv_csrf": [i for i in items if i["field_kind"] == "single" and i["status"] == "uncertain"][2:3],
        }
        for name, mine in pick.items():
            assert mine, f"the demo batches have no item for {name}"
            for it in mine:
                _claim(port, tok[name], it, items)
        yield {"port": port, "tok": tok, "base": f"http://127.0.0.1:{port}", "round": rnd, "batches": (b1, b2),
               "items": items, "pick": pick, "tmp": tmp}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()


def _claim(port: int, token: str, item: dict, items: list[dict]) -> None:
    """Claim exactly `item` for the reviewer (or renew their claim): next, excluding every other item of its batch."""
    others = ",".join(str(i["id"]) for i in items if i["id"] != item["id"] and i["batch_id"] == item["batch_id"])
    st, got = _req(port, "GET", f"/api/review/next?batch={item['batch_id']}&order=page&exclude={others}", token)
    assert st == 200 and got["id"] == item["id"], (st, got)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()


class Session:
    """One reviewer's browser tab, logged in through the form."""

    def __init__(self, browser, svc, name: str) -> None:  # noqa: ANN001
        self.ctx = browser.new_context(viewport=VIEW, locale="vi-VN")
        self.page = self.ctx.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.errors.append("dialog: " + d.message), d.dismiss()))
        self.svc, self.name = svc, name
        pg = self.page
        pg.goto(svc["base"] + "/ui/")
        pg.get_by_label("Tên người dùng").fill(name)
        pg.get_by_label("Mã truy cập").fill(svc["tok"][name])
        pg.get_by_role("button", name="Đăng nhập").click()
        pg.wait_for_selector("#choose-view:not([hidden])")

    def queue(self, item: dict) -> dict:
        """Open the queue of the item's batch; the reviewer's own claim comes first."""
        _claim(self.svc["port"], self.svc["tok"][self.name], item, self.svc["items"])
        pg = self.page
        pg.goto(f"{self.svc['base']}/ui/?round={item['round_id']}&batch={item['batch_id']}&order=page")
        pg.wait_for_selector("#item:not([hidden])")
        for _ in range(6):  # another of the reviewer's own items may come first: skip it (J)
            shown = pg.get_attribute("#item", "data-item-id")
            if shown == str(item["id"]):
                return pg.evaluate("state.current")
            pg.keyboard.press("Escape")
            pg.keyboard.press("j")
            pg.wait_for_function(f"document.querySelector('#item').dataset.itemId !== '{shown}'")
        raise AssertionError(f"item {item['id']} did not come up in the queue")

    def api(self, method: str, path: str, body=None):  # noqa: ANN001, ANN201
        return _req(self.svc["port"], method, path, self.svc["tok"]["viewer1"], body)

    def close(self) -> None:
        self.ctx.close()
        assert not self.errors, self.errors


@pytest.fixture()
def session(browser, svc):
    opened: list[Session] = []

    def make(name: str) -> Session:
        s = Session(browser, svc, name)
        opened.append(s)
        return s

    yield make
    for s in opened:
        s.close()


def _shot(page, name: str) -> None:  # noqa: ANN001
    page.screenshot(path=str(SHOTS / name))


def _error(page) -> str:  # noqa: ANN001
    return page.inner_text("#item-error")


# ------------------------------------------------------------------ item 20: what each role may do

@pytest.mark.parametrize(("name", "says", "never"), [
    ("operator1", "tải lô phiếu lên và theo dõi", "chỉ được xem"),
    ("viewer1", "chỉ được xem", "tải lô phiếu lên"),
    ("reviewer1", "quyết định câu trả lời", "chỉ được xem"),
    ("admin1", "quản lý đợt khảo sát và tài khoản", "chỉ được xem"),
])
def test_each_role_is_told_what_it_may_do(session, name, says, never):
    s = session(name)
    text = s.page.inner_text("#choose-view")
    assert says in text and never not in text, text
    assert s.page.get_by_role("button", name="Bắt đầu duyệt").is_disabled() == (name in ("operator1", "viewer1"))
    if name == "operator1":
        _shot(s.page, "choose-operator.png")


# ------------------------------------------------------------------ item 21: free text

def test_free_text_is_never_prefilled_and_keys_work_until_typing(session):
    s = session("rv_text")
    pg = s.page
    first, second = s.svc["pick"]["rv_text"]
    item = s.queue(first)
    box = pg.get_by_label("Câu trả lời viết tay")
    assert box.input_value() == "", "tesseract's reading must not be put into the box"
    assert pg.evaluate("document.activeElement.id") != "text-input", "the box must not have the focus on arrival"
    assert item["text_suggestion"] and item["text_suggestion"] in pg.inner_text("#text-sugg")
    _shot(pg, "review-text-suggestion.png")
    # Enter on an empty box: into the box, nothing stored; Enter again in the empty box: still nothing stored
    pg.keyboard.press("Enter")
    assert pg.evaluate("document.activeElement.id") == "text-input"
    pg.keyboard.press("Enter")
    assert "Enter không lưu gì" in _error(pg)
    st, now = s.api("GET", f"/api/review/{first['id']}")
    assert now["state"] == "pending", "Enter on an empty box stored something"
    # Esc leaves the box, C copies the suggestion in (with the focus, to edit), Enter saves it
    pg.keyboard.press("Escape")
    pg.keyboard.press("c")
    assert box.input_value() == item["text_suggestion"] and pg.evaluate("document.activeElement.id") == "text-input"
    pg.keyboard.press("End")
    pg.keyboard.type(" ok")
    pg.keyboard.press("Enter")
    pg.wait_for_function(f"document.querySelector('#item').dataset.itemId !== '{first['id']}'")
    st, done = s.api("GET", f"/api/review/{first['id']}")
    assert done["state"] == "done" and done["value"] == (item["text_suggestion"] + " ok").strip(), done
    # the second text item: 0 is the "blank" key, never a "0" typed into the box
    s.queue(second)
    assert box.input_value() == ""
    pg.keyboard.press("0")
    pg.wait_for_function(f"document.querySelector('#item').dataset.itemId !== '{second['id']}'")
    st, done = s.api("GET", f"/api/review/{second['id']}")
    assert done["state"] == "done" and done["value"] is None and done["status"] in ("blank", None), done


# ------------------------------------------------------------------ item 6: two marks

def test_two_marks_suggest_nothing_and_enter_stores_nothing(session):
    s = session("rv_two")
    pg = s.page
    (target,) = s.svc["pick"]["rv_two"]
    item = s.queue(target)
    sugg = pg.inner_text("#item-suggestion")
    assert "(để trống)" not in sugg and "nhiều ô được đánh dấu" in sugg, sugg
    assert pg.get_by_role("button", name="Không hợp lệ (nhiều lựa chọn)").is_visible()
    _shot(pg, "review-two-marks.png")
    pg.keyboard.press("Enter")
    assert "Enter không lưu gì" in _error(pg)
    st, now = s.api("GET", f"/api/review/{target['id']}")
    assert now["state"] == "pending", "Enter stored a value the reviewer did not choose"
    pg.keyboard.press("2")  # an explicit choice goes through
    pg.wait_for_function(f"document.querySelector('#item').dataset.itemId !== '{target['id']}'")
    st, done = s.api("GET", f"/api/review/{target['id']}")
    assert done["state"] == "done" and done["value"] == item["options"][1]["value"], done


# ------------------------------------------------------------------ item 1: duplicates side by side

def test_duplicate_sheet_shows_both_pages_and_settles_by_keyboard(session):
    s = session("rv_dup")
    pg = s.page
    (target,) = s.svc["pick"]["rv_dup"]
    s.queue(target)
    st, mine = s.api("GET", f"/api/pages/{target['page_id']}")
    other_id = mine["duplicate_of"]
    assert other_id, mine
    for img in ("#dup-this-img", "#dup-other-img"):
        pg.wait_for_function(f"(() => {{ const i = document.querySelector('{img}'); return i.complete && i.naturalWidth > 0; }})()")
    assert f"#{target['page_id']}" in pg.inner_text("#dup-this-cap") and f"#{other_id}" in pg.inner_text("#dup-other-cap")
    for name in ("Giữ phiếu này (1)", "Giữ phiếu kia (2)", "Hai phiếu khác nhau (3)"):
        assert pg.get_by_role("button", name=name).is_visible()
    # side by side, both readable at 1366×768
    a, b = pg.locator("#dup-this-img").bounding_box(), pg.locator("#dup-other-img").bounding_box()
    assert a["x"] + a["width"] <= b["x"] and abs(a["y"] - b["y"]) < 40 and a["height"] > 250, (a, b)
    _shot(pg, "review-duplicate.png")
    pg.keyboard.press("3")
    pg.wait_for_function(f"document.querySelector('#item').dataset.itemId !== '{target['id']}'")
    assert "hai phiếu khác nhau" in pg.inner_text("#item-flash")
    st, mine = s.api("GET", f"/api/pages/{target['page_id']}")
    assert mine["duplicate_of"] is None and mine["status"] != "duplicate", mine


# ------------------------------------------------------------------ item 7: a refused placement says why

def test_a_refused_placement_says_why_and_stays(session):
    s = session("rv_place")
    pg = s.page
    target = s.svc["pick"]["rv_place"][0]  # a page of another form: place it on a page the form does not have
    s.queue(target)
    pg.get_by_role("spinbutton", name="Trang").fill("9")
    pg.get_by_role("button", name="Xác nhận mẫu phiếu").click()
    pg.wait_for_function("document.querySelector('#item-error').textContent.length > 0")
    msg = _error(pg)
    assert msg.startswith("Chưa đọc được trang theo mẫu đã chọn: ") and "trang" in msg.split(": ", 1)[1], msg  # why, in Vietnamese
    assert pg.get_attribute("#item", "data-item-id") == str(target["id"]), "a refused placement must not close the item"


# ------------------------------------------------------------------ a 401 goes back to the login

def test_an_ended_session_goes_back_to_the_login(session, svc):
    s = session("rv_401")
    pg = s.page
    pg.get_by_role("button", name="Bắt đầu duyệt").click()
    pg.wait_for_selector("#item:not([hidden]), #done-view:not([hidden])")
    s.ctx.clear_cookies()
    pg.keyboard.press("j" if pg.is_visible("#item") else "r")
    pg.wait_for_selector("#login-view:not([hidden])")
    assert "Phiên đăng nhập đã kết thúc" in pg.inner_text("#login-error")


# ------------------------------------------------------------------ item 21: the page view fits at 1366 px

def test_page_view_table_fits_its_column_at_1366(session, svc):
    s = session("viewer1")
    pg = s.page
    # the page with the free text: a long OCR reading and long questions in the table
    page_id = next(i["page_id"] for i in svc["items"] if i["field_kind"] == "text")
    pg.goto(f"{svc['base']}/ui/page.html?id={page_id}")
    pg.wait_for_selector("body[data-loaded='1']")
    longest = pg.evaluate("Math.max(...[...document.querySelectorAll('#fields td')].map((td) => td.textContent.length))")
    assert longest > 40, "the page has no long answer to wrap"
    side = pg.locator(".side").bounding_box()
    for col in range(1, 6):
        box = pg.locator(f"#fields th:nth-child({col})").bounding_box()
        assert box["x"] >= side["x"] - 1 and box["x"] + box["width"] <= side["x"] + side["width"] + 1, (col, box, side)
    conf = pg.locator("#fields tbody tr:first-child td:nth-child(5)")
    assert conf.is_visible() and conf.inner_text().endswith("%")
    assert pg.evaluate("document.querySelector('.side').scrollWidth <= document.querySelector('.side').clientWidth + 1")
    _shot(pg, "page-view-1366.png")


# ------------------------------------------------------------------ item 21: the batch label counts pages live

def test_batch_label_counts_pages_while_they_are_read(session, svc):
    port, tok = svc["port"], svc["tok"]
    st, rnd = _req(port, "POST", "/api/rounds", tok["admin1"], {"name": "Đợt trực tiếp", "template": "sipas-2017"})
    assert st == 201, rnd
    files = [(f.name, f.read_bytes()) for f in _demo_files(svc["tmp"]) if f.name.startswith("sipas-")]
    bid = _upload(port, tok["operator1"], rnd["name"], files)
    s = session("operator1")
    pg = s.page
    pg.reload()
    pg.wait_for_selector(f"#batches tr[data-batch='{bid}']")
    cell = f"#batches tr[data-batch='{bid}'] td:nth-child(3)"
    first = pg.inner_text(cell)
    seen = {first}
    deadline = time.time() + 240
    while time.time() < deadline:
        seen.add(pg.inner_text(cell))
        st, info = _req(port, "GET", f"/api/batches/{bid}", tok["viewer1"])
        if info["status"] in ("done", "failed"):
            break
        time.sleep(0.4)
    want = f"{info['pages_done']}/{info['pages_total']}"
    pg.wait_for_function(f"document.querySelector(\"{cell}\").textContent === '{want}'", timeout=10000)
    assert len(seen | {want}) >= 2, f"the label never changed while the batch was read: {seen}"
    assert f"{want} trang" in pg.locator(f"#batch-select option[value='{bid}']").text_content()


# ------------------------------------------------------------------ needs the server side of issue 10

class TestNeedsIssue10Server:
    """These need the service's part of issue 10 (see the module docstring); they fail until it lands."""

    def test_every_write_sends_the_csrf_token_and_the_revision(self, session):
        s = session("rv_csrf")
        pg = s.page
        writes: list[tuple[str, dict, str | None]] = []
        pg.on("request", lambda r: writes.append((r.url, r.headers, r.post_data)) if r.method == "POST" and "/api/" in r.url else None)
        (target,) = s.svc["pick"]["rv_csrf"]
        item = s.queue(target)
        csrf = pg.evaluate("API.csrf")
        assert csrf, "neither the login nor /api/me gave a csrf token"
        assert isinstance(item.get("revision"), int), item
        pg.keyboard.press("1")
        pg.wait_for_function(f"document.querySelector('#item').dataset.itemId !== '{target['id']}'")
        decisions = [w for w in writes if w[0].endswith(f"/api/review/{target['id']}")]
        assert decisions and all(w[1].get("x-csrf-token") == csrf for w in writes), writes
        assert json.loads(decisions[0][2])["revision"] == item["revision"]

    def test_a_lost_race_shows_who_won_and_the_current_value(self, session):
        s = session("rv_conflict")
        pg = s.page
        a, _b = s.svc["pick"]["rv_conflict"]
        item = s.queue(a)
        pg.keyboard.press("1")
        pg.wait_for_function(f"document.querySelector('#item').dataset.itemId !== '{a['id']}'")
        pg.keyboard.press("k")  # back to it: the tab now holds its revision
        pg.wait_for_function(f"document.querySelector('#item').dataset.itemId === '{a['id']}'")
        held = pg.evaluate("state.current")
        assert isinstance(held.get("revision"), int), held
        st, out = _req(s.svc["port"], "POST", f"/api/review/{a['id']}", s.svc["tok"]["admin1"],
                       {"value": item["options"][2]["value"], "expected": held["value"], "revision": held["revision"]})
        assert st == 200, out
        pg.keyboard.press("4")  # stale: 409, who won and the current value, the item reloaded
        pg.wait_for_function("document.querySelector('#item-error').textContent.includes('admin1')")
        msg = _error(pg)
        assert "đã bị người khác sửa" in msg and item["options"][2]["label"] in msg, msg
        st, now = s.api("GET", f"/api/review/{a['id']}")
        assert pg.evaluate("state.current.revision") == now["revision"] != held["revision"]
        pg.keyboard.press("4")  # with the current revision it goes through
        for _ in range(50):
            st, done = s.api("GET", f"/api/review/{a['id']}")
            if done["value"] == item["options"][3]["value"]:
                break
            time.sleep(0.1)
        assert done["value"] == item["options"][3]["value"] and done["decided_by"] == "rv_conflict", done

    def test_two_marks_show_the_marked_options_and_x_stores_invalid(self, session):
        s = session("rv_x")
        pg = s.page
        (target,) = s.svc["pick"]["rv_x"]
        item = s.queue(target)
        assert isinstance(item.get("marks"), list) and len(item["marks"]) >= 2, item
        assert item.get("proposed") is None
        marked = pg.locator("#item-options .option.marked")
        assert marked.count() == len(item["marks"])
        for v in item["marks"]:
            i = [o["value"] for o in item["options"]].index(v)
            assert "marked" in pg.locator(f"#item-options .option[data-index='{i}']").get_attribute("class")
        _shot(pg, "review-two-marks.png")
        pg.keyboard.press("x")
        pg.wait_for_function(f"document.querySelector('#item').dataset.itemId !== '{target['id']}'")
        st, done = s.api("GET", f"/api/review/{target['id']}")
        assert done["state"] == "done" and done["status"] == "multiple" and done["value"] is None, done

    def test_manual_entry_of_a_page_without_markers(self, session):
        s = session("rv_manual")
        pg = s.page
        (target,) = s.svc["pick"]["rv_manual"]
        item = s.queue(target)
        assert item.get("can_read") is False, item
        assert pg.is_visible("#manual") and pg.evaluate("document.activeElement.tagName") == "BODY"
        pg.wait_for_selector("#manual-fields fieldset.mf")
        st, geo = _req(s.svc["port"], "GET", "/api/templates/sipas-2017/1/geometry", s.svc["tok"]["viewer1"])
        fields = next(p for p in geo["pages"] if p["page"] == 1)["fields"]
        assert pg.locator("#manual-fields fieldset.mf").count() == len(fields)
        pg.keyboard.press("Enter")  # into the form: the serial first
        pg.keyboard.type("777")
        first = pg.get_by_role("group", name=fields[0]["text"]).get_by_role("radio").first
        first.focus()
        keys = "2130" + "45" * 10
        for k in keys[: len(fields)]:
            pg.keyboard.press(k)  # a digit picks the option and moves to the next question
        want = {}
        for f, k in zip(fields, keys):
            want[f["id"]] = None if k == "0" else f["options"][int(k) - 1]["value"]
        _shot(pg, "review-manual-entry.png")
        pg.keyboard.press("Control+Enter")
        pg.wait_for_function(f"document.querySelector('#item').dataset.itemId !== '{target['id']}'")
        assert "nhập tay" in pg.inner_text("#item-flash")
        st, page = s.api("GET", f"/api/pages/{target['page_id']}")
        got = {fid: page["fields"][fid]["value"] for fid in want}
        assert got == want and page["sheet"].lstrip("0") == "777", (got, page)
        assert all(page["fields"][fid]["source"] == "manual" for fid in want)
        st, audit = s.api("GET", f"/api/pages/{target['page_id']}/audit")
        assert any(a["action"] == "manual entry" for a in audit), audit

    def test_placing_a_readable_page_shows_how_many_fields_were_read(self, session):
        s = session("rv_place")
        pg = s.page
        target = s.svc["pick"]["rv_place"][1]  # markers found, serial painted out
        item = s.queue(target)
        assert item.get("can_read") is True, item
        pg.get_by_role("textbox", name="Số phiếu").fill("900004")
        pg.get_by_role("spinbutton", name="Trang").fill("2")
        pg.keyboard.press("Enter")
        pg.wait_for_function(f"document.querySelector('#item').dataset.itemId !== '{target['id']}'")
        st, page = s.api("GET", f"/api/pages/{target['page_id']}")
        assert page["status"] == "ok" and page["fields"], page
        assert f"{len(page['fields'])} câu trả lời" in pg.inner_text("#item-flash")
        pg.wait_for_function("(() => { const i = document.querySelector('#item-crop');"
                             " return i.complete && i.naturalWidth > 0 && i.style.visibility !== 'hidden'; })()")
        _shot(pg, "review-placed.png")

    def test_page_view_shows_option_labels(self, session, svc):
        s = session("viewer1")
        pg = s.page
        page_id = next(i["page_id"] for i in svc["items"] if i["field_kind"] == "single")
        st, data = s.api("GET", f"/api/pages/{page_id}")
        fid, f = next((k, v) for k, v in data["fields"].items() if v.get("kind") == "single" and v["value"] is not None)
        pg.goto(f"{svc['base']}/ui/page.html?id={page_id}")
        pg.wait_for_selector("body[data-loaded='1']")
        row = pg.locator("#fields tbody tr").filter(has_text=f["question"][:30]).first
        assert row.locator("td:nth-child(2)").inner_text() == f["label"]

    def test_too_many_wrong_logins_say_how_long_to_wait(self, browser, svc):
        ctx = browser.new_context(viewport=VIEW, locale="vi-VN")
        pg = ctx.new_page()
        try:
            pg.goto(svc["base"] + "/ui/")
            for _ in range(40):
                pg.get_by_label("Tên người dùng").fill("nobody_x")
                pg.get_by_label("Mã truy cập").fill("wrong")
                pg.get_by_role("button", name="Đăng nhập").click()
                pg.wait_for_function("document.querySelector('#login-error').textContent.length > 0")
                if "Hãy đợi" in pg.inner_text("#login-error"):
                    break
                pg.evaluate("document.querySelector('#login-error').textContent = ''")
            msg = pg.inner_text("#login-error")
            assert "Quá nhiều lần thử" in msg and any(c.isdigit() for c in msg), msg
            assert pg.get_by_role("button", name="Đăng nhập").is_disabled()
        finally:
            ctx.close()
