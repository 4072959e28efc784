"""Sessions, CSRF, the login throttle, request-size limits and what errors echo (issue 10, items 8-12)."""
from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from _asgi import call, multipart, multipart_headers
from service.app import create_app
from service.auth import add_user, set_active
from service.models import User, WebSession
from service.settings import Settings
from service.throttle import LoginThrottle


def _app(tmp_path: Path, db_url: str, **over):  # noqa: ANN202
    return create_app(Settings(data_dir=tmp_path / "data", database_url=db_url, workers=1, ocr=False,
                               start_workers=False, **over))


def _tokens(app) -> dict[str, str]:  # noqa: ANN001
    with app.state.factory() as s, s.begin():
        return {role: add_user(s, f"{role}1", role) for role in ("admin", "operator", "reviewer", "viewer")}


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _login(c: TestClient, name: str, token: str) -> dict:
    r = c.post("/api/login", json={"name": name, "token": token})
    assert r.status_code == 200, r.text
    return r.json()


# ---------------------------------------------------------------- 8: sessions


def test_the_cookie_is_a_session_of_its_own_not_the_token(tmp_path, db_url):
    app = _app(tmp_path, db_url)
    tok = _tokens(app)
    c = TestClient(app)
    got = _login(c, "reviewer1", tok["reviewer"])
    cookie = c.cookies.get("omr_session")
    assert cookie and cookie != tok["reviewer"] and len(cookie) >= 43
    assert got["name"] == "reviewer1" and got["role"] == "reviewer" and len(got["csrf"]) == 64
    me = c.get("/api/me").json()
    assert me == {"name": "reviewer1", "role": "reviewer", "csrf": got["csrf"]}
    # stored only as its hash; the user's sign-in is recorded
    with app.state.factory() as s:
        ws = s.scalars(select(WebSession)).one()
        assert ws.id_hash == hashlib.sha256(cookie.encode()).hexdigest() and ws.ended_at is None
        assert ws.csrf_hash == hashlib.sha256(got["csrf"].encode()).hexdigest()
        assert s.scalar(select(User).where(User.name == "reviewer1")).last_login_at is not None
    set_cookie = c.post("/api/login", json={"name": "viewer1", "token": tok["viewer"]}).headers["set-cookie"].lower()
    assert "httponly" in set_cookie and "samesite=strict" in set_cookie and "path=/" in set_cookie
    assert "max-age=43200" in set_cookie
    # the cookie is no bearer token, the token is no cookie
    bare = TestClient(app)
    assert bare.get("/api/me", headers=_h(cookie)).status_code == 401
    bare.cookies.set("omr_session", tok["reviewer"])
    assert bare.get("/api/me").status_code == 401
    # bearer callers get no CSRF token: they need none
    assert "csrf" not in TestClient(app).get("/api/me", headers=_h(tok["reviewer"])).json()


def test_logout_ends_the_session_on_the_server(tmp_path, db_url):
    app = _app(tmp_path, db_url)
    tok = _tokens(app)
    c = TestClient(app)
    csrf = _login(c, "reviewer1", tok["reviewer"])["csrf"]
    cookie = c.cookies.get("omr_session")
    r = c.post("/api/logout", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 204 and 'omr_session=""' in r.headers["set-cookie"]
    replay = TestClient(app)
    replay.cookies.set("omr_session", cookie)
    r = replay.get("/api/me")
    assert r.status_code == 401 and "ended" in r.json()["detail"]
    with app.state.factory() as s:
        assert s.scalars(select(WebSession)).one().ended_at is not None
    # the token still works as a bearer token, and for a new sign-in
    assert TestClient(app).get("/api/me", headers=_h(tok["reviewer"])).status_code == 200
    _login(TestClient(app), "reviewer1", tok["reviewer"])


def test_sessions_expire(tmp_path):
    app = _app(tmp_path, f"sqlite:///{tmp_path / 'x.sqlite'}", session_hours=1.5 / 3600)
    tok = _tokens(app)
    c = TestClient(app)
    _login(c, "viewer1", tok["viewer"])
    assert c.get("/api/me").status_code == 200
    time.sleep(2.0)
    assert c.get("/api/me").status_code == 401


def test_a_disabled_account_is_refused_by_token_and_by_session(tmp_path, db_url):
    app = _app(tmp_path, db_url)
    tok = _tokens(app)
    c = TestClient(app)
    _login(c, "operator1", tok["operator"])
    with app.state.factory() as s, s.begin():
        set_active(s, "operator1", False)
    assert c.get("/api/me").status_code == 401
    assert TestClient(app).get("/api/me", headers=_h(tok["operator"])).status_code == 401
    assert TestClient(app).post("/api/login", json={"name": "operator1", "token": tok["operator"]}).status_code == 401
    with app.state.factory() as s, s.begin():
        set_active(s, "operator1", True)
    assert TestClient(app).get("/api/me", headers=_h(tok["operator"])).status_code == 200
    assert c.get("/api/me").status_code == 401  # the session disabling ended stays ended


# ---------------------------------------------------------------- 9: CSRF


def test_cookie_writes_need_the_csrf_token_and_this_origin(tmp_path, db_url):
    app = _app(tmp_path, db_url)
    tok = _tokens(app)
    c = TestClient(app)
    csrf = _login(c, "admin1", tok["admin"])["csrf"]
    body = {"name": "R1", "template": "hue-2017"}
    r = c.post("/api/rounds", json=body)
    assert r.status_code == 403 and "X-CSRF-Token" in r.json()["detail"]
    assert c.post("/api/rounds", json=body, headers={"X-CSRF-Token": "0" * 64}).status_code == 403
    evil = c.post("/api/rounds", json=body, headers={"X-CSRF-Token": csrf, "Origin": "http://127.0.0.1:9999"})
    assert evil.status_code == 403 and "Origin" in evil.json()["detail"]
    assert c.post("/api/rounds", json=body, headers={"X-CSRF-Token": csrf, "Origin": "null"}).status_code == 403
    assert c.get("/api/rounds").json() == []  # nothing was written
    ok = c.post("/api/rounds", json=body, headers={"X-CSRF-Token": csrf, "Origin": "http://testserver"})
    assert ok.status_code == 201
    assert c.post("/api/rounds", json={**body, "name": "R2"}, headers={"X-CSRF-Token": csrf}).status_code == 201
    # a bearer token is exempt (a page of another site cannot send it), whatever the Origin
    r = TestClient(app).post("/api/rounds", json={**body, "name": "R3"},
                             headers={**_h(tok["admin"]), "Origin": "http://evil.example"})
    assert r.status_code == 201
    # the CSRF token of one session is not another's
    other = TestClient(app)
    _login(other, "admin1", tok["admin"])
    assert other.post("/api/rounds", json={**body, "name": "R4"}, headers={"X-CSRF-Token": csrf}).status_code == 403
    # signing in from another site's page is refused too (login forgery)
    r = TestClient(app).post("/api/login", json={"name": "admin1", "token": tok["admin"]},
                             headers={"Origin": "http://evil.example"})
    assert r.status_code == 403
    # logout with the cookie needs the token as well
    assert c.post("/api/logout").status_code == 403
    assert c.get("/api/me").status_code == 200


# ---------------------------------------------------------------- 10: login throttle


def test_wrong_logins_are_throttled_per_address_and_name(tmp_path):
    app = _app(tmp_path, f"sqlite:///{tmp_path / 'x.sqlite'}")
    tok = _tokens(app)
    a = TestClient(app, client=("10.0.0.1", 40000))
    b = TestClient(app, client=("10.0.0.2", 40000))
    for _ in range(5):
        assert a.post("/api/login", json={"name": "reviewer1", "token": "guess"}).status_code == 401
    r = a.post("/api/login", json={"name": "reviewer1", "token": tok["reviewer"]})  # even the right token
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0 and r.json()["retry_after"] > 0
    assert a.post("/api/login", json={"name": "admin1", "token": tok["admin"]}).status_code == 429  # the address is locked
    # the real user, from another address, still signs in (someone guessing cannot lock them out)
    assert b.post("/api/login", json={"name": "reviewer1", "token": tok["reviewer"]}).status_code == 200
    # many names from one address: the address is locked
    d = TestClient(app, client=("10.0.0.4", 40000))
    for i in range(5):
        assert d.post("/api/login", json={"name": f"nobody{i}", "token": "guess"}).status_code == 401
    assert d.post("/api/login", json={"name": "viewer1", "token": tok["viewer"]}).status_code == 429
    # bearer tokens are not throttled by the login throttle
    assert TestClient(app, client=("10.0.0.1", 40000)).get("/api/me", headers=_h(tok["reviewer"])).status_code == 200


def test_throttle_locks_grow_and_a_right_login_clears_the_name():
    now = [1000.0]
    t = LoginThrottle(max_failures=5, window=300, lock=30, lock_max=900, clock=lambda: now[0])
    for _ in range(4):
        t.failed("an", "1.1.1.1")
    assert t.retry_after("an", "1.1.1.1") == 0
    t.failed("an", "1.1.1.1")
    assert t.retry_after("an", "1.1.1.1") == 30
    assert t.retry_after("an", "2.2.2.2") == 0  # an address that took no part
    waits = []
    for _ in range(6):
        now[0] += 1000  # wait the lock out (but less than an hour: the strikes are remembered)
        for _ in range(5):
            t.failed("an", "1.1.1.1")
        waits.append(t.retry_after("an", "1.1.1.1"))
    assert waits == [60, 120, 240, 480, 900, 900]
    # failures spread wider than the window do not add up
    t2 = LoginThrottle(max_failures=5, window=300, lock=30, clock=lambda: now[0])
    for _ in range(10):
        now[0] += 301
        t2.failed("binh", "3.3.3.3")
    assert t2.retry_after("binh", "3.3.3.3") == 0
    # a right login clears the name, not the address
    t3 = LoginThrottle(max_failures=2, window=300, lock=30, clock=lambda: now[0])
    t3.failed("chi", "4.4.4.4")
    t3.failed("chi", "5.5.5.5")
    assert t3.retry_after("chi", "5.5.5.5") == 30
    t3.succeeded("chi")
    assert t3.retry_after("chi", "5.5.5.5") == 0
    t3.failed("x", "6.6.6.6")
    t3.failed("y", "6.6.6.6")
    t3.succeeded("y")
    assert t3.retry_after("y", "6.6.6.6") == 30


# ---------------------------------------------------------------- 11: request-size limits


def _store_is_empty(app) -> bool:  # noqa: ANN001
    root = app.state.store.root
    return not any((root / "tmp").iterdir()) and not any((root / "files").iterdir())


def test_json_bodies_are_capped(tmp_path):
    app = _app(tmp_path, f"sqlite:///{tmp_path / 'x.sqlite'}", max_json_kb=4)
    tok = _tokens(app)
    c = TestClient(app)
    big = {"name": "x" * 10_000, "token": "y"}
    r = c.post("/api/login", json=big)  # Content-Length says it
    assert r.status_code == 413 and "4 kB" in r.json()["detail"]

    def chunked():  # noqa: ANN202
        yield b'{"name": "'
        for _ in range(100):
            yield b"x" * 1000
        yield b'", "token": "y"}'

    r = c.post("/api/login", content=chunked(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    # no Content-Length (chunked): the guard stops reading once past the cap
    out = call(app, "POST", "/api/login", {"content-type": "application/json", "host": "127.0.0.1:8000"},
               (b"x" * 1024 for _ in range(200_000)))
    assert out["status"] == 413 and out["chunks_read"] <= 6
    assert c.post("/api/rounds", headers=_h(tok["admin"]), json={"name": "R", "template": "hue-2017"}).status_code == 201


def test_an_upload_is_refused_before_its_body_is_read(tmp_path, db_url):
    """No token, a bad token, a wrong role: the answer comes after the headers, not after the body."""
    app = _app(tmp_path, db_url)
    tok = _tokens(app)
    TestClient(app).post("/api/rounds", headers=_h(tok["admin"]), json={"name": "R", "template": "hue-2017"})
    one_gb = [("big.pdf", 1 << 30)]
    for token, status in ((None, 401), ("not-a-token", 401), (tok["viewer"], 403), (tok["reviewer"], 403)):
        out = call(app, "POST", "/api/batches", multipart_headers(token), multipart({"round": "R"}, one_gb))
        assert out["status"] == status, (token, out)
        assert out["chunks_read"] == 0, out
    # a cookie write without its CSRF token: also refused before the body
    c = TestClient(app)
    _login(c, "operator1", tok["operator"])
    h = {**multipart_headers(), "cookie": f"omr_session={c.cookies.get('omr_session')}"}
    out = call(app, "POST", "/api/batches", h, multipart({"round": "R"}, one_gb))
    assert out["status"] == 403 and out["chunks_read"] == 0
    # an unknown round, sent before the files: refused before the files are read
    out = call(app, "POST", "/api/batches", multipart_headers(tok["operator"]), multipart({"round": "nope"}, one_gb))
    assert out["status"] == 404 and out["chunks_read"] <= 3
    assert _store_is_empty(app)


def test_uploads_are_capped_per_file_and_per_batch_while_they_stream(tmp_path, db_url):
    app = _app(tmp_path, db_url, max_file_mb=2, max_batch_mb=5)
    tok = _tokens(app)
    c = TestClient(app)
    c.post("/api/rounds", headers=_h(tok["admin"]), json={"name": "R", "template": "hue-2017"})
    # one file past the per-file limit: 413 naming it, reading stops there (64 kB chunks)
    out = call(app, "POST", "/api/batches", multipart_headers(tok["operator"]),
               multipart({"round": "R"}, [("small.png", 1000), ("Phiếu lớn.pdf", 1 << 30)]))
    assert out["status"] == 413 and "Phiếu lớn.pdf" in out["body"]["detail"] and "2 MB" in out["body"]["detail"]
    assert out["chunks_read"] < 2 * 16 + 10
    assert _store_is_empty(app)  # the small file that came first is not kept either
    # files each within the limit, too many together: 413 naming the file that passed the batch limit
    files = [(f"f{i}.png", (3 << 19)) for i in range(6)]  # 1.5 MB each
    out = call(app, "POST", "/api/batches", multipart_headers(tok["operator"]), multipart({"round": "R"}, files))
    assert out["status"] == 413 and "'f3.png'" in out["body"]["detail"] and "5 MB" in out["body"]["detail"]
    assert out["chunks_read"] < 5 * 16 + 10
    assert _store_is_empty(app)
    # Content-Length above the batch limit: refused from the header
    out = call(app, "POST", "/api/batches", {**multipart_headers(tok["operator"]), "content-length": str(7 << 20)},
               multipart({"round": "R"}, [("a.png", 7 << 20)]))
    assert out["status"] == 413 and out["chunks_read"] == 0 and "7 MB" in out["body"]["detail"]
    # within the limits: accepted, the files are where the store keeps them, tmp/ is empty again
    ok = c.post("/api/batches", headers=_h(tok["operator"]), data={"round": "R"},
                files=[("files", ("a.png", b"a" * (1 << 20))), ("files", ("b.png", b"b" * 1000))])
    assert ok.status_code == 201 and set(ok.json()) == {"id", "status"}
    root = app.state.store.root
    assert not any((root / "tmp").iterdir())
    assert app.state.store.path("files", hashlib.sha256(b"a" * (1 << 20)).hexdigest()).stat().st_size == 1 << 20
    # and the round may come after the files
    ok = c.post("/api/batches", headers=_h(tok["operator"]),
                files=[("files", ("c.png", b"c" * 10)), ("round", (None, "R"))])
    assert ok.status_code == 201, ok.text


# ---------------------------------------------------------------- 12: errors echo a short prefix only


def test_validation_errors_do_not_echo_the_input(tmp_path):
    app = _app(tmp_path, f"sqlite:///{tmp_path / 'x.sqlite'}")
    tok = _tokens(app)
    c = TestClient(app)
    long = "Z" * 10_000
    for path, body, headers in (("/api/login", {"name": long}, {}),
                                ("/api/login", {"name": "a", "token": long}, {}),
                                ("/api/rounds", {"name": ["Q" * 10_000], "template": "hue-2017"}, _h(tok["admin"]))):
        r = c.post(path, json=body, headers=headers)
        assert r.status_code == 422, r.text
        assert len(r.content) < 2000 and "Z" * 100 not in r.text and "Q" * 100 not in r.text
        errors = r.json()["detail"]
        assert isinstance(errors, list) and errors
        assert all({"loc", "msg", "type"} <= set(e) for e in errors)
    # a short input is still shown as it was
    r = c.post("/api/login", json={"name": 5, "token": "t"})
    assert r.status_code == 422 and r.json()["detail"][0]["input"] == 5
    # an agency code that is not one: named by a prefix only
    r = c.post("/api/batches", headers=_h(tok["operator"]), data={"round": "1", "agency": "A" * 5000},
               files=[("files", ("a.png", b"x"))])
    assert r.status_code in (404, 422) and "A" * 100 not in r.text


def test_omr_user_disable_list_and_enable(tmp_path, db_url, capsys):
    from omr.cli import main as omr_main

    app = _app(tmp_path, db_url)
    tok = _tokens(app)
    c = TestClient(app)
    _login(c, "reviewer1", tok["reviewer"])
    db = ["--database", db_url, "--data-dir", str(tmp_path / "data")]
    assert omr_main(["user", "disable", "reviewer1", *db]) == 0
    assert TestClient(app).get("/api/me", headers=_h(tok["reviewer"])).status_code == 401
    assert c.get("/api/me").status_code == 401
    capsys.readouterr()
    assert omr_main(["user", "list", *db]) == 0
    lines = {ln.split()[0]: ln.split() for ln in capsys.readouterr().out.splitlines()[1:]}
    assert lines["reviewer1"][1:3] == ["reviewer", "disabled"] and lines["reviewer1"][3] != "never"
    assert lines["viewer1"][1:] == ["viewer", "active", "never"]
    assert omr_main(["user", "disable", "nobody", *db]) == 2
    assert omr_main(["user", "enable", "reviewer1", *db]) == 0
    assert TestClient(app).get("/api/me", headers=_h(tok["reviewer"])).status_code == 200
