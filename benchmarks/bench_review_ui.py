"""How fast a reviewer can decide: key press to the next item rendered, in headless Chromium.

    python benchmarks/bench_review_ui.py [--sheets 20]

Generates a batch (samples.generate, profile bench) for a sipas-2017 round,
uploads it to a fresh `omr serve`, then drives Debian's chromium with
Playwright: for every item in the queue, press a digit (or N / Enter) and time
from the key event to the next item's question rendered, and to its picture
shown. Prints p50/p95/max and decisions per second.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MEASURE = """async (key) => {
  const t0 = performance.now();
  const before = window.__lastRender.at;
  document.dispatchEvent(new KeyboardEvent('keydown', {key, bubbles: true}));
  await new Promise((r) => { const f = () => (window.__lastRender.at > before ? r() : requestAnimationFrame(f)); f(); });
  const tRender = window.__lastRender.at - t0;
  const img = document.querySelector('#item-crop');
  await new Promise((r) => { const f = () => ((document.querySelector('#done-view').hidden === false) || (img.complete && img.style.visibility !== 'hidden') ? r() : requestAnimationFrame(f)); f(); });
  return [tRender, performance.now() - t0];
}"""


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sheets", type=int, default=20)
    a = ap.parse_args()
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="omr-ui-"))
    subprocess.run([sys.executable, "-m", "samples.generate", "--out", str(work / "scans"), "--template", "sipas-2017", "--sheets",
                    str(a.sheets), "--seed", "31", "--profile", "bench", "--dpi", "150", "--workers", "2"], check=True, cwd=ROOT)
    env = dict(os.environ, OMR_DATA_DIR=str(work / "data"))
    omr = [sys.executable, "-m", "omr.cli"]
    tok = {r: subprocess.run(omr + ["user", "add", r, "--role", r], env=env, cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.strip() for r in ("admin", "operator", "reviewer")}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(omr + ["serve", "--port", str(port)], env=env, cwd=ROOT, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"

    def req(method, path, token, body=None, ctype="application/json"):  # noqa: ANN001, ANN202
        r = urllib.request.Request(base + path, data=body, method=method, headers={"Authorization": f"Bearer {token}", "Content-Type": ctype})
        with urllib.request.urlopen(r, timeout=300) as resp:
            return json.loads(resp.read() or b"null")

    try:
        while True:
            try:
                urllib.request.urlopen(base + "/api/me", timeout=2)
            except urllib.error.HTTPError:
                break
            except OSError:
                time.sleep(0.2)
        req("POST", "/api/rounds", tok["admin"], json.dumps({"name": "ui", "template": "sipas-2017"}).encode())
        b = "uiboundary"
        body = f'--{b}\r\nContent-Disposition: form-data; name="round"\r\n\r\nui\r\n'.encode()
        for f in sorted((work / "scans").iterdir()):
            if f.suffix in (".jpg", ".png", ".tif", ".pdf"):
                body += f'--{b}\r\nContent-Disposition: form-data; name="files"; filename="{f.name}"\r\n\r\n'.encode() + f.read_bytes() + b"\r\n"
        body += f"--{b}--\r\n".encode()
        bid = req("POST", "/api/batches", tok["operator"], body, f"multipart/form-data; boundary={b}")["id"]
        while (info := req("GET", f"/api/batches/{bid}", tok["admin"]))["status"] not in ("done", "failed"):
            time.sleep(0.5)
        print(f"batch: {info['pages_total']} pages, {info['review_pending']} review items")
        render, shown = [], []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(base + "/ui/")
            page.fill("#login-name", "reviewer")
            page.fill("#login-token", tok["reviewer"])
            page.click("#login-form button[type=submit]")
            page.wait_for_selector("#choose-view:not([hidden])")
            page.click("#start")
            page.wait_for_selector("#item-question")
            time.sleep(0.5)  # warm: the first item and the preloaded next one are in
            while page.is_visible("#item"):
                iid = page.get_attribute("#item", "data-item-id")
                item = req("GET", f"/api/review/{iid}", tok["admin"])
                key = ("3" if item["reason"] == "duplicate sheet" else "n") if item["field_kind"] == "page" else (
                    "2" if item["field_kind"] == "single" else "Enter")
                r, sh = page.evaluate(MEASURE, key)
                render.append(r)
                shown.append(sh)
            browser.close()

        def pct(v, q):  # noqa: ANN001, ANN202
            v = sorted(v)
            return v[min(len(v) - 1, int(round(q * (len(v) - 1))))]

        print(f"decisions: {len(render)}")
        print(f"key press -> next item rendered: p50 {statistics.median(render):.0f} ms, p95 {pct(render, 0.95):.0f} ms, max {max(render):.0f} ms")
        print(f"key press -> next item's picture shown: p50 {statistics.median(shown):.0f} ms, p95 {pct(shown, 0.95):.0f} ms, max {max(shown):.0f} ms")
        print(f"=> {1000 / statistics.mean(shown):.1f} decisions per second if the reviewer never hesitates")
        return 0
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)


if __name__ == "__main__":
    sys.exit(main())
