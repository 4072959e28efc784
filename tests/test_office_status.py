"""What the office pages ask the service about itself: the upload limits (GET /api/limits, which the
upload page checks files against) and the last backup (GET /api/backup, admins only); and the online
import's report naming the file's columns (for the admin page's mapping editor), also when the mapping
cannot be used."""
from __future__ import annotations

import json

from fastapi.testclient import TestClient

from service.app import create_app
from service.backup import backup
from service.settings import Settings
from tests.test_integrity import _h, _tokens


def test_limits_are_the_settings_the_upload_applies(tmp_path, db_url):
    st = Settings(data_dir=tmp_path / "data", database_url=db_url, max_file_mb=7, max_batch_mb=20, start_workers=False, ocr=False)
    with TestClient(create_app(st)) as c:
        tok = _tokens(c)
        assert c.get("/api/limits").status_code == 401
        r = c.get("/api/limits", headers=_h(tok["op"]))
        assert r.status_code == 200
        assert r.json() == {"max_file_mb": 7, "max_batch_mb": 20, "max_files": 1000,
                            "accepted_types": ["pdf", "tif", "tiff", "jpg", "jpeg", "png"]}
        # and the upload holds to them: an 8 MB file is refused by name
        c.post("/api/rounds", headers=_h(tok["admin"]), json={"name": "r", "template": "sipas-2017"})
        big = b"\x89PNG" + b"0" * (8 << 20)
        r = c.post("/api/batches", headers=_h(tok["op"]), data={"round": "r"}, files=[("files", ("lon.png", big))])
        assert r.status_code == 413 and "lon.png" in r.json()["detail"] and "7 MB" in r.json()["detail"]


def test_backup_status_is_none_then_the_last_backup(tmp_path, db_url):
    st = Settings(data_dir=tmp_path / "data", database_url=db_url, start_workers=False, ocr=False)
    with TestClient(create_app(st)) as c:
        tok = _tokens(c)
        assert c.get("/api/backup", headers=_h(tok["op"])).status_code == 403
        assert c.get("/api/backup", headers=_h(tok["viewer"])).status_code == 403
        assert c.get("/api/backup", headers=_h(tok["admin"])).json() == {"last": None}
        m = backup(st, tmp_path / "bk1")
        last = c.get("/api/backup", headers=_h(tok["admin"])).json()["last"]
        assert last["at"] == m["created_at"] and last["dir"] == str((tmp_path / "bk1").resolve())
        assert last["database"] == ("sqlite" if db_url.startswith("sqlite") else "postgresql")


def test_online_import_report_names_the_columns(tmp_path, db_url):
    st = Settings(data_dir=tmp_path / "data", database_url=db_url, start_workers=False, ocr=False)
    with TestClient(create_app(st)) as c:
        tok = _tokens(c)
        rid = c.post("/api/rounds", headers=_h(tok["admin"]), json={"name": "r", "template": "sipas-2017"}).json()["id"]
        csv = "Thời gian,Ý 1,Ý 2\n2026-01-01,4,5\n2026-01-02,9,5\n".encode()
        url = f"/api/rounds/{rid}/imports"
        # no header matches a question: 422, with the columns to map by hand
        r = c.post(url, headers=_h(tok["admin"]), files={"file": ("a.csv", csv)}, data={"dry_run": "true"})
        assert r.status_code == 422 and r.json()["columns"] == ["Thời gian", "Ý 1", "Ý 2"], r.text
        m = {"Thời gian": "skip", "Ý 1": "c01", "Ý 2": "c02"}
        r = c.post(url, headers=_h(tok["admin"]), files={"file": ("a.csv", csv)}, data={"dry_run": "true", "mapping": json.dumps(m)})
        rep = r.json()
        assert r.status_code == 200 and rep["columns"] == ["Thời gian", "Ý 1", "Ý 2"] and rep["mapping"] == m
        assert (rep["taken"], rep["refused"]) == (1, 1) and [(e["row"], e["column"]) for e in rep["errors"]] == [(3, "Ý 1")]
