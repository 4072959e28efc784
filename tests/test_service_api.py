"""The service as its users drive it: accounts, a round, an upload, the review queue, results."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.auth import add_user
from service.settings import Settings


def _client(tmp_path: Path, db_url: str) -> TestClient:
    app = create_app(Settings(data_dir=tmp_path / "data", database_url=db_url, workers=2, ocr=False))
    return TestClient(app)


def _tokens(client: TestClient) -> dict[str, str]:
    with client.app.state.factory() as s, s.begin():
        return {role: add_user(s, f"{role}1", role) for role in ("admin", "operator", "reviewer", "viewer")}


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _upload(client, token, paths, round_ref, agency=None):
    files = [("files", (p.name, p.read_bytes())) for p in paths]
    data = {"round": str(round_ref)}
    if agency:
        data["agency"] = agency
    return client.post("/api/batches", headers=_h(token), files=files, data=data)


def _wait(client, token, batch_id, timeout=120.0):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        b = client.get(f"/api/batches/{batch_id}", headers=_h(token)).json()
        if b["status"] in ("done", "failed"):
            return b
        time.sleep(0.3)
    raise AssertionError(f"batch {batch_id} not done after {timeout} s: {b}")


def _scan_files(d: Path, prefix: str) -> list[Path]:
    return sorted(p for p in d.iterdir() if p.name.startswith(prefix) and p.suffix != ".jsonl")


def test_round_upload_review_and_results(tmp_path, db_url, clean_scans):
    with _client(tmp_path, db_url) as c:
        tok = _tokens(c)
        r = c.post("/api/rounds", headers=_h(tok["admin"]), json={"name": "Huế 2026", "template": "hue-2017", "period": "2026"})
        assert r.status_code == 201 and r.json()["name"] == "Huế 2026"
        assert c.post("/api/rounds", headers=_h(tok["operator"]), json={"name": "x", "template": "hue-2017"}).status_code == 403
        assert c.post("/api/rounds", headers=_h(tok["admin"]), json={"name": "y", "template": "nope"}).status_code == 422
        files = _scan_files(clean_scans, "hue-2017")
        up = _upload(c, tok["operator"], files, "Huế 2026", agency="SNV")
        assert up.status_code == 201 and up.json()["status"] in ("queued", "processing", "done")
        b = _wait(c, tok["viewer"], up.json()["id"])
        assert b["pages_total"] == len(files) and b["pages_done"] == len(files) and b["pages_failed"] == 0
        truth = {json.loads(x)["source"]: json.loads(x) for x in (clean_scans / "truth.jsonl").read_text().splitlines()}
        # every page read back with its fields; clean pages: the engine agrees with the truth
        for pid in range(1, len(files) + 1):
            p = c.get(f"/api/pages/{pid}", headers=_h(tok["viewer"])).json()
            t = truth[p["source"]]
            assert p["status"] == "ok" and p["sheet"] == t["sheet"] and p["image_url"]
            for fid, ft in t["fields"].items():
                if ft["kind"] != "text":
                    assert p["fields"][fid]["value"] == ft["value"], (p["source"], fid)
            assert c.get(p["aligned_image_url"], headers=_h(tok["viewer"])).headers["content-type"] == "image/jpeg"
        # the review queue: walk it to the end (free text with writing lands here)
        seen = 0
        while True:
            n = c.get(f"/api/review/next?batch={b['id']}", headers=_h(tok["reviewer"]))
            if n.status_code == 204:
                break
            item = n.json()
            assert {"id", "page_id", "field_id", "status", "value", "confidence", "options", "image_url"} <= set(item)
            assert c.get(item["image_url"], headers=_h(tok["reviewer"])).headers["content-type"] == "image/png"
            assert c.post(f"/api/review/{item['id']}", headers=_h(tok["viewer"]), json={"value": None}).status_code == 403
            value = item["value"] if item["field_kind"] != "page" else {"not_questionnaire": True}
            d = c.post(f"/api/review/{item['id']}", headers=_h(tok["reviewer"]), json={"value": value})
            assert d.status_code == 200, d.text
            seen += 1
            assert seen < 100
        assert c.get(f"/api/batches/{b['id']}", headers=_h(tok["viewer"])).json()["review_pending"] == 0
        # indices: by hand from the truth (every criterion accepted on clean pages)
        ind = c.get("/api/indices?round=Huế 2026", headers=_h(tok["viewer"])).json()
        crit = {"c01": [], "c02": [], "c03": []}
        for t in truth.values():
            if t.get("template") == "hue-2017":
                for cid in crit:
                    v = t["fields"][cid]["value"]
                    if v is not None:
                        crit[cid].append(v)
        expect = {cid: 100.0 * sum(v >= 4 for v in vs) / len(vs) for cid, vs in crit.items() if vs}
        got = {cr["id"]: cr["index"] for el in ind["elements"] for cr in el["criteria"]}
        for cid, e in expect.items():
            assert got[cid] == pytest.approx(e, abs=0.01)
        assert ind["overall"] == pytest.approx(sum(expect.values()) / len(expect), abs=0.01)
        # n behind each element (one criterion each on this form): the sheets with a valid answer
        assert {el["id"]: el["n"] for el in ind["elements"]} == {"E1": len(crit["c01"]), "E2": len(crit["c02"]), "E3": len(crit["c03"])}
        assert ind["pending_review"] == 0
        csv = c.get("/api/export?round=Huế 2026&format=csv", headers=_h(tok["viewer"]))
        assert csv.content.startswith(b"\xef\xbb\xbf") and csv.status_code == 200
        for fmt in ("xlsx", "json", "sav"):
            assert c.get(f"/api/export?round=Huế 2026&format={fmt}", headers=_h(tok["viewer"])).status_code == 200
        prog = c.get("/api/progress?round=Huế 2026", headers=_h(tok["viewer"])).json()
        assert prog["left"] == 0 and prog["done"] == seen


def test_lost_update_and_claims(tmp_path, db_url, clean_scans):
    with _client(tmp_path, db_url) as c:
        tok = _tokens(c)
        with c.app.state.factory() as s, s.begin():
            other = add_user(s, "reviewer2", "reviewer")
        c.post("/api/rounds", headers=_h(tok["admin"]), json={"name": "R", "template": "sipas-2017"})
        up = _upload(c, tok["operator"], _scan_files(clean_scans, "sipas-2017"), "R")
        b = _wait(c, tok["viewer"], up.json()["id"])
        # make a review item by hand-crafting an uncertain answer is not needed: free text or none;
        # if the clean batch has no item, settle a field through a page correction instead
        item = c.get(f"/api/review/next?batch={b['id']}", headers=_h(tok["reviewer"]))
        if item.status_code == 204:
            pytest.skip("the clean batch produced no review item")
        item = item.json()
        # a second reviewer does not get the same item while it is claimed
        n2 = c.get(f"/api/review/next?batch={b['id']}", headers=_h(other))
        assert n2.status_code == 204 or n2.json()["id"] != item["id"]
        assert c.post(f"/api/review/{item['id']}", headers=_h(other), json={"value": None}).status_code == 409
        v1 = item["value"]
        assert c.post(f"/api/review/{item['id']}", headers=_h(tok["reviewer"]), json={"value": v1}).status_code == 200
        # a correction must name the value it replaces
        again = c.post(f"/api/review/{item['id']}", headers=_h(other), json={"value": None})
        assert again.status_code == 409
        stale = c.post(f"/api/review/{item['id']}", headers=_h(other), json={"value": None, "expected": "not the value"})
        assert stale.status_code == 409 and stale.json()["current"] == v1
        ok = c.post(f"/api/review/{item['id']}", headers=_h(other), json={"value": None, "expected": v1})
        assert ok.status_code == 200
        audit = c.get(f"/api/pages/{item['page_id']}/audit", headers=_h(tok["viewer"])).json()
        assert [a["action"] for a in audit if a["field_id"] == item["field_id"]] == ["review", "correct"]
        assert audit[-1]["old"]["value"] == v1 and audit[-1]["user"] == "reviewer2"


def test_same_file_twice_and_same_sheet_twice(tmp_path, db_url, clean_scans):
    import cv2

    with _client(tmp_path, db_url) as c:
        tok = _tokens(c)
        c.post("/api/rounds", headers=_h(tok["admin"]), json={"name": "R", "template": "hue-2017"})
        files = _scan_files(clean_scans, "hue-2017")
        b1 = _wait(c, tok["viewer"], _upload(c, tok["operator"], files, "R").json()["id"])
        b2 = _wait(c, tok["viewer"], _upload(c, tok["operator"], files[:1], "R").json()["id"])
        assert b1["pages_done"] == len(files)
        assert b2["pages_total"] == 0 and b2["files"][0]["status"] == "duplicate" and b2["errors"]
        assert b2["status"] == "done"  # a batch of re-uploads only: nothing new, nothing failed
        # the same sheet again, as a different file (re-encoded): flagged, not counted twice
        img = cv2.imread(str(files[0]))
        again = tmp_path / "rescan.png"
        cv2.imwrite(str(again), img)
        b3 = _wait(c, tok["viewer"], _upload(c, tok["operator"], [again], "R").json()["id"])
        assert b3["pages_done"] == 1
        items = []
        while (n := c.get(f"/api/review/next?batch={b3['id']}", headers=_h(tok["reviewer"]))).status_code == 200:
            items.append(n.json())
            c.post(f"/api/review/{items[-1]['id']}", headers=_h(tok["reviewer"]),
                   json={"value": {"keep": "other"} if items[-1]["reason"] == "duplicate sheet" else items[-1]["value"]})
        assert any(i["reason"] == "duplicate sheet" for i in items)
        tallies = c.get("/api/tallies?round=R", headers=_h(tok["viewer"])).json()
        c01 = next(q for q in tallies["questions"] if q["id"] == "c01")
        assert sum(o["count"] for o in c01["options"]) + c01["blank"] == len(files)


def test_upload_limits_and_auth(tmp_path, clean_scans):
    with _client(tmp_path, f"sqlite:///{tmp_path / 'x.sqlite'}") as c:
        tok = _tokens(c)
        c.post("/api/rounds", headers=_h(tok["admin"]), json={"name": "R", "template": "hue-2017"})
        bad = c.post("/api/batches", headers=_h(tok["operator"]), files=[("files", ("notes.docx", b"x"))], data={"round": "R"})
        assert bad.status_code == 415 and "notes.docx" in bad.json()["detail"]
        assert c.post("/api/batches", headers=_h(tok["viewer"]), files=[("files", ("a.png", b"x"))], data={"round": "R"}).status_code == 403
        assert c.get("/api/rounds").status_code == 401
        assert c.get("/api/rounds", headers=_h("nonsense")).status_code == 401
        assert c.post("/api/batches", headers=_h(tok["operator"]), files=[("files", ("a.png", b"x"))], data={"round": "nope"}).status_code == 404
        login = c.post("/api/login", json={"name": "reviewer1", "token": tok["reviewer"]})
        assert login.status_code == 200 and login.json()["role"] == "reviewer"
        assert c.get("/api/me").json()["name"] == "reviewer1"  # the session cookie works for the API


def test_scanner_streak_is_worked_around_and_reported_to_the_operator(tmp_path, db_url, clean_scans):
    import cv2

    src = _scan_files(clean_scans, "hue-2017")[0]
    img = cv2.imread(str(src), cv2.IMREAD_GRAYSCALE)
    x = img.shape[1] // 2
    img[:, x : x + 2] = (img[:, x : x + 2] * 0.5).astype("uint8")  # dust on the glass, the length of the page
    streaked = tmp_path / "streaked.png"
    cv2.imwrite(str(streaked), img)
    with _client(tmp_path, db_url) as c:
        tok = _tokens(c)
        c.post("/api/rounds", headers=_h(tok["admin"]), json={"name": "r", "template": "hue-2017"})
        up = _upload(c, tok["operator"], [streaked], "r")
        b = _wait(c, tok["operator"], up.json()["id"])
        assert b["status"] == "done" and b["pages_done"] == 1
        assert len(b["warnings"]) == 1 and "scanner streak" in b["warnings"][0]["warning"]
        assert b["warnings"][0]["file"] == "streaked.png" and b["warnings"][0]["page"] == 1
        page = c.get(f"/api/pages/{b['warnings'][0]['page_id']}", headers=_h(tok["viewer"])).json()
        assert page["status"] == "ok" and page["warnings"] == [b["warnings"][0]["warning"]]
        assert page["fields"] and all(f["question"] for f in page["fields"].values())  # as printed, for the page view
        assert page["fields"]["c01"]["question"] == "Giải quyết thủ tục hành chính"


def test_a_release_0_1_database_gains_the_warnings_column(tmp_path):
    from sqlalchemy import inspect, text

    from service.db import make_engine, migrate

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = make_engine(url)
    migrate(engine)
    with engine.begin() as c:  # make it look like a database written by release 0.1
        c.execute(text("ALTER TABLE pages DROP COLUMN warnings"))
        c.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    assert "warnings" not in {col["name"] for col in inspect(engine).get_columns("pages")}
    migrate(engine)
    assert "warnings" in {col["name"] for col in inspect(engine).get_columns("pages")}
    with engine.connect() as c:
        assert c.execute(text("SELECT version_num FROM alembic_version")).scalar() == _head_revision()


def _head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from service.db import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()


def test_a_0002_database_gains_sessions_respondents_and_one_live_file_per_hash(tmp_path):
    """Migration 0003 on a database of revision 0002 that let one file in twice (the race it closes)."""
    from sqlalchemy import inspect, text

    from service.db import make_engine, migrate

    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    migrate(engine)
    with engine.begin() as c:  # make it look like a database written at revision 0002
        c.execute(text("DROP INDEX uq_files_round_sha_live"))
        c.execute(text("DROP TABLE web_sessions"))
        for table, col in (("users", "active"), ("users", "last_login_at"), ("pages", "respondent"),
                           ("answers", "marks"), ("review_items", "revision")):
            c.execute(text(f"ALTER TABLE {table} DROP COLUMN {col}"))
        c.execute(text("UPDATE alembic_version SET version_num = '0002'"))
        c.execute(text("INSERT INTO rounds (id, name, template, version, period, created_at) VALUES (1, 'r', 'hue-2017', 1, '', '2026-01-01')"))
        c.execute(text("INSERT INTO batches (id, round_id, created_by, created_at) VALUES (1, 1, 'op', '2026-01-01')"))
        for fid in (1, 2, 3):  # file 2 slipped in twice; file 3 is another file
            c.execute(text("INSERT INTO files (id, batch_id, round_id, filename, sha256, size, status) "
                           "VALUES (:id, 1, 1, 'a.pdf', :sha, 10, 'split')"), {"id": fid, "sha": "b" * 64 if fid == 3 else "a" * 64})
    migrate(engine)
    insp = inspect(engine)
    assert "web_sessions" in insp.get_table_names()
    assert "respondent" in {col["name"] for col in insp.get_columns("pages")}
    assert "revision" in {col["name"] for col in insp.get_columns("review_items")}
    with engine.connect() as c:
        rows = c.execute(text("SELECT id, status, duplicate_of FROM files ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [(1, "split", None), (2, "duplicate", 1), (3, "split", None)]
        assert c.execute(text("SELECT version_num FROM alembic_version")).scalar() == _head_revision()


def test_blank_back_sides_are_counted_but_not_queued_for_review(tmp_path, db_url, clean_scans):
    import cv2
    import numpy as np

    src = _scan_files(clean_scans, "hue-2017")[0]
    front = cv2.imread(str(src), cv2.IMREAD_GRAYSCALE).astype(np.float32)
    back = tmp_path / "back.png"  # duplex scanning: the empty back, the front showing through
    cv2.imwrite(str(back), np.clip(255 * (1 - 0.12 * (1 - cv2.flip(front, 1) / 255.0)), 0, 255).astype(np.uint8))
    with _client(tmp_path, db_url) as c:
        tok = _tokens(c)
        c.post("/api/rounds", headers=_h(tok["admin"]), json={"name": "r", "template": "hue-2017"})
        b = _wait(c, tok["operator"], _upload(c, tok["operator"], [src, back], "r").json()["id"])
        assert b["status"] == "done" and b["pages_total"] == 2 and b["pages_blank"] == 1
        items = []
        while (r := c.get("/api/review/next?round=r", headers=_h(tok["reviewer"]))).status_code == 200:
            items.append(r.json())
            c.post(f"/api/review/{items[-1]['id']}", headers=_h(tok["reviewer"]), json={"value": items[-1]["value"]})
        assert all(i["field_kind"] != "page" for i in items)  # nothing to decide about the blank back
