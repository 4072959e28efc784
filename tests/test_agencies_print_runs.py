"""Agencies and print runs, as an admin sets up a round: import the list, print per agency, see who returned what."""
from __future__ import annotations

import io

from fastapi.testclient import TestClient
from openpyxl import Workbook

from omr.render import render_pdf
from omr.template import load_template
from service.app import create_app
from service.settings import Settings
from tests.test_integrity import _h, _tokens, _wait

AGENCIES_CSV = """Mã;Tên;Loại;Mã cấp trên;Hoạt động
TTH;Tỉnh Thừa Thiên Huế;Tỉnh;;Có
SNV;Sở Nội vụ;Sở;TTH;Có
STP;Sở Tư pháp;so;TTH;
SYT;Sở Y tế;Sở;TTH;Có
H-PD;Huyện Phong Điền;Huyện;TTH;Có
X-PD1;Xã Phong Hiền;Xã;H-PD;Có
"""


def _client(tmp_path, db_url) -> TestClient:  # noqa: ANN001
    return TestClient(create_app(Settings(data_dir=tmp_path / "data", database_url=db_url, workers=2, ocr=False)))


def test_agencies_are_imported_all_or_nothing_with_an_error_per_row(tmp_path, db_url):
    with _client(tmp_path, db_url) as c:
        tok = _tokens(c)
        bad = AGENCIES_CSV + "SNV;Trùng mã;Sở;;\nX Y;Tên;Phường;NOPE;Có\n;Không mã;Xã;;thỉnh thoảng\n"
        r = c.post("/api/agencies/import", headers=_h(tok["admin"]), files={"file": ("don-vi.csv", bad.encode())})
        assert r.status_code == 422, r.text
        errs = {(e["row"], e["column"]) for e in r.json()["errors"]}
        assert {(8, "code"), (9, "code"), (9, "kind"), (10, "code"), (10, "active")} <= errs
        assert (9, "parent") in errs or (9, "code") in errs
        assert c.get("/api/agencies", headers=_h(tok["viewer"])).json() == []  # nothing taken
        assert c.post("/api/agencies/import", headers=_h(tok["op"]), files={"file": ("a.csv", AGENCIES_CSV.encode())}).status_code == 403
        r = c.post("/api/agencies/import", headers=_h(tok["admin"]), files={"file": ("don-vi.csv", AGENCIES_CSV.encode())})
        assert r.status_code == 200 and r.json()["created"] == 6
        listed = {a["code"]: a for a in c.get("/api/agencies", headers=_h(tok["viewer"])).json()}
        assert listed["SNV"] == {"code": "SNV", "name": "Sở Nội vụ", "kind": "so", "kind_label": "Sở", "parent": "TTH", "active": True}
        assert listed["X-PD1"]["kind"] == "xa" and listed["X-PD1"]["parent"] == "H-PD"
        # the same list as XLSX, with one name changed: updated, not doubled
        wb = Workbook()
        ws = wb.active
        for line in AGENCIES_CSV.replace("Sở Y tế", "Sở Y tế tỉnh").splitlines():
            ws.append(line.split(";"))
        buf = io.BytesIO()
        wb.save(buf)
        r = c.post("/api/agencies/import", headers=_h(tok["admin"]), files={"file": ("don-vi.xlsx", buf.getvalue())})
        assert r.status_code == 200 and r.json()["updated"] == 6 and r.json()["created"] == 0
        assert len(c.get("/api/agencies", headers=_h(tok["viewer"])).json()) == 6
        # one by one
        assert c.post("/api/agencies", headers=_h(tok["admin"]), json={"code": "SNV", "name": "x"}).status_code == 409
        r = c.post("/api/agencies", headers=_h(tok["admin"]), json={"code": "SGD", "name": "Sở Giáo dục", "kind": "Sở", "parent": "TTH"})
        assert r.status_code == 201 and r.json()["kind"] == "so"
        assert c.post("/api/agencies", headers=_h(tok["admin"]), json={"code": "A", "name": "x", "parent": "NOPE"}).status_code == 422
        r = c.patch("/api/agencies/TTH", headers=_h(tok["admin"]), json={"parent": "X-PD1"})
        assert r.status_code == 422 and "cycle" in r.json()["detail"]
        r = c.patch("/api/agencies/SYT", headers=_h(tok["admin"]), json={"active": False})
        assert r.status_code == 200 and r.json()["active"] is False
        assert "SYT" not in {a["code"] for a in c.get("/api/agencies?active=true", headers=_h(tok["viewer"])).json()}
        assert c.patch("/api/agencies/NOPE", headers=_h(tok["admin"]), json={"active": False}).status_code == 404
        assert c.post("/api/agencies/import", headers=_h(tok["admin"]), files={"file": ("a.txt", b"x")}).status_code == 415


def test_print_runs_give_each_agency_its_serials_and_the_response_rate(tmp_path, db_url):
    with _client(tmp_path, db_url) as c:
        tok = _tokens(c)
        c.post("/api/agencies/import", headers=_h(tok["admin"]), files={"file": ("a.csv", AGENCIES_CSV.encode())})
        rid = c.post("/api/rounds", headers=_h(tok["admin"]), json={"name": "Huế 2026", "template": "hue-2017"}).json()["id"]
        r = c.post(f"/api/rounds/{rid}/print-runs", headers=_h(tok["admin"]), json={"agency": "SNV", "count": 3})
        assert r.status_code == 200 and r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF")
        assert r.headers["x-serials"] == "000001-000003"
        snv_pdf = r.content
        r = c.post(f"/api/rounds/{rid}/print-runs", headers=_h(tok["admin"]), json={"agency": "STP", "count": 2})
        assert r.headers["x-serials"] == "000004-000005"
        for bad in ({"agency": "NOPE", "count": 2}, {"agency": "SNV", "count": 0}, {"agency": "SNV", "count": 100000}):
            assert c.post(f"/api/rounds/{rid}/print-runs", headers=_h(tok["admin"]), json=bad).status_code == 422
        assert c.post(f"/api/rounds/{rid}/print-runs", headers=_h(tok["op"]), json={"agency": "SNV", "count": 1}).status_code == 403
        assert c.post("/api/rounds/999/print-runs", headers=_h(tok["admin"]), json={"agency": "SNV", "count": 1}).status_code == 404
        # returned: two of SNV's printed sheets; one STP sheet whose QR code carries no agency (printed
        # before the office printed per agency); one sheet of a serial the round never printed
        t = load_template("hue-2017")
        no_agency, unprinted = io.BytesIO(), io.BytesIO()
        render_pdf(t, no_agency, sheets=1, first_serial=4)
        render_pdf(t, unprinted, sheets=1, first_serial=900)
        from pypdf import PdfReader, PdfWriter

        two = PdfWriter()
        for pg in PdfReader(io.BytesIO(snv_pdf)).pages[:2]:
            two.add_page(pg)
        snv_two = io.BytesIO()
        two.write(snv_two)
        files = [("files", ("snv.pdf", snv_two.getvalue())), ("files", ("stp.pdf", no_agency.getvalue())),
                 ("files", ("old.pdf", unprinted.getvalue()))]
        bid = c.post("/api/batches", headers=_h(tok["op"]), data={"round": "Huế 2026"}, files=files).json()["id"]
        b = _wait(c, tok["op"], bid)
        assert b["pages_done"] == 4, b
        pages = [c.get(f"/api/pages/{i}", headers=_h(tok["viewer"])).json() for i in range(1, 5)]
        by_sheet = {p["sheet"]: p for p in pages}
        assert by_sheet["000001"]["agency"] == "SNV" and by_sheet["000004"]["agency"] == "STP"  # from its serial
        items = []
        while (n := c.get(f"/api/review/next?batch={bid}&exclude={','.join(str(i['id']) for i in items)}",
                          headers=_h(tok["rv1"]))).status_code == 200:
            items.append(n.json())
        flagged = [i for i in items if i["reason"] == "serial not printed for this round"]
        assert [i["sheet"] for i in flagged] == ["000900"]
        runs = c.get(f"/api/rounds/{rid}/print-runs", headers=_h(tok["viewer"])).json()
        assert [(r["agency"], r["first_serial"], r["last_serial"], r["count"], r["returned"]) for r in runs] == [
            ("SNV", "000001", "000003", 3, 2), ("STP", "000004", "000005", 2, 1)]
        assert runs[0]["response_rate"] == round(2 / 3, 4) and runs[1]["response_rate"] == 0.5
        r = c.post(f"/api/review/{flagged[0]['id']}", headers=_h(tok["rv1"]), json={"accept": True, "revision": flagged[0]["revision"]})
        assert r.status_code == 200
        audit = c.get(f"/api/pages/{flagged[0]['page_id']}/audit", headers=_h(tok["viewer"])).json()
        assert audit[-1]["action"] == "accept serial"
