"""`omr export`: the same bytes as GET /api/export, from the service's database, without a server."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from omr.cli import main as omr_main
from service.app import create_app
from service.auth import add_user
from service.settings import Settings

from test_service_api import _h, _scan_files, _upload, _wait

ROUND = "Huế 1/2026"  # a '/' in the name: files are named with '-'


@pytest.fixture
def served_round(tmp_path, db_url, clean_scans, monkeypatch):
    """A round read and reviewed by the service in-process; yields (client, viewer token, CLI database options)."""
    for var in ("DATABASE_URL", "OMR_DATA_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    if db_url.startswith("sqlite"):
        # the service's default: SQLite in ./omr-data; `omr export` must find it the same way
        settings, cli_db = Settings(data_dir=Path("omr-data"), workers=2, ocr=False), []
    else:
        settings, cli_db = Settings(data_dir=tmp_path / "data", database_url=db_url, workers=2, ocr=False), ["--database", db_url]
    with TestClient(create_app(settings)) as c:
        with c.app.state.factory() as s, s.begin():
            tok = {role: add_user(s, f"{role}1", role) for role in ("admin", "operator", "reviewer", "viewer")}
        assert c.post("/api/rounds", headers=_h(tok["admin"]),
                      json={"name": ROUND, "template": "hue-2017", "period": "2026"}).status_code == 201
        files = _scan_files(clean_scans, "hue-2017")
        half = len(files) // 2
        for part, agency in ((files[:half], "SNV"), (files[half:], "STP")):
            b = _wait(c, tok["viewer"], _upload(c, tok["operator"], part, ROUND, agency=agency).json()["id"])
            assert b["pages_done"] == len(part), b
        while (n := c.get(f"/api/review/next?round={ROUND}", headers=_h(tok["reviewer"]))).status_code == 200:
            item = n.json()
            value = "Cần thêm ghế chờ" if item["field_kind"] == "text" else item["value"]
            assert c.post(f"/api/review/{item['id']}", headers=_h(tok["reviewer"]), json={"value": value}).status_code == 200
        yield c, tok["viewer"], cli_db


def _api(c, token, fmt, **q) -> bytes:
    query = "&".join(f"{k}={v}" for k, v in {"round": ROUND, "format": fmt, **q}.items())
    r = c.get(f"/api/export?{query}", headers=_h(token))
    assert r.status_code == 200, r.text
    return r.content


def _cli(tmp_path, cli_db, *args) -> tuple[int, Path]:
    out = tmp_path / f"out-{len(list(tmp_path.glob('out-*')))}"
    rc = omr_main(["export", *args, "--out", str(out), *cli_db])
    return rc, out


def test_export_equals_api(tmp_path, served_round, capsys):
    c, viewer, cli_db = served_round
    for fmt in ("csv", "csv-labels"):
        rc, out = _cli(tmp_path, cli_db, "--round", ROUND, "--format", fmt)
        assert rc == 0 and out.read_bytes() == _api(c, viewer, fmt), fmt
    # by id, filtered by agency
    rc, out = _cli(tmp_path, cli_db, "--round", "1", "--agency", "STP", "--format", "csv")
    assert rc == 0 and out.read_bytes() == _api(c, viewer, "csv", agency="STP")
    assert b"SNV" not in out.read_bytes() and b"STP" in out.read_bytes()
    # JSON: the same document except the moment it was generated
    rc, out = _cli(tmp_path, cli_db, "--round", ROUND, "--format", "json")
    got, want = json.loads(out.read_bytes()), json.loads(_api(c, viewer, "json"))
    assert rc == 0 and got.pop("generated_at") and want.pop("generated_at")
    assert got == want and got["meta"] == {"round": ROUND, "period": "2026"}
    assert {r["agency"] for r in got["ranking"]} == {"SNV", "STP"}
    labels = _cli(tmp_path, cli_db, "--round", ROUND, "--format", "csv-labels")[1].read_bytes().decode("utf-8-sig")
    assert labels.splitlines()[0].startswith("Số phiếu,Đơn vị,Giới tính,Độ tuổi")
    assert "Rất hài lòng" in labels or "Hài lòng" in labels
    assert "bytes, csv" in capsys.readouterr().err


def test_xlsx_and_sav_open_with_vietnamese(tmp_path, served_round):
    import openpyxl
    import pyreadstat

    from service.exports import SHEET_ANSWERS, SHEET_INDICES

    c, viewer, cli_db = served_round
    rc, out = _cli(tmp_path, cli_db, "--round", ROUND, "--format", "xlsx")
    assert rc == 0
    wb = openpyxl.load_workbook(io.BytesIO(out.read_bytes()))
    api_wb = openpyxl.load_workbook(io.BytesIO(_api(c, viewer, "xlsx")))
    assert wb.sheetnames == api_wb.sheetnames and SHEET_ANSWERS in wb.sheetnames and SHEET_INDICES in wb.sheetnames
    header = [cell.value for cell in next(wb[SHEET_ANSWERS].iter_rows(max_row=1))]
    assert header[0] == "Số phiếu" and header[2:4] == ["gioi_tinh\nGiới tính", "do_tuoi\nĐộ tuổi"]
    assert "c01\n1. Giải quyết thủ tục hành chính" in header
    for name in wb.sheetnames:  # the same cells as the API's workbook
        assert [[x.value for x in row] for row in wb[name].iter_rows()] == \
               [[x.value for x in row] for row in api_wb[name].iter_rows()], name

    rc, out = _cli(tmp_path, cli_db, "--round", ROUND, "--format", "sav")
    assert rc == 0
    sav = out.with_suffix(".sav")
    out.rename(sav)
    df, meta = pyreadstat.read_sav(str(sav))
    assert meta.column_names_to_labels["c02"] == "2. Sự phục vụ của công chức"
    assert meta.variable_value_labels["gioi_tinh"] == {1.0: "Nam", 2.0: "Nữ"}
    assert meta.variable_value_labels["c01"][5.0] == "Rất hài lòng"
    api_sav = tmp_path / "api.sav"
    api_sav.write_bytes(_api(c, viewer, "sav"))
    assert df.equals(pyreadstat.read_sav(str(api_sav))[0])
    assert set(df["agency"]) == {"SNV", "STP"}


def test_errors_name_the_problem(tmp_path, served_round, capsys):
    _, _, cli_db = served_round
    rc, out = _cli(tmp_path, cli_db, "--round", "Đợt không có", "--format", "csv")
    assert rc == 2 and not out.exists()
    assert "no round 'Đợt không có'" in capsys.readouterr().err
    rc, out = _cli(tmp_path, cli_db, "--round", "99", "--format", "json")
    assert rc == 2 and "no round '99'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        _cli(tmp_path, cli_db, "--round", ROUND, "--format", "pdf")
    assert exc.value.code == 2 and "invalid choice: 'pdf'" in capsys.readouterr().err
    (tmp_path / "a-file").write_text("x")
    for bad, why in ((tmp_path / "no-such-folder" / "x.csv", "does not exist"), (tmp_path / "a-file" / "x.csv", "does not exist"),
                     (tmp_path, "is a folder")):
        assert omr_main(["export", "--round", ROUND, "--format", "csv", "--out", str(bad), *cli_db]) == 2
        err = capsys.readouterr().err
        assert str(bad) in err and why in err, err


def test_no_database(tmp_path, monkeypatch, capsys):
    for var in ("DATABASE_URL", "OMR_DATA_DIR"):
        monkeypatch.delenv(var, raising=False)
    rc = omr_main(["export", "--round", "1", "--format", "csv", "--out", str(tmp_path / "x.csv"), "--data-dir", str(tmp_path / "none")])
    assert rc == 2 and "no database at" in capsys.readouterr().err
    assert not (tmp_path / "none").exists()  # nothing created by a read


def test_formats_agree_with_the_api():
    from service.cli import EXPORT_FORMATS
    from service.queries import EXPORT_FORMATS as API_FORMATS

    assert tuple(API_FORMATS) == EXPORT_FORMATS
