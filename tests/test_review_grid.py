"""Grid review through the API, on SQLite and PostgreSQL: the groups, a grid claimed at once, bulk decisions
(all or nothing: an item held by someone else or stale refuses the whole request), every item audited
alone, a grid undone, and two reviewers deciding overlapping grids at the same moment."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.app import create_app
from service.auth import add_user
from service.models import Answer, AuditEntry, ReviewItem
from service.settings import Settings
from tests._review_seed import seed_pages

FAINT = "faint mark"


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def _setup(tmp_path: Path, db_url: str):  # noqa: ANN202
    with TestClient(create_app(Settings(data_dir=tmp_path / "data", database_url=db_url, workers=1, ocr=False))) as c:
        tok = _round(c)
        yield c, tok


def _round(c: TestClient) -> dict[str, str]:
    with c.app.state.factory() as s, s.begin():
        tok = {n: add_user(s, n, role) for n, role in (("admin1", "admin"), ("rv1", "reviewer"), ("rv2", "reviewer"),
                                                      ("viewer1", "viewer"))}
    r = c.post("/api/rounds", headers=_h(tok["admin1"]), json={"name": "Huế 2026", "template": "sipas-2017"})
    assert r.status_code == 201, r.text
    # c07: a faint 4 on five sheets, a faint 5 on two; c03: two marks on three sheets
    sheets = {f"{k:06d}": {} for k in range(1, 9)}
    for k in range(1, 6):
        sheets[f"{k:06d}"]["c07"] = (4, "uncertain", FAINT)
    for k in (6, 7):
        sheets[f"{k:06d}"]["c07"] = (5, "uncertain", FAINT)
    for k in (1, 2, 8):
        sheets[f"{k:06d}"]["c03"] = (None, "multiple", "two marks")
    seed_pages(c.app.state.factory, r.json()["id"], sheets)
    return tok


def _items(c, **where):  # noqa: ANN001, ANN202
    with c.app.state.factory() as s:
        return {it.id: it for it in s.scalars(select(ReviewItem).filter_by(**where))}


def _answer(c, item: ReviewItem):  # noqa: ANN001, ANN202
    with c.app.state.factory() as s:
        a = s.scalar(select(Answer).where(Answer.page_id == item.page_id, Answer.field_id == item.field_id))
        return a.value, a.status, a.source


def _audits(c, action: str | None = None) -> list[AuditEntry]:  # noqa: ANN001
    with c.app.state.factory() as s:
        q = select(AuditEntry).order_by(AuditEntry.id)
        if action:
            q = q.where(AuditEntry.action == action)
        return list(s.scalars(q))


def test_groups_largest_first_with_their_proposals(tmp_path, db_url):
    with _setup(tmp_path, db_url) as (c, tok):
        r = c.get("/api/review/groups?round=Huế 2026&ids=3", headers=_h(tok["rv1"]))
        assert r.status_code == 200, r.text
        g = r.json()["groups"]
        assert [(x["field_id"], x["reason"], x["status"], x["proposed"], x["count"]) for x in g] == [
            ("c07", FAINT, "uncertain", 4, 5), ("c03", "two marks", "multiple", None, 3), ("c07", FAINT, "uncertain", 5, 2)]
        assert r.json()["items"] == 10
        assert [len(x["item_ids"]) for x in g] == [3, 3, 2] and all(x["free"] == x["count"] for x in g)
        assert g[0]["question"] and g[0]["proposed_label"]  # the question's text and the label of option 4
        assert c.get("/api/review/groups?round=Huế 2026", headers=_h(tok["viewer1"])).status_code == 403
        assert c.get("/api/review/groups", headers=_h(tok["rv1"])).status_code == 422

        # a grid of the largest group, claimed for rv1: rv2 sees those items held and gets the rest
        grid = c.get("/api/review/grid?round=Huế 2026&size=3", headers=_h(tok["rv1"])).json()
        assert grid["group"]["key"] == g[0]["key"] and len(grid["items"]) == 3
        assert all(i["field_id"] == "c07" and i["proposed"] == 4 and i["claimed_by"] == "rv1" for i in grid["items"])
        g2 = c.get("/api/review/groups?round=Huế 2026", headers=_h(tok["rv2"])).json()["groups"]
        assert g2[0]["count"] == 5 and g2[0]["free"] == 2
        other = c.get(f"/api/review/grid?round=Huế 2026&size=10&group={g[0]['key']}", headers=_h(tok["rv2"])).json()
        assert len(other["items"]) == 2 and not {i["id"] for i in other["items"]} & {i["id"] for i in grid["items"]}
        assert other["groups_left"] is None and grid["groups_left"] == 3  # a named group is scanned alone
        # that group is now all held (by rv1 and rv2): naming it gives a third reviewer nothing; a malformed key names none
        assert c.get(f"/api/review/grid?round=Huế 2026&group={g[0]['key']}", headers=_h(tok["viewer1"])).status_code == 403
        for key in (g[0]["key"], "[1,2]", "not json", '["c07","faint mark","uncertain",5]'):
            r = c.get("/api/review/grid", params={"round": "Huế 2026", "group": key}, headers=_h(tok["admin1"]))
            assert r.status_code == (200 if key.endswith("5]") else 204), key


def test_bulk_accepts_a_grid_each_item_audited_and_undoes_it(tmp_path, db_url):
    with _setup(tmp_path, db_url) as (c, tok):
        grid = c.get("/api/review/grid?round=Huế 2026&size=40", headers=_h(tok["rv1"])).json()
        items = grid["items"]
        assert len(items) == 5
        # one crop corrected to 3, the others accepted as proposed
        fix = items[1]["id"]
        body = {"accept": True, "items": [{"id": i["id"], "revision": i["revision"], **({"value": 3} if i["id"] == fix else {})}
                                          for i in items]}
        r = c.post("/api/review/bulk", headers=_h(tok["rv1"]), json=body)
        assert r.status_code == 200, r.text
        assert r.json()["decided"] == 5
        done = _items(c, state="done")
        assert set(done) == {i["id"] for i in items} and all(it.decided_by == "rv1" for it in done.values())
        for it in done.values():
            assert _answer(c, it) == ((3 if it.id == fix else 4), "answered", "reviewer")
        audits = _audits(c, "review")
        assert sorted(a.new["item"] for a in audits) == sorted(done) and all(a.new["mode"] == "grid" for a in audits)
        assert all(a.old == {"value": 4, "status": "uncertain", "source": "engine"} for a in audits)
        # the same grid again: decided already, refused whole
        again = c.post("/api/review/bulk", headers=_h(tok["rv1"]), json={"accept": True, "items": [i["id"] for i in items]})
        assert again.status_code == 409 and {x["id"] for x in again.json()["conflicts"]} == set(done)
        # another reviewer cannot undo rv1's grid; rv1 can, all of it
        assert c.post("/api/review/bulk/undo", headers=_h(tok["rv2"]), json={"items": list(done)}).status_code == 403
        u = c.post("/api/review/bulk/undo", headers=_h(tok["rv1"]), json={"items": list(done)})
        assert u.status_code == 200, u.text
        assert all(i["state"] == "pending" and i["claimed_by"] == "rv1" for i in u.json()["items"])
        for it in _items(c, field_id="c07").values():
            if it.id in done:
                assert it.state == "pending" and _answer(c, it) == (4, "uncertain", "engine")
        assert len(_audits(c, "undo")) == 5
        # several marks accepted as proposed: no valid answer (invalid), never a blank
        groups = c.get("/api/review/groups?round=Huế 2026&ids=10", headers=_h(tok["rv1"])).json()["groups"]
        two = next(g for g in groups if g["reason"] == "two marks")
        assert c.post("/api/review/bulk", headers=_h(tok["rv1"]), json={"accept": True, "items": two["item_ids"]}).status_code == 200
        for iid in two["item_ids"]:
            assert _answer(c, _items(c, id=iid)[iid]) == (None, "multiple", "reviewer")


def test_bulk_is_all_or_nothing(tmp_path, db_url):
    with _setup(tmp_path, db_url) as (c, tok):
        mine = c.get("/api/review/grid?round=Huế 2026&size=3", headers=_h(tok["rv1"])).json()["items"]
        theirs = c.get("/api/review/grid?round=Huế 2026&size=1", headers=_h(tok["rv2"])).json()["items"]
        before = [(it.state, it.revision) for it in _items(c).values()]
        # one item held by rv2: none applied
        r = c.post("/api/review/bulk", headers=_h(tok["rv1"]), json={"accept": True, "items": [i["id"] for i in mine + theirs]})
        assert r.status_code == 409 and r.json()["conflicts"] == [
            {"id": theirs[0]["id"], "state": "pending", "claimed_by": "rv2", "decided_by": None, "revision": 0}]
        # one stale revision: none applied
        stale = [{"id": i["id"], "revision": i["revision"]} for i in mine]
        stale[2]["revision"] = 7
        assert c.post("/api/review/bulk", headers=_h(tok["rv1"]), json={"accept": True, "items": stale}).status_code == 409
        # one value off the scale: 422, none applied
        bad = [{"id": i["id"], "value": 9 if k == 0 else 4} for k, i in enumerate(mine)]
        assert c.post("/api/review/bulk", headers=_h(tok["rv1"]), json={"items": bad}).status_code == 422
        assert [(it.state, it.revision) for it in _items(c).values()] == before
        assert _audits(c) == []
        # malformed requests are named
        for body, code in (({"items": []}, 422), ({"items": [mine[0]["id"]]}, 422), ({"accept": True, "items": [99999]}, 404),
                           ({"accept": True, "items": [mine[0]["id"], mine[0]["id"]]}, 422),
                           ({"accept": True, "items": list(range(1, 300))}, 422)):
            assert c.post("/api/review/bulk", headers=_h(tok["rv1"]), json=body).status_code == code, body
        assert c.post("/api/review/bulk", headers=_h(tok["viewer1"]), json={"accept": True, "items": [1]}).status_code == 403
        # a plain value for all of them
        r = c.post("/api/review/bulk", headers=_h(tok["rv1"]), json={"value": 2, "items": stale[:2]})
        assert r.status_code == 200 and [x["value"] for x in r.json()["items"]] == [2, 2]


def test_two_reviewers_bulk_the_same_items_at_once(tmp_path, db_url):
    """Both send their grid at the same moment (no claims held): exactly one wins it all, the other gets 409
    and changes nothing; every item decided once, audited once."""
    with _setup(tmp_path, db_url) as (c, tok):
        ids = sorted(_items(c, field_id="c07"))
        a, b = ids[:5], ids[2:]  # overlapping
        barrier = threading.Barrier(2)
        out: dict[str, int] = {}

        def send(who: str, items: list[int]) -> None:
            barrier.wait()
            out[who] = c.post("/api/review/bulk", headers=_h(tok[who]), json={"accept": True, "items": items}).status_code

        threads = [threading.Thread(target=send, args=("rv1", a)), threading.Thread(target=send, args=("rv2", b))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(out.values()) == [200, 409], out
        winner = "rv1" if out["rv1"] == 200 else "rv2"
        won = a if winner == "rv1" else b
        done = _items(c, state="done")
        assert sorted(done) == won and all(it.decided_by == winner and it.revision == 1 for it in done.values())
        reviews = _audits(c, "review")
        assert sorted(x.new["item"] for x in reviews) == won and {x.user for x in reviews} == {winner}
        with c.app.state.factory() as s:
            assert s.scalar(select(func.count()).select_from(AuditEntry)) == len(won)


def test_reviewers_work_grid_share_and_items_per_hour(tmp_path, db_url):
    from datetime import datetime, timedelta, timezone

    with _setup(tmp_path, db_url) as (c, tok):
        grid = c.get("/api/review/grid?round=Huế 2026&size=4", headers=_h(tok["rv1"])).json()["items"]
        assert c.post("/api/review/bulk", headers=_h(tok["rv1"]), json={"accept": True, "items": [i["id"] for i in grid]}).status_code == 200
        one = c.get("/api/review/next?round=Huế 2026", headers=_h(tok["rv2"])).json()
        assert c.post(f"/api/review/{one['id']}", headers=_h(tok["rv2"]), json={"value": one["proposed"]}).status_code == 200
        assert c.post(f"/api/review/{one['id']}/undo", headers=_h(tok["rv2"])).status_code == 200
        again = c.post(f"/api/review/{one['id']}", headers=_h(tok["rv2"]), json={"value": None, "invalid": True})
        assert again.status_code == 200, again.text
        # rv1's four decisions at 0 s, 60 s, 30 min and 30 min 30 s: active 60 + 300 (a pause counts 5 minutes) + 30
        t0 = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)
        with c.app.state.factory() as s, s.begin():
            mine = list(s.scalars(select(AuditEntry).where(AuditEntry.user == "rv1").order_by(AuditEntry.id)))
            for a, dt in zip(mine, (0, 60, 1800, 1830)):
                a.at = t0 + timedelta(seconds=dt)
        st = c.get("/api/review/stats?round=Huế 2026", headers=_h(tok["viewer1"])).json()
        by = {r["name"]: r for r in st["reviewers"]}
        assert (by["rv1"]["decisions"], by["rv1"]["grid"], by["rv1"]["single"], by["rv1"]["grid_share"]) == (4, 4, 0, 1.0)
        assert by["rv1"]["active_hours"] == round(390 / 3600, 4) and by["rv1"]["items_per_hour"] == round(4 / (390 / 3600), 1)
        assert (by["rv2"]["decisions"], by["rv2"]["grid"], by["rv2"]["single"], by["rv2"]["undone"]) == (2, 0, 2, 1)
        assert by["rv2"]["grid_share"] == 0.0
