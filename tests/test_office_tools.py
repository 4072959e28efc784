"""The office's own tools around the service: scan to folder (``omr watch``) and backups (``omr backup``/``restore``)."""
from __future__ import annotations

import io
import shutil
import time
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.auth import add_user
from service.backup import BackupError, backup, last_backup, restore
from service.settings import Settings
from service.watch import DONE, FAILED, JOURNAL, Watcher
from tests.test_integrity import _LiveServer, _h, _wait


def _app(tmp_path: Path, db_url: str, name: str = "data", **over):  # noqa: ANN202
    return create_app(Settings(data_dir=tmp_path / name, database_url=db_url, workers=2, ocr=False, **over))


def _tok(app) -> dict[str, str]:  # noqa: ANN001
    with app.state.factory() as s, s.begin():
        return {role: add_user(s, role, role) for role in ("admin", "operator", "viewer")}


def _scans(d: Path, prefix: str = "hue-2017") -> list[Path]:
    return sorted(p for p in d.iterdir() if p.name.startswith(prefix) and p.suffix != ".jsonl")


def _drive(w: Watcher, until, timeout: float = 120.0) -> None:  # noqa: ANN001
    t0 = time.monotonic()
    while not until():
        assert time.monotonic() - t0 < timeout, f"watch folder not settled: {sorted(p.name for p in w.folder.rglob('*'))}"
        w.step()
        time.sleep(0.1)


def test_watch_uploads_each_scan_once_and_files_it_under_done_or_failed(tmp_path, db_url, clean_scans):
    app = _app(tmp_path, db_url)
    with TestClient(app) as c, _LiveServer(app) as base:
        tok = _tok(app)
        c.post("/api/rounds", headers=_h(tok["admin"]), json={"name": "Đợt 1", "template": "hue-2017"})
        inbox = tmp_path / "inbox"
        inbox.mkdir()
        good = _scans(clean_scans)
        for p in good:
            shutil.copy(p, inbox / p.name)
        (inbox / "cut.jpg").write_bytes(good[-1].read_bytes()[:200])  # a scan the copier broke off
        (inbox / "ghi-chu.txt").write_text("not a scan")  # left alone
        w = Watcher(inbox, base, tok["operator"], "Đợt 1", agency="SNV", settle=0.3, log=io.StringIO())
        # a file still being written is not taken: its size changes between looks
        growing = inbox / "growing.png"
        growing.write_bytes(good[0].read_bytes()[:1000])
        w.step()
        time.sleep(0.4)
        with open(growing, "ab") as fh:
            fh.write(b"\0" * 10)
        w.step()
        assert not any(e.name == "growing.png" for e in w.journal.values())
        growing.unlink()
        _drive(w, lambda: not any(p.suffix in (".jpg", ".png") for p in inbox.iterdir()))
        assert sorted(p.name for p in (inbox / DONE).iterdir()) == sorted(p.name for p in good)
        assert sorted(p.name for p in (inbox / FAILED).iterdir()) == ["cut.jpg", "cut.jpg.loi.txt"]
        why = (inbox / FAILED / "cut.jpg.loi.txt").read_text(encoding="utf-8")
        assert "không đọc được" in why and "truncated" in why.lower()
        assert (inbox / "ghi-chu.txt").exists()
        batches = c.get("/api/batches", headers=_h(tok["viewer"])).json()
        assert len(batches) == len(good) + 1 and all(b["agency"] == "SNV" for b in batches)
        sheets = c.get("/api/indices?round=Đợt 1", headers=_h(tok["viewer"])).json()["sheets"]
        assert sheets == len(good)

        # the watcher dies after the service took a file but before it wrote that down; the scanner
        # also saves a second copy of an earlier scan: both are sent again, neither is counted twice
        again = inbox / good[0].name
        shutil.copy(inbox / DONE / good[0].name, again)
        w2 = Watcher(inbox, base, tok["operator"], "Đợt 1", settle=0.3, log=io.StringIO())
        _drive(w2, lambda: not again.exists())
        assert (inbox / DONE / f"{again.stem}-1{again.suffix}").exists()
        assert c.get("/api/indices?round=Đợt 1", headers=_h(tok["viewer"])).json()["sheets"] == sheets

        # a restart after an acknowledged upload does not send the file again
        late = inbox / "late.png"
        shutil.copy(_scans(clean_scans, "sipas-2017")[0], late)  # a page of another form: read, not counted
        w3 = Watcher(inbox, base, tok["operator"], "Đợt 1", settle=0.3, log=io.StringIO())
        _drive(w3, lambda: any(e.state == "uploaded" for e in w3.journal.values()))
        n_batches = len(c.get("/api/batches", headers=_h(tok["viewer"])).json())
        w4 = Watcher(inbox, base, tok["operator"], "Đợt 1", settle=0.3, log=io.StringIO())  # the restart
        _drive(w4, lambda: not late.exists())
        assert len(c.get("/api/batches", headers=_h(tok["viewer"])).json()) == n_batches
        assert not w4.journal and (inbox / JOURNAL).exists()


def test_watch_refuses_a_bad_token_and_a_missing_round(tmp_path, clean_scans):
    app = _app(tmp_path, f"sqlite:///{tmp_path / 'w.sqlite'}", start_workers=False)
    with TestClient(app) as c, _LiveServer(app) as base:
        tok = _tok(app)
        c.post("/api/rounds", headers=_h(tok["admin"]), json={"name": "r", "template": "hue-2017"})
        inbox = tmp_path / "inbox"
        inbox.mkdir()
        shutil.copy(_scans(clean_scans)[0], inbox / "a.png")
        with pytest.raises(SystemExit, match="refused the token"):
            _drive(Watcher(inbox, base, "wrong", "r", settle=0.0, log=io.StringIO()), lambda: False, timeout=10)
        with pytest.raises(SystemExit, match="no round"):
            _drive(Watcher(inbox, base, tok["operator"], "nope", settle=0.0, log=io.StringIO()), lambda: False, timeout=10)
        assert (inbox / "a.png").exists()  # nothing moved, nothing lost


def _snapshot(c: TestClient, tok: dict[str, str]) -> dict:
    from service.models import Answer, AuditEntry, Page

    with c.app.state.factory() as s:
        pages = sorted((p.file_id, p.index, p.status, p.result_status, p.sheet, p.image_sha256, p.aligned_sha256)
                       for p in s.query(Page))
        where = {p.id: (p.file_id, p.index) for p in s.query(Page)}  # page ids follow the order pages were split in
        answers = sorted((where[a.page_id], a.field_id, str(a.value), a.status, a.source) for a in s.query(Answer))
        audit = sorted((a.user, a.action, where.get(a.page_id), a.field_id, str(a.new)) for a in s.query(AuditEntry))
    idx = c.get("/api/indices?round=r&agencies=true", headers=_h(tok["viewer"])).json()
    return {"pages": pages, "answers": answers, "audit": audit, "indices": idx}


def _empty_pg(db_url: str) -> str:
    import psycopg

    from tests.conftest import PG_ADMIN_URL

    name = f"omr_restore_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"


def _drop_pg(url: str) -> None:
    import psycopg

    from tests.conftest import PG_ADMIN_URL

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def test_backup_mid_batch_then_restore_gives_the_same_pages_answers_audit_and_indices(tmp_path, db_url, clean_scans):
    scans = _scans(clean_scans, "")
    src_app = _app(tmp_path, db_url)
    restored_url = _empty_pg(db_url) if db_url.startswith("postgresql") else f"sqlite:///{tmp_path / 'restored' / 'omr.sqlite'}"
    try:
        with TestClient(src_app) as c:
            tok = _tok(src_app)
            c.post("/api/rounds", headers=_h(tok["admin"]), json={"name": "r", "template": "sipas-2017"})
            first = _wait(c, tok["operator"], c.post("/api/batches", headers=_h(tok["operator"]), data={"round": "r"},
                          files=[("files", (p.name, p.read_bytes())) for p in scans[:3]]).json()["id"])
            item = c.get(f"/api/review/next?batch={first['id']}", headers=_h(tok["admin"]))
            if item.status_code == 200:  # a decision, so that the audit log has something in it
                it = item.json()
                c.post(f"/api/review/{it['id']}", headers=_h(tok["admin"]),
                       json={"not_questionnaire": True} if it["field_kind"] == "page" else {"value": it["proposed"]})
            c.post("/api/batches", headers=_h(tok["operator"]), data={"round": "r"},
                   files=[("files", (p.name, p.read_bytes())) for p in scans[3:]])
            bk = tmp_path / "backup-1"
            m = backup(src_app.state.settings, bk)  # while the second batch is being read
            assert (bk / "manifest.json").exists() and m["store_files"] > 0
            assert last_backup(tmp_path / "data")["dir"] == str(bk.resolve())
            with pytest.raises(BackupError, match="not empty"):
                backup(src_app.state.settings, bk)
            for b in c.get("/api/batches", headers=_h(tok["viewer"])).json():
                _wait(c, tok["viewer"], b["id"])
            final = _snapshot(c, tok)
        # the restored service finishes what the snapshot left half-read, and ends where the original did
        dest = Settings(data_dir=tmp_path / "restored", database_url=restored_url if restored_url.startswith("postgresql") else "",
                        workers=2, ocr=False)
        restore(dest, bk)
        with pytest.raises(BackupError, match="not empty"):
            restore(dest, bk)
        with TestClient(create_app(dest)) as c2:
            with c2.app.state.factory() as s, s.begin():
                tok2 = {"viewer": add_user(s, "viewer", "viewer")}  # the restored accounts, given a new token
            for b in c2.get("/api/batches", headers=_h(tok2["viewer"])).json():
                _wait(c2, tok2["viewer"], b["id"])
            again = _snapshot(c2, tok2)
            assert again["pages"] == final["pages"]
            assert again["answers"] == final["answers"]
            assert again["audit"] == final["audit"] and again["audit"]
            assert again["indices"] == final["indices"]
            page = c2.get("/api/pages/1", headers=_h(tok2["viewer"])).json()
            assert c2.get(page["image_url"], headers=_h(tok2["viewer"])).status_code == 200  # the store came back too
    finally:
        if restored_url.startswith("postgresql"):
            _drop_pg(restored_url)
