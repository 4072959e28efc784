"""Kill the server (SIGKILL) in the middle of a batch, start it again: nothing lost, nothing counted twice."""
from __future__ import annotations

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

import cv2
import pytest

from omr.layout import layout
from omr.template import load_template

ROOT = Path(__file__).parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _omr(*args: str, env: dict) -> str:
    return subprocess.run([sys.executable, "-m", "omr.cli", *args], capture_output=True, text=True, env=env, cwd=ROOT,
                          check=True, timeout=120).stdout.strip()


def _req(port: int, path: str, token: str, data: bytes | None = None, ctype: str | None = None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, headers={"Authorization": f"Bearer {token}"})
    if ctype:
        req.add_header("Content-Type", ctype)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")


def _multipart(fields: dict[str, str], files: list[Path]) -> tuple[bytes, str]:
    boundary = "omrtestboundary"
    out = b""
    for k, v in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
    for f in files:
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{f.name}"\r\n\r\n'.encode()
        out += f.read_bytes() + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


def _start(port: int, env: dict) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-m", "omr.cli", "serve", "--port", str(port)], env=env, cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=open(env["OMR_DATA_DIR"] + ".log", "ab"), start_new_session=True)
    for _ in range(150):
        # ready when it answers HTTP (a 401 for no token), not merely when a socket accepts
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/me", timeout=2)
        except urllib.error.HTTPError as e:
            if e.code == 401:
                return p
        except OSError:
            pass
        time.sleep(0.2)
    p.kill()
    raise AssertionError("the server did not start")


@pytest.mark.slow
def test_sigkill_mid_batch_then_restart(tmp_path, db_url, clean_scans):
    env = dict(os.environ, OMR_DATA_DIR=str(tmp_path / "data"), DATABASE_URL=db_url, OMR_WORKERS="2")
    admin = _omr("user", "add", "boss", "--role", "admin", env=env)
    op = _omr("user", "add", "op", "--role", "operator", env=env)
    # 30 pages: the clean scans and re-encoded copies of them (different files, same sheets)
    scans = sorted(p for p in clean_scans.iterdir() if p.suffix in (".jpg", ".png", ".tif"))
    files = []
    for k in range(4):
        for p in scans:
            img = cv2.imread(str(p), cv2.IMREAD_GRAYSCALE)
            out = tmp_path / f"copy{k}-{p.stem}.png"
            cv2.imwrite(str(out), img if k == 0 else cv2.add(img, k))  # a different file each time
            files.append(out)
    port = _free_port()
    server = _start(port, env)
    try:
        _req(port, "/api/rounds", admin, json.dumps({"name": "R", "template": "sipas-2017"}).encode(), "application/json")
        body, ctype = _multipart({"round": "R"}, files)
        batch = _req(port, "/api/batches", op, body, ctype)["id"]
        t0 = time.monotonic()
        while True:
            b = _req(port, f"/api/batches/{batch}", admin)
            if b["pages_done"] >= 3:
                break
            assert time.monotonic() - t0 < 120, b
            time.sleep(0.05)
        assert b["pages_done"] < len(files), "the batch finished before the kill: make it longer"
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
    killed_at = b["pages_done"]
    server = _start(port, env)
    try:
        t0 = time.monotonic()
        while (b := _req(port, f"/api/batches/{batch}", admin))["status"] not in ("done", "failed"):
            assert time.monotonic() - t0 < 240, b
            time.sleep(0.3)
        assert b["status"] == "done" and b["pages_total"] == len(files) and b["pages_done"] == len(files), (killed_at, b)
        # every page's answers exactly once: as many as its page of the form has fields
        t = load_template("sipas-2017")
        nfields = {p.page: len(p.fields) for p in layout(t).pages}
        hue = {p.page: len(p.fields) for p in layout(load_template("hue-2017")).pages}
        for pid in range(1, len(files) + 1):
            page = _req(port, f"/api/pages/{pid}", admin)
            if page["template"] == "sipas-2017" and page["status"] == "ok":
                assert len(page["fields"]) == nfields[page["page"]], page["source"]
            else:
                assert page["template"] == "hue-2017" and page["fields"] == {} and hue  # another form: not counted
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)


def _children(pid: int) -> set[int]:
    out = set()
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.add(int(d.name))
            except (OSError, IndexError, ValueError):
                pass
    return out


def _descendants(pid: int) -> set[int]:
    out, todo = set(), [pid]
    while todo:
        kids = _children(todo.pop())
        out |= kids
        todo.extend(kids)
    return out


def _gone(pids: set[int], timeout: float) -> set[int]:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        alive = {p for p in pids if Path(f"/proc/{p}").exists() and _state(p) != "(Z)"}
        if not alive:
            return set()
        time.sleep(0.2)
    return alive


def _state(pid: int) -> str:
    try:
        return "(Z)" if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z" else ""
    except OSError:
        return ""


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_the_readers_go_when_the_server_goes(tmp_path, clean_scans, sig):
    """`kill PID` (a supervisor stopping the service) or a crash: no reader process is left behind."""
    env = dict(os.environ, OMR_DATA_DIR=str(tmp_path / "data"), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite'}", OMR_WORKERS="2")
    admin = _omr("user", "add", "boss", "--role", "admin", env=env)
    port = _free_port()
    server = _start(port, env)
    try:
        _req(port, "/api/rounds", admin, json.dumps({"name": "r", "template": "hue-2017"}).encode(), "application/json")
        body, ctype = _multipart({"round": "r"}, [next(p for p in sorted(clean_scans.iterdir()) if p.suffix == ".jpg")])
        bid = _req(port, "/api/batches", admin, body, ctype)["id"]
        for _ in range(200):
            if _req(port, f"/api/batches/{bid}", admin)["status"] == "done":
                break
            time.sleep(0.2)
        readers = _descendants(server.pid)
        assert len(readers) >= 2, "the server has reader processes once it has read a page"
        os.kill(server.pid, sig)  # the server alone, not its process group
        server.wait(timeout=30)
        assert _gone(readers, timeout=15) == set()
    finally:
        try:
            os.killpg(server.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
