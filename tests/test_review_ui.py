"""The review pages in real headless Chromium against a running service with the demo batch."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
CHROMIUM = "/usr/bin/chromium"
DOCS = ROOT / "docs" / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (apt-get install chromium)"),
]


def _req(port, method, path, token, body=None, ctype="application/json"):  # noqa: ANN001, ANN202
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method,
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": ctype})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            data = r.read()
            return r.status, json.loads(data) if data[:1] in (b"{", b"[") else None
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ui")
    env = dict(os.environ, OMR_DATA_DIR=str(tmp / "data"), OMR_WORKERS="2")
    omr = [sys.executable, "-m", "omr.cli"]
    tok = {r: subprocess.run(omr + ["user", "add", r + "1", "--role", r], env=env, cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.strip() for r in ("admin", "operator", "reviewer", "viewer")}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(omr + ["serve", "--port", str(port)], env=env, cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(150):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/me", timeout=2)
        except urllib.error.HTTPError:
            break
        except OSError:
            time.sleep(0.2)
    _req(port, "POST", "/api/rounds", tok["admin"], json.dumps({"name": "Demo", "template": "sipas-2017"}).encode())
    boundary = "b0undary"
    body = f'--{boundary}\r\nContent-Disposition: form-data; name="round"\r\n\r\nDemo\r\n'.encode()
    for f in sorted((ROOT / "samples" / "demo").iterdir()):
        if f.suffix in (".jpg", ".png", ".tif", ".pdf"):
            body += f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{f.name}"\r\n\r\n'.encode() + f.read_bytes() + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    st, b = _req(port, "POST", "/api/batches", tok["operator"], body, f"multipart/form-data; boundary={boundary}")
    assert st == 201, b
    for _ in range(600):
        st, info = _req(port, "GET", f"/api/batches/{b['id']}", tok["viewer"])
        if info["status"] in ("done", "failed"):
            break
        time.sleep(0.3)
    assert info["status"] == "done" and info["review_pending"] > 3, info
    yield {"port": port, "tok": tok, "batch": b["id"], "info": info}
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=20)


@pytest.fixture()
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        pg = browser.new_page(viewport={"width": 1280, "height": 900})
        pg.on("pageerror", lambda e: print("pageerror:", e))
        yield pg
        browser.close()


def _login(page, port, token, name="reviewer1"):  # noqa: ANN001
    page.goto(f"http://127.0.0.1:{port}/ui/")
    page.fill("#login-name", name)
    page.fill("#login-token", token)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#choose-view:not([hidden])")


def test_work_through_the_queue_by_keyboard_and_undo(service, page):
    port, tok, batch = service["port"], service["tok"], service["batch"]
    _login(page, port, tok["reviewer"])
    page.select_option("#batch-select", str(batch))
    page.click("#start")
    page.wait_for_selector("#item-question")
    DOCS.mkdir(parents=True, exist_ok=True)
    shot_single = False
    decided: list[int] = []
    undone = False
    for step in range(80):
        if page.is_visible("#done-view"):
            break
        item_id = int(page.get_attribute("#item", "data-item-id"))
        st, item = _req(port, "GET", f"/api/review/{item_id}", tok["viewer"])
        if step == 0 or (item["field_kind"] == "single" and not shot_single):
            page.wait_for_function("document.querySelector('#item-crop').complete && document.querySelector('#item-crop').style.visibility !== 'hidden'")
            page.screenshot(path=str(DOCS / "review-queue.png"))
            shot_single = shot_single or item["field_kind"] == "single"
        before = page.evaluate("window.__lastRender.at")
        if item["field_kind"] == "page":
            key = "3" if item["reason"] == "duplicate sheet" else "n"
        elif item["field_kind"] == "single" and item["options"]:
            key = "2"  # choose the second option
        else:
            key = "Enter"
        page.keyboard.press(key)
        try:
            page.wait_for_function(f"window.__lastRender.at > {before}", timeout=10000)
        except Exception:
            raise AssertionError(f"item {item} -> {page.inner_text('#item-error')}") from None
        decided.append(item_id)
        if item["field_kind"] == "single" and not undone:
            page.keyboard.press("u")  # undo the last decision: it comes back
            page.wait_for_function(f"document.querySelector('#item').dataset.itemId == '{item_id}'")
            decided.pop()
            undone = True
    assert page.is_visible("#done-view"), "the queue did not end"
    assert undone
    st, info = _req(port, "GET", f"/api/batches/{batch}", tok["viewer"])
    assert info["review_pending"] == 0
    # every decision is stored, with its audit entry
    for item_id in decided:
        st, item = _req(port, "GET", f"/api/review/{item_id}", tok["viewer"])
        assert item["state"] == "done" and item["decided_by"] == "reviewer1"
        st, audit = _req(port, "GET", f"/api/pages/{item['page_id']}/audit", tok["viewer"])
        assert any(a["user"] == "reviewer1" for a in audit)
        if item["field_kind"] == "single" and item["options"]:
            assert item["value"] == item["options"][1]["value"]
    undo_entries = []
    for item_id in decided:
        st, item = _req(port, "GET", f"/api/review/{item_id}", tok["viewer"])
        st, audit = _req(port, "GET", f"/api/pages/{item['page_id']}/audit", tok["viewer"])
        undo_entries += [a for a in audit if a["action"] == "undo"]
    assert undo_entries, "the undo is in the audit log"


def test_page_view_and_escaping(service, page):
    port, tok = service["port"], service["tok"]
    _login(page, port, tok["viewer"], "viewer1")
    ok_page = next(pid for pid in range(1, 40) if (lambda r: r[0] == 200 and r[1]["status"] == "ok" and r[1]["fields"])(
        _req(port, "GET", f"/api/pages/{pid}", tok["viewer"])))
    page.goto(f"http://127.0.0.1:{port}/ui/page.html?id={ok_page}")
    page.wait_for_selector("#fields tbody tr")
    page.screenshot(path=str(DOCS / "page-view.png"))
    # text from scans is shown as text: a reviewer's answer with markup stays inert
    st, nxt = _req(port, "GET", "/api/review/next?round=Demo", tok["admin"])
    if st == 200 and nxt["field_kind"] == "text":
        _req(port, "POST", f"/api/review/{nxt['id']}", tok["admin"], json.dumps({"value": "<img src=x onerror=alert(1)>"}).encode())
        page.goto(f"http://127.0.0.1:{port}/ui/page.html?id={nxt['page_id']}")
        page.wait_for_selector("#fields tbody tr")
        assert page.locator("#fields img").count() == 0
        assert "<img src=x" in page.inner_text("#fields")
    # a viewer cannot change anything
    st, _ = _req(port, "POST", "/api/review/1", tok["viewer"], json.dumps({"value": None}).encode())
    assert st == 403
