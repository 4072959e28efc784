"""Load on the service: parallel uploads while reviewers work the queue.

    python benchmarks/bench_service.py [--uploads 10] [--pages 100] [--database URL]

Starts `omr serve` (SQLite by default), makes `--uploads` batches of
`--pages` distinct page files each (re-encoded copies of generated scans),
uploads them all at once from parallel threads while two reviewer threads
claim and decide items and poll batch status. Prints pages/s from the first
upload to the last page read, p50/p95 latency of every API call by kind, and
checks that nothing was lost (every page accounted for) and no call got a 5xx.
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
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parent.parent
LAT: dict[str, list[float]] = defaultdict(list)
ERRORS: list[str] = []
LOCK = threading.Lock()


def call(port, method, path, token, data=None, ctype=None, kind=None):  # noqa: ANN001, ANN201
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"Authorization": f"Bearer {token}"})
    if ctype:
        req.add_header("Content-Type", ctype)
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=300) as r:
            body, status = r.read(), r.status
    except urllib.error.HTTPError as e:
        body, status = e.read(), e.code
    dt = time.perf_counter() - t0
    with LOCK:
        LAT[kind or path.split("?")[0]].append(dt)
        if status >= 500:
            ERRORS.append(f"{method} {path}: {status} {body[:200]!r}")
    return status, (json.loads(body) if body and body[:1] in b"{[" else None)


def multipart(fields, files):  # noqa: ANN001, ANN201
    b = "benchboundary"
    out = bytearray()
    for k, v in fields.items():
        out += f'--{b}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
    for f in files:
        out += f'--{b}\r\nContent-Disposition: form-data; name="files"; filename="{f.name}"\r\n\r\n'.encode()
        out += f.read_bytes() + b"\r\n"
    out += f"--{b}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={b}"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--uploads", type=int, default=10)
    ap.add_argument("--pages", type=int, default=100)
    ap.add_argument("--database", default="")
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="omr-load-"))
    src = work / "src"
    subprocess.run([sys.executable, "-m", "samples.generate", "--out", str(src), "--template", "sipas-2017", "--sheets", "10",
                    "--seed", "77", "--profile", "clean", "--dpi", "150", "--workers", "2"], check=True, cwd=ROOT)
    base = sorted(src.glob("*.jpg"))
    batches = []
    for u in range(a.uploads):
        d = work / f"u{u}"
        d.mkdir()
        files = []
        for k in range(a.pages):
            n = u * a.pages + k
            img = cv2.imread(str(base[k % len(base)]), cv2.IMREAD_GRAYSCALE)
            # every file distinct (a scan of its own, not a re-upload the service would rightly skip): a few
            # grey pixels in the top margin spell out n
            for bit in range(12):
                img[3, 40 + 3 * bit] = 200 if (n >> bit) & 1 else 255
            p = d / f"u{u}-{k:03d}.jpg"
            cv2.imwrite(str(p), img, [cv2.IMWRITE_JPEG_QUALITY, 88])
            files.append(p)
        batches.append(files)
    env = dict(os.environ, OMR_DATA_DIR=str(work / "data"), OMR_WORKERS=str(a.workers))
    if a.database:
        env["DATABASE_URL"] = a.database
    omr = [sys.executable, "-m", "omr.cli"]
    tok = {r: subprocess.run(omr + ["user", "add", r, "--role", r], env=env, cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.strip() for r in ("admin", "operator", "reviewer")}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(omr + ["serve", "--port", str(port)], env=env, cwd=ROOT, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/me", timeout=2)
            except urllib.error.HTTPError:
                break
            except OSError:
                time.sleep(0.2)
        call(port, "POST", "/api/rounds", tok["admin"], json.dumps({"name": "load", "template": "sipas-2017"}).encode(), "application/json")
        ids: list[int] = []
        t0 = time.perf_counter()

        def upload(files):  # noqa: ANN001, ANN202
            body, ctype = multipart({"round": "load"}, files)
            st, res = call(port, "POST", "/api/batches", tok["operator"], body, ctype, kind="POST /api/batches")
            if st == 201:
                with LOCK:
                    ids.append(res["id"])

        ups = [threading.Thread(target=upload, args=(f,)) for f in batches]
        for t in ups:
            t.start()
        stop = threading.Event()
        decided = [0]

        def reviewer():  # noqa: ANN202
            while not stop.is_set():
                st, item = call(port, "GET", "/api/review/next?round=load", tok["reviewer"], kind="GET /api/review/next")
                if st == 200:
                    value = item["value"] if item["field_kind"] != "page" else {"keep": "both"} if item["reason"] == "duplicate sheet" else {"not_questionnaire": True}
                    st2, _ = call(port, "POST", f"/api/review/{item['id']}", tok["reviewer"], json.dumps({"value": value}).encode(),
                                  "application/json", kind="POST /api/review/{id}")
                    if st2 == 200:
                        decided[0] += 1
                else:
                    time.sleep(0.2)
                for bid in list(ids):
                    call(port, "GET", f"/api/batches/{bid}", tok["reviewer"], kind="GET /api/batches/{id}")

        revs = [threading.Thread(target=reviewer) for _ in range(2)]
        for t in revs:
            t.start()
        for t in ups:
            t.join()
        t_up = time.perf_counter() - t0
        while True:
            sts = [call(port, "GET", f"/api/batches/{b}", tok["admin"], kind="GET /api/batches/{id}")[1] for b in ids]
            if all(s["status"] in ("done", "failed") for s in sts):
                break
            time.sleep(0.5)
        t_all = time.perf_counter() - t0
        stop.set()
        for t in revs:
            t.join()
        total = sum(s["pages_total"] for s in sts)
        done = sum(s["pages_done"] for s in sts)
        failed = sum(s["pages_failed"] for s in sts)
        expected = a.uploads * a.pages
        print(f"{a.uploads} parallel uploads x {a.pages} pages = {expected} pages; database: {a.database or 'SQLite'}; "
              f"{a.workers} reader processes on {os.cpu_count()} cores")
        print(f"uploads accepted: {len(ids)}/{a.uploads} in {t_up:.1f} s; all pages read after {t_all:.1f} s: "
              f"{expected / t_all:.1f} pages/s end to end")
        dup_files = sum(1 for s in sts for f in s["files"] if f["duplicate_of"])
        print(f"pages accounted for: {total}/{expected} (read {done}, failed {failed}); files taken for re-uploads: {dup_files}; "
              f"review decisions made meanwhile: {decided[0]}")
        print(f"5xx responses: {len(ERRORS)}")
        for e in ERRORS[:5]:
            print("  ", e)
        print("| call | n | p50 ms | p95 ms |")
        print("|---|---:|---:|---:|")
        for k, v in sorted(LAT.items()):
            v = sorted(v)
            p95 = v[min(len(v) - 1, int(len(v) * 0.95))]
            print(f"| {k} | {len(v)} | {statistics.median(v) * 1000:.0f} | {p95 * 1000:.0f} |")
        return 0 if total == expected and not ERRORS else 1
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
