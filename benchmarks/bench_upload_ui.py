"""A 1,000-file upload from the browser: the operator's upload page (upload.html) in headless Chromium.

    .venv/bin/python benchmarks/bench_upload_ui.py [--files 1000] [--kb 40] [--with-workers]

Generates --files small distinct PNG pages (about --kb KB each), starts a fresh service on SQLite
(by default without the page-reading workers, so the figure is the upload itself; --with-workers
runs `omr serve` with its two workers reading meanwhile), signs in on the page as an operator, chooses
every file with the file input and presses "Gửi", and times from the press until the page shows every
file as sent (acknowledged by the server). Then it checks through the API that nothing was lost or
counted twice: every file in the round exactly once, one page each once split. Prints files/s and
MB/s. Benchmarks print; they assert nothing (but say LOST when a file is missing).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
SERVE_NO_WORKERS = """
import sys, uvicorn
from service.app import create_app
from service.settings import Settings
data, db, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
uvicorn.run(create_app(Settings(data_dir=data, database_url=db, start_workers=False)), host="127.0.0.1", port=port, log_level="warning")
"""


def req(port: int, method: str, path: str, token: str, body: dict | None = None):  # noqa: ANN201
    data = json.dumps(body).encode() if body is not None else None
    r = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                               headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(r, timeout=120) as resp:
        return json.loads(resp.read())


def make_pages(out: Path, n: int, kb: int) -> list[Path]:
    import numpy as np
    from PIL import Image, ImageDraw

    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    side = int((kb * 1024) ** 0.5)  # noise compresses to about one byte per pixel
    paths = []
    for i in range(n):
        img = Image.fromarray(rng.integers(0, 256, (side, side), dtype=np.uint8))
        ImageDraw.Draw(img).text((4, 4), f"{i:05d}", fill=0)
        p = out / f"trang-{i:05d}.png"
        img.save(p)
        paths.append(p)
    return paths


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--kb", type=int, default=40, help="about this many KB per file")
    ap.add_argument("--with-workers", action="store_true", help="run omr serve with its workers reading the pages meanwhile")
    a = ap.parse_args()
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="omr-bench-upload-"))
    data, db = tmp / "data", f"sqlite:///{tmp / 'db.sqlite'}"
    common = ["--data-dir", str(data), "--database", db]
    omr = [sys.executable, "-m", "omr.cli"]
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMR_WORKERS="2")
    tok = {n: subprocess.run(omr + ["user", "add", n, "--role", r] + common, env=env, cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.strip() for n, r in (("admin", "admin"), ("op", "operator"))}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = (omr + ["serve", "--port", str(port)] + common) if a.with_workers else [sys.executable, "-c", SERVE_NO_WORKERS, str(data), db, str(port)]
    log = open(tmp / "serve.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, start_new_session=True, stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/me", timeout=2)
            except urllib.error.HTTPError:
                break
            except OSError:
                time.sleep(0.2)
        rnd = req(port, "POST", "/api/rounds", tok["admin"], {"name": "Bench upload", "template": "sipas-2017"})
        t0 = time.perf_counter()
        files = make_pages(tmp / "pages", a.files, a.kb)
        total_mb = sum(p.stat().st_size for p in files) / 2**20
        print(f"{len(files)} PNG pages, {total_mb:.1f} MB, made in {time.perf_counter() - t0:.1f} s; "
              f"workers {'reading' if a.with_workers else 'not started'}")
        with sync_playwright() as pw:
            b = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = b.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN").new_page()
            page.goto(f"http://127.0.0.1:{port}/ui/upload.html")
            page.wait_for_selector("#login-view:not([hidden])")
            page.get_by_label("Tên người dùng").fill("op")
            page.get_by_label("Mã truy cập").fill(tok["op"])
            page.get_by_role("button", name="Đăng nhập").click()
            page.wait_for_url("**/upload.html")
            page.get_by_role("navigation", name="Các trang").wait_for()
            page.wait_for_load_state("networkidle")
            page.get_by_label("Đợt khảo sát").select_option(str(rnd["id"]))
            t0 = time.perf_counter()
            page.locator("#up-files").set_input_files([str(p) for p in files])
            t_list = time.perf_counter() - t0
            send = page.get_by_role("button", name=f"Gửi {len(files)} tệp")
            t0 = time.perf_counter()
            send.click()
            page.wait_for_function("n => document.querySelectorAll('#up-list td.st-sent').length === n", arg=len(files),
                                   timeout=3_600_000, polling=250)
            dt = time.perf_counter() - t0
            failed = page.locator("#up-list td.st-failed").count()
            b.close()
        print(f"listed and checked in the page in {t_list:.1f} s; sent in {dt:.1f} s: "
              f"{len(files) / dt:.1f} files/s, {total_mb / dt:.2f} MB/s ({failed} failed in the page)")
        # nothing lost, nothing twice: every file once in the round, each split into its one page
        deadline = time.time() + 600
        while True:
            batches = req(port, "GET", f"/api/batches?round={rnd['id']}", tok["admin"])
            live = [f for bt in batches for f in bt["files"] if f["status"] not in ("duplicate", "retried")]
            if not a.with_workers or all(f["status"] != "pending" for f in live) or time.time() > deadline:
                break
            time.sleep(1)
        names = Counter(f["name"] for f in live)
        missing = sorted({p.name for p in files} - set(names))
        twice = sorted(n for n, c in names.items() if c > 1)
        print(f"API: {len(batches)} batches, {len(live)} files ({len(names)} names, {len({f['sha256'] for f in live})} contents); "
              f"missing {len(missing)}, twice {len(twice)}" + (f"; LOST {missing[:5]}" if missing else "")
              + (f"; pages {sum(bt['pages_total'] for bt in batches)}" if a.with_workers else ""))
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
