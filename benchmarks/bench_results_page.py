"""The results page of a 50,000-sheet round in Chromium: from navigation to the charts drawn.

    python benchmarks/bench_results_page.py [--sheets 50000] [--runs 7] [--database URL]

Fills a fresh database with a round of synthetic final answers, bulk inserted as in bench_tallies.py
(every sipas-2017 field of both pages per sheet, 12 agencies, 3% of criteria pending review), starts
`omr serve` on it, signs a viewer in, then opens `/ui/results.html?round=ID` in Debian's Chromium
(headless, 1366x768) and reads the time from the start of the navigation to the moment the page says
its charts are drawn (`body[data-charts-drawn-ms]`, the page's performance.now()): the first time a view
is opened (the server computes its figures) and then several times again (the figures of the same
revision of the data come from the server's cache), for the whole round, one agency and a respondent group; then the
whole round opened --settle seconds after each of --runs changes (the figures computed ahead by service.warm). Default: a
SQLite file (an office's default set-up); `--database postgresql://...` for PostgreSQL.
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
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_tallies import fill  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(url: str, data_dir: Path, log: Path) -> tuple[subprocess.Popen, int, str, str]:
    omr = [sys.executable, "-m", "omr.cli"]
    common = ["--data-dir", str(data_dir), "--database", url]
    env = dict(os.environ, OMR_WORKERS="1")
    token, admin = (subprocess.run(omr + ["user", "add", name, "--role", role] + common, env=env, cwd=ROOT,
                                   capture_output=True, text=True, check=True).stdout.strip()
                    for name, role in (("viewer1", "viewer"), ("admin1", "admin")))
    port = _free_port()
    proc = subprocess.Popen(omr + ["serve", "--port", str(port)] + common, env=env, cwd=ROOT, start_new_session=True,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/me", timeout=2)
        except urllib.error.HTTPError:
            return proc, port, token, admin
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(log.read_text()) from None
            time.sleep(0.2)
    raise RuntimeError("omr serve did not start")


def _draw_quality(url: str, rid: int) -> None:
    from service import quality
    from service.db import make_engine, session_factory
    from service.models import Round

    engine = make_engine(url)
    with session_factory(engine)() as s:
        quality.draw_pending(s, s.get(Round, rid))
    engine.dispose()


def _runs(page, url: str, n: int) -> list[int]:  # noqa: ANN001
    out = []
    for _ in range(n):
        page.goto(url)
        page.wait_for_selector("body[data-charts-drawn]", timeout=60000)
        out.append(int(page.evaluate("document.body.dataset.chartsDrawnMs")))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sheets", type=int, default=50_000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--database", help="database URL (default: a fresh SQLite file)")
    ap.add_argument("--settle", type=float, default=5.0, help="seconds between a change and the page opened")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="omr-bench-results-"))
    url = a.database or f"sqlite:///{tmp / 'bench.sqlite'}"
    rid, t_fill = fill(url, a.sheets)
    if url.startswith("postgresql"):  # the statistics autovacuum gathers in service; a bulk load needs them now
        from sqlalchemy import text

        from service.db import make_engine

        with make_engine(url).connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE"))
    t0 = time.perf_counter()
    _draw_quality(url, rid)  # what the worker does a page at a time while it reads; a bulk load does it at once
    print(f"{url.split('://')[0]}: {a.sheets} sheets filled in {t_fill:.0f} s; quality sample drawn in {time.perf_counter() - t0:.0f} s")
    proc, port, token, admin = _serve(url, tmp / "data", tmp / "serve.log")
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            ctx = b.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN")
            page = ctx.new_page()
            base = f"http://127.0.0.1:{port}"
            r = page.request.post(base + "/api/login", data=json.dumps({"name": "viewer1", "token": token}),
                                  headers={"Content-Type": "application/json"})
            assert r.ok, r.text()
            views = {
                "whole round (indices + ranking of 12 agencies)": f"?round={rid}",
                "one agency (its indices + the ranking)": f"?round={rid}&agency=A3",
                "a respondent group (gioi_tinh=2)": f"?round={rid}&group=gioi_tinh%3D2",
            }
            page.goto(base + f"/ui/results.html?round={rid}&period=x")  # the page's scripts loaded once (a 422, no figures)
            page.wait_for_selector("#rs-error:not(:empty)", timeout=60000)
            after: list[int] = []
            for label, q in views.items():
                first = _runs(page, base + "/ui/results.html" + q, 1)[0]  # the server computes the figures
                times = _runs(page, base + "/ui/results.html" + q, a.runs)  # the same figures again (cached)
                shown = page.locator("#rs-overall").inner_text()
                print(f"  {label}: first {first} ms; again: median {statistics.median(times)} ms, runs {times} "
                      f"(overall shown {shown}%)")
            # the office's case: a batch (or a decision) changed the data a moment ago and the figures were computed
            # ahead (service.warm); the round is edited (which drops every cached figure, as a stored page does),
            # and the page opened --settle seconds later
            for period in (f"bench {k}" for k in range(1, a.runs + 1)):
                r = page.request.patch(base + f"/api/rounds/{rid}", data=json.dumps({"period": period}),
                                       headers={"Content-Type": "application/json", "Authorization": f"Bearer {admin}"})
                assert r.ok, r.text()
                time.sleep(a.settle)
                after.append(_runs(page, base + f"/ui/results.html?round={rid}", 1)[0])
            print(f"  whole round, {a.settle:g} s after a change: median {statistics.median(after)} ms, runs {after}")
            b.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
