"""How fast a reviewer can decide: key press to the next item rendered, in headless Chromium.

    .venv/bin/python benchmarks/bench_review_ui.py [--sheets 30] [--think-ms 300]

Generates a batch (samples.generate, profile bench) for a sipas-2017 round, uploads it to a
fresh `omr serve` (SQLite), waits until it is read, then drives Debian's chromium with
Playwright through the whole review queue with real key presses: a digit for single choice,
Enter for multiple choice, 0 (blank) for free text / codes, N (or 3) for pages. For every decision it times,
inside the page, from the keydown event to

  * rendered: the next item's question, options and crop are in the DOM (app.js render()),
  * painted: the first animation frame after that (what the reviewer sees),
  * picture: the next item's crop decoded and visible.

Between decisions the "reviewer" looks at the item for --think-ms (a warm queue: the next
item and its crop are preloaded meanwhile); a second pass with --think-ms 0 shows the worst
case of a reviewer hammering keys. Prints p50/p95/max. Benchmarks print; they assert nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
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
CHROMIUM = "/usr/bin/chromium"

# installed once per page: every keydown (capture phase, before app.js sees it) starts a timer
PROBE = """() => {
  window.__bench = { p: null };
  window.addEventListener('keydown', () => {
    const t0 = performance.now();
    const before = window.__lastRender ? window.__lastRender.at : 0;
    window.__bench.p = new Promise((resolve) => {
      const rendered = () => {
        if (!(window.__lastRender && window.__lastRender.at > before)) { requestAnimationFrame(rendered); return; }
        const tRender = window.__lastRender.at - t0;
        requestAnimationFrame(() => {
          const tPaint = performance.now() - t0;
          const img = document.querySelector('#item-crop');
          // no crop to wait for: the end, or a page shown otherwise (no picture, side by side, manual entry)
          const shown = () => (!document.querySelector('#done-view').hidden) || document.querySelector('#crop-wrap').hidden ||
            (img.complete && img.naturalWidth > 0 && img.style.visibility !== 'hidden');
          const pic = () => (shown() ? resolve([tRender, tPaint, performance.now() - t0]) : requestAnimationFrame(pic));
          pic();
        });
      };
      rendered();
    });
  }, true);
}"""


def pct(v: list[float], q: float) -> float:
    v = sorted(v)
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))]


def run_queue(browser, base: str, token: str, think_ms: int, req) -> dict[str, list[float]]:  # noqa: ANN001
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    page.goto(base + "/ui/")
    page.fill("#login-name", "reviewer")
    page.fill("#login-token", token)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#choose-view:not([hidden])")
    page.click("#start")
    page.wait_for_selector("#item:not([hidden])")
    page.evaluate(PROBE)
    out: dict[str, list[float]] = {"render": [], "paint": [], "picture": []}
    while page.is_visible("#item"):
        time.sleep(think_ms / 1000)
        item = page.evaluate("state.current")
        kind = item["field_kind"]
        if kind == "page":
            key = "3" if item["reason"] == "duplicate sheet" else "n"
        elif kind == "single":
            key = "1"
        elif kind == "multiple":
            key = "Enter"
            if item["status"] == "multiple":  # two marks: nothing is preselected and Enter alone stores nothing
                page.keyboard.press("1")
        else:
            key = "0"  # free text / code: Enter never stores an empty box; 0 is the explicit blank
        page.keyboard.press(key)
        r, p, pic = page.evaluate("window.__bench.p")
        out["render"].append(r)
        out["paint"].append(p)
        out["picture"].append(pic)
    ctx.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sheets", type=int, default=30)
    ap.add_argument("--think-ms", type=int, default=300, help="how long the reviewer looks at an item before the key")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    a = ap.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing (apt-get install chromium)")
        return 2
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="omr-ui-bench-"))
    common = ["--data-dir", str(work / "data"), "--database", f"sqlite:///{work / 'db.sqlite'}"]
    t = time.time()
    subprocess.run([sys.executable, "-m", "samples.generate", "--out", str(work / "scans"), "--template", "sipas-2017", "--sheets",
                    str(a.sheets), "--seed", "31", "--profile", "bench", "--dpi", "150", "--workers", "2"], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    print(f"generated {a.sheets} sheets in {time.time() - t:.0f} s")
    omr = [sys.executable, "-m", "omr.cli"]
    tok = {r: subprocess.run(omr + ["user", "add", r, "--role", r] + common, cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.strip() for r in ("admin", "operator", "reviewer")}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(omr + ["serve", "--port", str(port)] + common, cwd=ROOT, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ, OMR_WORKERS="2"))
    base = f"http://127.0.0.1:{port}"

    def req(method, path, token, body=None, ctype="application/json"):  # noqa: ANN001, ANN202
        r = urllib.request.Request(base + path, data=body, method=method, headers={"Authorization": f"Bearer {token}", "Content-Type": ctype})
        with urllib.request.urlopen(r, timeout=300) as resp:
            data = resp.read()
            return json.loads(data) if data else None

    try:
        while True:
            try:
                urllib.request.urlopen(base + "/api/me", timeout=2)
            except urllib.error.HTTPError:
                break
            except OSError:
                time.sleep(0.2)
        results = {}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            for think in (a.think_ms, 0):
                name = f"ui-{think}"
                req("POST", "/api/rounds", tok["admin"], json.dumps({"name": name, "template": "sipas-2017"}).encode())
                b = "uiboundary"
                body = f'--{b}\r\nContent-Disposition: form-data; name="round"\r\n\r\n{name}\r\n'.encode()
                for f in sorted((work / "scans").iterdir()):
                    if f.suffix in (".jpg", ".png", ".tif", ".pdf"):
                        body += f'--{b}\r\nContent-Disposition: form-data; name="files"; filename="{f.name}"\r\n\r\n'.encode() + f.read_bytes() + b"\r\n"
                body += f"--{b}--\r\n".encode()
                bid = req("POST", "/api/batches", tok["operator"], body, f"multipart/form-data; boundary={b}")["id"]
                while (info := req("GET", f"/api/batches/{bid}", tok["admin"]))["status"] not in ("done", "failed"):
                    time.sleep(0.5)
                print(f"round {name}: {info['pages_total']} pages, {info['review_pending']} review items")
                results[think] = run_queue(browser, base, tok["reviewer"], think, req)
            browser.close()
        print(f"chromium: {subprocess.run([CHROMIUM, '--version'], capture_output=True, text=True).stdout.strip()}")
        for think, r in results.items():
            print(f"\nreviewer looks {think} ms at each item; {len(r['render'])} decisions")
            for k, label in (("render", "key -> next item rendered"), ("paint", "key -> next item painted"),
                             ("picture", "key -> next crop visible")):
                v = r[k]
                print(f"  {label:28s} p50 {statistics.median(v):6.1f} ms   p95 {pct(v, 0.95):6.1f} ms   max {max(v):6.1f} ms")
        return 0
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
