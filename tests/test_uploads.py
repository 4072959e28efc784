"""Uploads: one live file per content hash under concurrency (issue 10, item 3), re-uploading a file
whose pages all failed is a retry (item 2), and the JSON the operator's tools read keeps its shape."""
from __future__ import annotations

import hashlib
import socket
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from service.app import create_app
from service.auth import add_user
from service.models import Page, UploadedFile
from service.settings import Settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Server:
    """The app served by uvicorn on 127.0.0.1 in a thread of this process."""

    def __init__(self, app) -> None:  # noqa: ANN001
        self.port = _free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    limit_concurrency=200))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        t0 = time.monotonic()
        while not self.server.started:
            assert time.monotonic() - t0 < 30, "uvicorn did not start"
            time.sleep(0.02)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc) -> None:  # noqa: ANN002
        self.server.should_exit = True
        self.thread.join(30)


def _app(tmp_path: Path, db_url: str, **over):  # noqa: ANN202
    return create_app(Settings(data_dir=tmp_path / "data", database_url=db_url, workers=1, ocr=False, **over))


def _tokens(app) -> dict[str, str]:  # noqa: ANN001
    with app.state.factory() as s, s.begin():
        return {role: add_user(s, f"{role}1", role) for role in ("admin", "operator", "viewer")}


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _live_rows(app) -> Counter:  # noqa: ANN001
    with app.state.factory() as s:
        return Counter(f.sha256 for f in s.scalars(select(UploadedFile)) if f.status not in ("duplicate", "retried"))


def test_the_same_file_uploaded_twice_at_once_is_live_once(tmp_path, db_url):
    """20 files, each sent twice at the same moment by two clients to a real server: one live row each."""
    app = _app(tmp_path, db_url, start_workers=False)
    tok = _tokens(app)
    files = [(f"scan-{i:02d}.png", hashlib.sha256(f"page {i}".encode()).digest() * 2000) for i in range(20)]
    with _Server(app) as base:
        assert httpx.post(f"{base}/api/rounds", headers=_h(tok["admin"]),
                          json={"name": "R", "template": "hue-2017"}).status_code == 201
        results: list[int] = []
        lock = threading.Lock()

        def send(name: str, data: bytes, barrier: threading.Barrier) -> None:
            with httpx.Client(timeout=60) as c:
                barrier.wait()
                r = c.post(f"{base}/api/batches", headers=_h(tok["operator"]), data={"round": "R"},
                           files=[("files", (name, data))])
            with lock:
                results.append(r.status_code)

        for name, data in files:
            barrier = threading.Barrier(2)
            threads = [threading.Thread(target=send, args=(name, data, barrier)) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
        # and all 20 again, as one batch each from two clients at once (the files in opposite orders)
        barrier = threading.Barrier(2)

        def send_all(order: list[tuple[str, bytes]]) -> None:
            with httpx.Client(timeout=120) as c:
                barrier.wait()
                r = c.post(f"{base}/api/batches", headers=_h(tok["operator"]), data={"round": "R"},
                           files=[("files", (n, d)) for n, d in order])
            with lock:
                results.append(r.status_code)

        both = [threading.Thread(target=send_all, args=(files,)), threading.Thread(target=send_all, args=(files[::-1],))]
        for t in both:
            t.start()
        for t in both:
            t.join(120)
    assert results == [201] * 42, Counter(results)
    live = _live_rows(app)
    twice = sum(1 for n in live.values() if n > 1)
    print(f"\n{db_url.split(':')[0]}: {len(files)} files uploaded twice at once, then twice more: "
          f"{len(live)} live, duplicates let through = {twice}")
    assert len(live) == len(files) and twice == 0
    with app.state.factory() as s:
        rows = s.scalars(select(UploadedFile)).all()
        assert len(rows) == 4 * len(files)
        by_id = {f.id: f for f in rows}
        for f in rows:
            if f.status == "duplicate":
                assert by_id[f.duplicate_of].status == "pending" and by_id[f.duplicate_of].sha256 == f.sha256


def _upload(c: TestClient, token: str, name: str, data: bytes) -> dict:
    r = c.post("/api/batches", headers=_h(token), data={"round": "R"}, files=[("files", (name, data))])
    assert r.status_code == 201, r.text
    return c.get(f"/api/batches/{r.json()['id']}", headers=_h(token)).json()


def test_a_file_whose_pages_all_failed_can_be_uploaded_again(tmp_path, db_url):
    app = _app(tmp_path, db_url, start_workers=False)
    tok = _tokens(app)
    c = TestClient(app)
    c.post("/api/rounds", headers=_h(tok["admin"]), json={"name": "R", "template": "hue-2017"})
    op = tok["operator"]

    def set_state(file_id: int, status: str, pages: list[str]) -> None:
        with app.state.factory() as s, s.begin():
            s.execute(update(UploadedFile).where(UploadedFile.id == file_id).values(status=status))
            f = s.get(UploadedFile, file_id)
            for i, ps in enumerate(pages):
                s.add(Page(batch_id=f.batch_id, round_id=f.round_id, file_id=f.id, index=i, status=ps,
                           error="cannot read" if ps == "error" else None))

    def file_id(batch: dict) -> int:
        with app.state.factory() as s:
            return s.scalar(select(UploadedFile.id).where(UploadedFile.batch_id == batch["id"]))

    # the split failed (file error): a retry
    a1 = _upload(c, op, "a.pdf", b"A" * 100)
    set_state(file_id(a1), "error", [])
    a2 = _upload(c, op, "a (again).pdf", b"A" * 100)
    assert a2["files"][0]["status"] == "pending" and a2["status"] == "queued"
    # every page in error: a retry
    b1 = _upload(c, op, "b.pdf", b"B" * 100)
    set_state(file_id(b1), "split", ["error", "error"])
    b2 = _upload(c, op, "b.pdf", b"B" * 100)
    assert b2["files"][0]["status"] == "pending"
    # one page read: a duplicate, as before
    c1 = _upload(c, op, "c.pdf", b"C" * 100)
    set_state(file_id(c1), "split", ["error", "done"])
    again = _upload(c, op, "c.pdf", b"C" * 100)["files"][0]
    assert again["status"] == "duplicate" and again["duplicate_of"] == file_id(c1)
    # pages still queued, or the file not split yet: duplicates
    d1 = _upload(c, op, "d.pdf", b"D" * 100)
    set_state(file_id(d1), "split", ["error", "queued"])
    assert _upload(c, op, "d.pdf", b"D" * 100)["files"][0]["status"] == "duplicate"
    assert _upload(c, op, "b.pdf", b"B" * 100)["files"][0]["status"] == "duplicate"  # the retry is pending
    with app.state.factory() as s:
        st = {f.id: f.status for f in s.scalars(select(UploadedFile))}
    assert st[file_id(a1)] == "retried" and st[file_id(a2)] == "pending"
    assert st[file_id(b1)] == "retried" and st[file_id(b2)] == "pending"
    # the old batch shows what became of its file
    old = c.get(f"/api/batches/{a1['id']}", headers=_h(tok["viewer"])).json()
    assert old["files"][0]["status"] == "retried" and "again" in old["errors"][0]["error"]
    assert _live_rows(app) == Counter({hashlib.sha256(x * 100).hexdigest(): 1 for x in (b"A", b"B", b"C", b"D")})


def test_a_broken_file_is_read_again_when_uploaded_again(tmp_path):
    """End to end, with the readers: a file that cannot be read fails; the same bytes again are taken."""
    app = _app(tmp_path, f"sqlite:///{tmp_path / 'x.sqlite'}")
    with TestClient(app) as c:
        tok = _tokens(app)
        c.post("/api/rounds", headers=_h(tok["admin"]), json={"name": "R", "template": "hue-2017"})
        broken = b"\x89PNG\r\n\x1a\n" + b"not really a picture" * 50

        def wait(bid: int) -> dict:
            t0 = time.monotonic()
            while time.monotonic() - t0 < 120:
                b = c.get(f"/api/batches/{bid}", headers=_h(tok["viewer"])).json()
                if b["status"] in ("done", "failed"):
                    return b
                time.sleep(0.3)
            raise AssertionError(b)

        up = c.post("/api/batches", headers=_h(tok["operator"]), data={"round": "R"}, files=[("files", ("x.png", broken))])
        first = wait(up.json()["id"])
        assert first["status"] == "failed" and first["pages_failed"] == first["pages_total"] >= 1
        up = c.post("/api/batches", headers=_h(tok["operator"]), data={"round": "R"}, files=[("files", ("x.png", broken))])
        second = wait(up.json()["id"])
        assert second["files"][0]["status"] in ("split", "error"), second  # read again, not a duplicate
        assert c.get(f"/api/batches/{first['id']}", headers=_h(tok["viewer"])).json()["files"][0]["status"] == "retried"


def test_upload_answers_keep_their_shape(tmp_path):
    app = _app(tmp_path, f"sqlite:///{tmp_path / 'x.sqlite'}", start_workers=False)
    tok = _tokens(app)
    c = TestClient(app)
    c.post("/api/rounds", headers=_h(tok["admin"]), json={"name": "R", "template": "hue-2017"})
    r = c.post("/api/batches", headers=_h(tok["operator"]), data={"round": "R", "agency": "SNV"},
               files=[("files", ("a.png", b"a")), ("files", ("a-copy.png", b"a"))])
    assert r.status_code == 201 and set(r.json()) == {"id", "status"} and r.json()["status"] in ("queued", "processing")
    b = c.get(f"/api/batches/{r.json()['id']}", headers=_h(tok["viewer"])).json()
    assert {"id", "status", "pages_total", "pages_done", "pages_failed", "review_pending", "pages_blank", "round_id",
            "agency", "files", "errors", "warnings"} <= set(b)
    assert [f["status"] for f in b["files"]] == ["pending", "duplicate"] and b["agency"] == "SNV"
    assert set(b["files"][0]) >= {"name", "sha256", "status", "duplicate_of"}
    assert c.post("/api/batches", headers=_h(tok["operator"]), data={"round": "R"}).status_code == 422  # no files
    r = c.post("/api/batches", headers=_h(tok["operator"]), json={"round": "R"})
    assert r.status_code == 422 and "multipart/form-data" in r.json()["detail"]


def test_a_broken_off_upload_leaves_nothing_and_old_leftovers_are_swept(tmp_path):
    import os

    from _asgi import call, multipart, multipart_headers

    app = _app(tmp_path, f"sqlite:///{tmp_path / 'x.sqlite'}", start_workers=False)
    tok = _tokens(app)
    TestClient(app).post("/api/rounds", headers=_h(tok["admin"]), json={"name": "R", "template": "hue-2017"})

    def broken_off():  # noqa: ANN202
        body = multipart({"round": "R"}, [("a.png", 5 << 20)])
        for _ in range(20):
            yield next(body)
        # and the client goes away mid-file

    out = call(app, "POST", "/api/batches", multipart_headers(tok["operator"]), _disconnecting(broken_off()))
    assert out["status"] == 400
    root = app.state.store.root
    assert not any((root / "tmp").iterdir()) and not any((root / "files").iterdir())
    # a half-received file from a server that was stopped: swept at the next start
    stale = root / "tmp" / "tmpabc"
    stale.write_bytes(b"half")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    fresh = root / "tmp" / "tmpdef"
    fresh.write_bytes(b"in flight")
    _app(tmp_path, f"sqlite:///{tmp_path / 'x.sqlite'}", start_workers=False)
    assert not stale.exists() and fresh.exists()


def _disconnecting(chunks):  # noqa: ANN001, ANN202
    """Chunks, then None: _asgi.call turns None into http.disconnect."""
    yield from chunks
    yield None


def test_a_file_sent_under_another_field_name_is_named_in_a_422(tmp_path):
    app = _app(tmp_path, f"sqlite:///{tmp_path / 'x.sqlite'}", start_workers=False)
    tok = _tokens(app)
    c = TestClient(app)
    c.post("/api/rounds", headers=_h(tok["admin"]), json={"name": "R", "template": "hue-2017"})
    r = c.post("/api/batches", headers=_h(tok["operator"]), data={"round": "R"}, files=[("file", ("a.png", b"a"))])
    assert r.status_code == 422 and "'file'" in r.json()["detail"] and "'files'" in r.json()["detail"]
    assert not any((app.state.store.root / "files").iterdir())
