"""A bounded fuzz run: schemathesis against the OpenAPI of the service served for real must find no 5xx.

The server is `omr serve` on a free 127.0.0.1 port (SQLite, and PostgreSQL), with a seeded database: a
round, a batch of read pages and the review items they gave. Schemathesis (its CLI, in a subprocess)
runs its examples, coverage (boundary and invalid values) and fuzzing phases on every operation with a
valid token of each role in turn (tests/fuzz_hooks.py); its HAR report is read back to count the cases
and the 5xx per route, and the server's log gives the traceback of any 5xx.
"""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path

import pytest

pytest.importorskip("schemathesis")

ROOT = Path(__file__).parent.parent
# Bounded by count (the coverage phase's boundary and invalid values, then MAX_EXAMPLES generated cases per
# operation), with a time cap per database for a loaded machine: about 40 s per database on an idle one.
MAX_EXAMPLES = int(os.environ.get("OMR_FUZZ_EXAMPLES", "15"))
MAX_SECONDS = int(os.environ.get("OMR_FUZZ_SECONDS", "50"))
ROUND = "Đợt 1/2026"

# Operations with known 5xx in files this change does not own (service/routers/review.py, batches.py: ids
# past 2^31 / 2^63, a file name over 400 characters on PostgreSQL, exclude=³, a page decision with "page": "x").
# Their 5xx are counted and printed but do not fail the run. Empty this set once those fixes are in.
ELSEWHERE: set[str] = set()  # operations whose 5xx are tolerated: none

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _users(db_url: str) -> dict[str, str]:
    """One account per role in the server's database (as `omr user add` makes them): role -> token."""
    from service.auth import add_user
    from service.db import make_engine, migrate, session_factory

    engine = make_engine(db_url)
    try:
        migrate(engine)
        with session_factory(engine)() as s, s.begin():
            return {role: add_user(s, f"{role}1", role) for role in ("admin", "operator", "reviewer", "viewer")}
    finally:
        engine.dispose()


def _req(port: int, path: str, token: str, data: bytes | None = None, ctype: str | None = None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, headers={"Authorization": f"Bearer {token}"})
    if ctype:
        req.add_header("Content-Type", ctype)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")


def _multipart(fields: dict[str, str], files: list[Path]) -> tuple[bytes, str]:
    boundary = "omrfuzzboundary"
    out = b""
    for k, v in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
    for f in files:
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{f.name}"\r\n\r\n'.encode()
        out += f.read_bytes() + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


def _start(port: int, env: dict, log: Path) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-m", "omr.cli", "serve", "--port", str(port)], env=env, cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=open(log, "ab"), start_new_session=True)
    for _ in range(150):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/me", timeout=2)
        except urllib.error.HTTPError as e:
            if e.code == 401:
                return p
        except OSError:
            pass
        time.sleep(0.2)
    p.kill()
    raise AssertionError(f"the server did not start: {log.read_text()[-2000:]}")


def _seed(port: int, tokens: dict[str, str], scans: list[Path]) -> dict:
    """A round, one batch of read pages, and its review items (at least one)."""
    rnd = _req(port, "/api/rounds", tokens["admin"], json.dumps({"name": ROUND, "template": "sipas-2017"}).encode(),
               "application/json")
    body, ctype = _multipart({"round": str(rnd["id"]), "agency": "SNV"}, scans)
    batch = _req(port, "/api/batches", tokens["operator"], body, ctype)["id"]
    t0 = time.monotonic()
    while (b := _req(port, f"/api/batches/{batch}", tokens["viewer"]))["status"] not in ("done", "failed"):
        assert time.monotonic() - t0 < 120, b
        time.sleep(0.3)
    assert b["pages_done"] == len(scans), b
    assert b["review_pending"] >= 1, "the seed needs a review item"
    return {"round": rnd["id"], "batch": batch, "review_pending": b["review_pending"]}


def fuzz(port: int, tokens: dict[str, str], out: Path) -> tuple[dict[str, Counter], list[str]]:
    """Run schemathesis against the server: per operation a Counter of cases and 5xx, and the 5xx seen.

    Requests with a method the path does not have (schemathesis checks they are refused) count under
    "other methods"."""
    har = out / "fuzz.har"
    env = dict(os.environ, SCHEMATHESIS_HOOKS="fuzz_hooks", OMR_FUZZ_TOKENS=json.dumps(tokens),
               PYTHONPATH=os.pathsep.join([str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")]))
    cmd = [sys.executable, "-m", "schemathesis.cli", "run", f"http://127.0.0.1:{port}/openapi.json",
           "--checks", "not_a_server_error", "--phases", "examples,coverage,fuzzing",
           "--max-examples", str(MAX_EXAMPLES), "--max-time", str(MAX_SECONDS), "--seed", "2026",
           "--workers", "1", "--request-timeout", "30", "--continue-on-failure", "--no-shrink",
           "--suppress-health-check", "all", "--warnings", "off", "--generation-database", "none",
           "--report", "har", "--report-har-path", str(har)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=out, timeout=MAX_SECONDS + 120)
    (out / "schemathesis.txt").write_text(proc.stdout + proc.stderr)
    assert har.is_file(), f"schemathesis wrote no report (exit {proc.returncode}):\n{(proc.stdout + proc.stderr)[-3000:]}"
    schema = _req(port, "/openapi.json", tokens["viewer"])
    ops = [(m.upper(), p, re.compile(re.sub(r"\{[^}]+\}", "[^/]+", p))) for p, o in schema["paths"].items() for m in o]
    per: dict[str, Counter] = defaultdict(Counter)
    errors: list[str] = []
    for e in json.loads(har.read_text())["log"]["entries"]:
        method, url, status = e["request"]["method"], e["request"]["url"], e["response"]["status"]
        path = urllib.parse.urlsplit(url).path
        route = next((f"{m} {p}" for m, p, rx in ops if m == method and rx.fullmatch(path)), "other methods")
        per[route]["cases"] += 1
        if status >= 500:
            per[route]["5xx"] += 1
            errors.append(f"{route}: {status} {method} {url[:200]}")
    return per, errors


def table(per: dict[str, Counter]) -> str:
    lines = [f"{'operation':<42} {'cases':>6} {'5xx':>5}"]
    for route in sorted(per, key=lambda r: (r == "other methods", r.split()[-1], r)):
        lines.append(f"{route:<42} {per[route]['cases']:>6} {per[route]['5xx']:>5}")
    lines.append(f"{'total':<42} {sum(c['cases'] for c in per.values()):>6} {sum(c['5xx'] for c in per.values()):>5}")
    return "\n".join(lines)


def test_fuzz_finds_no_server_error(tmp_path, db_url, clean_scans):
    env = dict(os.environ, OMR_DATA_DIR=str(tmp_path / "data"), DATABASE_URL=db_url, OMR_WORKERS="1")
    tokens = _users(db_url)
    scans = sorted(p for p in clean_scans.iterdir() if p.name.startswith("sipas-2017") and p.suffix != ".jsonl")
    port = _free_port()
    log = tmp_path / "server.log"
    server = _start(port, env, log)
    try:
        _seed(port, tokens, scans)
        t0 = time.monotonic()
        per, errors = fuzz(port, tokens, tmp_path)
        took = time.monotonic() - t0
    finally:
        os.killpg(server.pid, 9)
        server.wait(timeout=10)
    report = table(per)
    print(f"\nfuzz on {db_url.split(':')[0]}: {took:.0f} s\n{report}")
    (tmp_path / "fuzz-table.txt").write_text(report + "\n" + "\n".join(errors))
    assert sum(c["cases"] for c in per.values()) > 100 and len(per) >= 15, report
    ours = [e for e in errors if e.split(":")[0] not in ELSEWHERE]
    tail = log.read_text(errors="replace")[-6000:] if log.exists() else ""
    assert not ours, "\n".join(ours[:30]) + f"\n\n{report}\n\nserver log (end):\n{tail}"
