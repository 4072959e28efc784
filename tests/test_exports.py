"""Exports: CSV (BOM, Vietnamese intact), XLSX (three sheets), SPSS labels, JSON, LibreOffice PDF."""
from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from omr.template import load_template
from service.exports import (
    SHEET_ANSWERS,
    SHEET_FREQ,
    SHEET_INDICES,
    SHEET_RANKING,
    answer_rows,
    csv_bytes,
    json_bytes,
    sav_bytes,
    spss_name,
    write_exports,
    xlsx_bytes,
)
from service.indices import IndexSpec, rank_agencies
from service.tally_jsonl import group_sheets, indices_by_agency, indices_for

DATA = Path(__file__).parent / "data"


def fld(v):
    if v is None:
        return {"value": None, "status": "blank", "confidence": 0.99}
    if v == "?":
        return {"value": None, "status": "uncertain", "confidence": 0.4}
    if v == "*":
        return {"value": None, "status": "multiple", "confidence": 0.9}
    return {"value": v, "status": "answered", "confidence": 0.97}


def sheet_pages(serial, agency, **answers):
    p1 = ("gioi_tinh", "do_tuoi", "ma_ho_so", "c01", "c02")
    return [
        {"source": "x.pdf", "index": i, "status": "ok", "template": "tally-form", "version": 1,
         "sheet": serial, "page": i + 1, "agency": agency,
         "fields": {k: fld(v) for k, v in answers.items() if (k in p1) == (i == 0)}}
        for i in range(2)
    ]


@pytest.fixture(scope="module")
def template():
    return load_template(DATA / "tally-form.yaml")


@pytest.fixture(scope="module")
def sheets():
    raw = [
        *sheet_pages("000001", "SNV", gioi_tinh=2, do_tuoi=1, ma_ho_so="007", c01=5, c02=4, c03=3, c04=2, cai_thien=[1, 3]),
        *sheet_pages("000002", "SNV", gioi_tinh=1, c01="*", c02="?", c03=5, c04=5, cai_thien=[2]),
        *sheet_pages("000003", "STP", gioi_tinh=2, c01=4, c02=4, c03=4, c04=4, cai_thien=None, y_kien="Cần thêm ghế chờ"),
    ]
    return group_sheets(raw).sheets


@pytest.fixture(scope="module")
def result(template, sheets):
    return indices_for(IndexSpec.from_template(template), sheets)


def test_csv_codes_bom_and_layout(template, sheets):
    data = csv_bytes(template, sheets)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data[3:].decode("utf-8"))))
    assert rows[0] == ["sheet", "agency", "gioi_tinh", "do_tuoi", "ma_ho_so", "c01", "c02", "c03", "c04",
                       "cai_thien_1", "cai_thien_2", "cai_thien_3", "y_kien", "pending"]
    assert rows[1] == ["000001", "SNV", "2", "1", "007", "5", "4", "3", "2", "1", "0", "1", "", "0"]
    # multiple marks and pending review are empty cells (no guess); pending count at the end
    assert rows[2][5:9] == ["", "", "5", "5"] and rows[2][-1] == "1"
    # no final answer to the multiple-choice question: empty, not 0
    assert rows[3][9:12] == ["", "", ""] and rows[3][12] == "Cần thêm ghế chờ"


def test_csv_labelled_vietnamese_intact(template, sheets):
    text = csv_bytes(template, sheets, labelled=True).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["Số phiếu", "Đơn vị", "Giới tính"]
    assert rows[0][5] == "1. Nơi ngồi chờ giải quyết công việc tại cơ quan có đủ chỗ ngồi"
    assert rows[0][9] == "Cơ quan cần cải thiện điều gì? – Cơ sở vật chất"
    assert rows[1][2] == "Nữ" and rows[1][5] == "Rất hài lòng" and rows[1][8] == "Không hài lòng"
    assert rows[1][9:12] == ["Có", "Không", "Có"]


def test_answer_rows_accept_plain_dicts(template):
    cols, rows = answer_rows(template, [{"sheet": "000042", "agency": "", "fields": {"c01": fld(4)}}])
    assert rows[0][0] == "000042" and rows[0][[c.name for c in cols].index("c01")] == 4


def test_xlsx_sheets_headers(template, sheets, result):
    from openpyxl import load_workbook

    ranking = rank_agencies(indices_by_agency(IndexSpec.from_template(template), sheets))
    wb = load_workbook(io.BytesIO(xlsx_bytes(template, sheets, result, ranking=ranking)))
    assert {SHEET_ANSWERS, SHEET_FREQ, SHEET_INDICES, SHEET_RANKING} <= set(wb.sheetnames)
    wi = wb[SHEET_INDICES]
    assert wi["B1"].value == "Yếu tố / tiêu chí" and wi["C1"].value == "Chỉ số hài lòng (%)"
    assert wi.freeze_panes == "A2"
    assert wi.column_dimensions["B"].width >= 40
    assert wi["B2"].value == "CHỈ SỐ HÀI LÒNG CHUNG" and wi["C2"].value == round(result.overall, 2)
    assert wi["B3"].value == "Tiếp cận dịch vụ hành chính công"
    wa = wb[SHEET_ANSWERS]
    assert wa["A1"].value == "Số phiếu" and wa["A2"].value == "000001" and wa.freeze_panes == "A2"
    wf = wb[SHEET_FREQ]
    assert [c.value for c in wf[1]] == ["Mã câu hỏi", "Câu hỏi", "Mã trả lời", "Phương án trả lời", "Số phiếu", "Tỷ lệ (%)"]
    assert wf["D2"].value == "Nam"
    wr = wb[SHEET_RANKING]
    assert [wr.cell(row=i, column=2).value for i in (2, 3)] == ["STP", "SNV"]


def test_sav_labels_read_back(tmp_path, template, sheets):
    import pyreadstat

    path = tmp_path / "x.sav"
    path.write_bytes(sav_bytes(template, sheets))
    df, meta = pyreadstat.read_sav(str(path))
    labels = meta.column_names_to_labels
    assert labels["c01"] == "1. Nơi ngồi chờ giải quyết công việc tại cơ quan có đủ chỗ ngồi"
    assert labels["cai_thien_2"] == "Cơ quan cần cải thiện điều gì? – Thái độ phục vụ"
    assert meta.variable_value_labels["gioi_tinh"] == {1.0: "Nam", 2.0: "Nữ"}
    assert meta.variable_value_labels["c04"][5.0] == "Rất hài lòng"
    assert list(df["sheet"]) == ["000001", "000002", "000003"]
    assert df["c01"].isna().tolist() == [False, True, False]
    assert df["y_kien"].tolist()[2] == "Cần thêm ghế chờ"
    assert spss_name("1a") == "q1a" and spss_name("to") == "qto"


def test_json_export(template, sheets, result):
    doc = json.loads(json_bytes(template, sheets, result, meta={"round": "Đợt 1/2024"}))
    assert doc["template"]["id"] == "tally-form" and doc["meta"]["round"] == "Đợt 1/2024"
    assert doc["indices"]["overall"] == round(result.overall, 4)
    assert [s["sheet"] for s in doc["sheets"]] == ["000001", "000002", "000003"]
    assert doc["frequencies"][0]["options"][1] == {"value": 2, "label": "Nữ", "count": 2}


def test_write_exports(tmp_path, template, sheets, result):
    out = write_exports(tmp_path / "out", ["csv", "xlsx", "sav", "json"], template, sheets, result)
    assert set(out) == {"csv", "csv-labelled", "xlsx", "sav", "json"}
    assert all(p.stat().st_size > 0 for p in out.values())
    with pytest.raises(ValueError, match="unknown export format"):
        write_exports(tmp_path, ["docx"], template, sheets, result)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("libreoffice") is None or shutil.which("pdftotext") is None,
                    reason="needs libreoffice (libreoffice-calc-nogui) and pdftotext (poppler-utils)")
def test_xlsx_converts_with_libreoffice(tmp_path, template, sheets, result):
    x = tmp_path / "chi-so.xlsx"
    x.write_bytes(xlsx_bytes(template, sheets, result))
    profile = tmp_path / "lo-profile"
    subprocess.run(
        ["libreoffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path), str(x)],
        check=True, capture_output=True, timeout=180,
    )
    pdf = tmp_path / "chi-so.pdf"
    assert pdf.is_file()
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    assert "Yếu tố / tiêu chí" in text
    assert "CHỈ SỐ HÀI LÒNG CHUNG" in text
    assert "Tiếp cận dịch vụ hành chính công" in text
