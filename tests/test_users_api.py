"""Accounts through the API, as an admin manages them: create with a role, disable, new token, last sign-in."""
from __future__ import annotations

from tests.test_agencies_print_runs import _client
from tests.test_integrity import _h, _tokens


def test_admin_manages_accounts(tmp_path, db_url):
    with _client(tmp_path, db_url) as c:
        tok = _tokens(c)
        r = c.post("/api/users", headers=_h(tok["admin"]), json={"name": "binh", "role": "operator"})
        assert r.status_code == 201 and r.json()["role"] == "operator" and len(r.json()["token"]) > 20
        binh = r.json()["token"]
        assert c.get("/api/me", headers=_h(binh)).json()["role"] == "operator"
        assert c.post("/api/users", headers=_h(tok["admin"]), json={"name": "binh", "role": "viewer"}).status_code == 409
        assert c.post("/api/users", headers=_h(tok["admin"]), json={"name": "x", "role": "boss"}).status_code == 422
        assert c.post("/api/users", headers=_h(tok["admin"]), json={"name": "a b", "role": "viewer"}).status_code == 422
        for who in ("op", "rv1", "viewer"):
            assert c.get("/api/users", headers=_h(tok[who])).status_code == 403
            assert c.post("/api/users", headers=_h(tok[who]), json={"name": "z", "role": "admin"}).status_code == 403
        listed = {u["name"]: u for u in c.get("/api/users", headers=_h(tok["admin"])).json()}
        assert listed["binh"]["active"] is True and "token" not in listed["binh"] and "token_hash" not in listed["binh"]
        # sign in once: the last sign-in is shown
        assert c.post("/api/login", json={"name": "binh", "token": binh}).status_code == 200
        c.cookies.clear()
        assert next(u for u in c.get("/api/users", headers=_h(tok["admin"])).json() if u["name"] == "binh")["last_login_at"]
        # a new token: shown once, the old one stops working
        r = c.patch("/api/users/binh", headers=_h(tok["admin"]), json={"new_token": True})
        assert r.status_code == 200 and r.json()["token"] != binh
        assert c.get("/api/me", headers=_h(binh)).status_code == 401
        binh = r.json()["token"]
        assert c.get("/api/me", headers=_h(binh)).status_code == 200
        # disabled: no more access, by token or by session
        assert c.patch("/api/users/binh", headers=_h(tok["admin"]), json={"active": False}).json()["active"] is False
        assert c.get("/api/me", headers=_h(binh)).status_code == 401
        assert c.post("/api/login", json={"name": "binh", "token": binh}).status_code in (401, 403)
        assert c.patch("/api/users/binh", headers=_h(tok["admin"]), json={"active": True, "role": "reviewer"}).status_code == 200
        assert c.get("/api/me", headers=_h(binh)).json()["role"] == "reviewer"
        # an admin does not lock themselves out
        assert c.patch("/api/users/admin", headers=_h(tok["admin"]), json={"active": False}).status_code == 409
        assert c.patch("/api/users/nobody", headers=_h(tok["admin"]), json={"active": False}).status_code == 404
        from service.models import AuditEntry

        with c.app.state.factory() as s:
            assert {a.action for a in s.query(AuditEntry)} >= {"create account", "edit account"}
