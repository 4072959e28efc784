"""The round report (HTML and PDF) and the `omr tally` command."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
import yaml

from omr.template import load_template
from service.indices import IndexSpec, indices_from_sheets, rank_agencies
from service.report import build_report, fmt_num, render_html, render_pdf
from service.tally_jsonl import group_sheets, indices_by_agency, indices_for

DATA = Path(__file__).parent / "data"


def fld(v):
    if v == "?":
        return {"value": None, "status": "uncertain", "confidence": 0.4}
    return {"value": v, "status": "answered" if v is not None else "blank", "confidence": 0.97}


def page_lines(serial, agency, template="tally-form", **answers):
    p1 = {"gioi_tinh", "do_tuoi", "ma_ho_so", "c01", "c02"}
    return [
        {"source": "s.pdf", "index": i, "status": "ok", "template": template, "version": 1, "sheet": serial,
         "page": i + 1, "agency": agency,
         "fields": {k: fld(v) for k, v in answers.items() if (k in p1) == (i == 0)}}
        for i in range(2)
    ]


def sample_pages():
    return [
        *page_lines("000001", "SNV", gioi_tinh=1, c01=5, c02=4, c03=3, c04=2),
        *page_lines("000002", "SNV", gioi_tinh=2, c01=4, c02=2, c03="?", c04=5),
        *page_lines("000003", "STP", gioi_tinh=2, c01=5, c02=5, c03=4, c04=4),
    ]


@pytest.fixture(scope="module")
def template():
    return load_template(DATA / "tally-form.yaml")


@pytest.fixture(scope="module")
def ctx(template):
    spec = IndexSpec.from_template(template)
    sheets = group_sheets(sample_pages()).sheets
    ranking = rank_agencies(indices_by_agency(spec, sheets), {"SNV": "Sở Nội vụ", "STP": "Sở Tư pháp"})
    return build_report(template, indices_for(spec, sheets), round_name="Đợt khảo sát quý I/2025",
                        ranking=ranking, date=date(2025, 3, 31))


def test_fmt_num_vietnamese():
    assert fmt_num(84.4512) == "84,45" and fmt_num(1234.5) == "1.234,50" and fmt_num(None) == "–"


def test_html_contents(ctx):
    html = render_html(ctx)
    assert "BÁO CÁO KẾT QUẢ KHẢO SÁT SỰ HÀI LÒNG" in html
    assert "Đợt khảo sát quý I/2025" in html and "ngày 31 tháng 03 năm 2025" in html
    assert "Tiếp cận dịch vụ hành chính công" in html
    assert "Xếp hạng đơn vị" in html and "Sở Tư pháp" in html  # two agencies: ranking shown
    assert "Phương pháp tính" in html and "Quyết định số 2640/QĐ-BNV" in html
    assert html.count("data:image/svg+xml;base64,") == 2
    assert "Kết quả tạm thời: còn 1 ô" in html  # c03 on sheet 2 awaits review
    assert fmt_num(ctx.result.overall) in html


def test_html_single_agency_has_no_ranking(template):
    spec = IndexSpec.from_template(template)
    sheets = group_sheets(page_lines("000001", "SNV", c01=5)).sheets
    ranking = rank_agencies(indices_by_agency(spec, sheets))
    html = render_html(build_report(template, indices_for(spec, sheets), round_name="Đợt 1", ranking=ranking))
    assert "Xếp hạng đơn vị" not in html and "Kết quả tạm thời" not in html


def test_html_escapes_text(tmp_path):
    data = yaml.safe_load((DATA / "tally-form.yaml").read_text(encoding="utf-8"))
    data["id"] = "xss-form"
    data["pages"][0]["sections"][1]["questions"][0]["text"] = "Chỗ ngồi <script>alert(1)</script> & bàn"
    data["indices"]["elements"][0]["name"] = "Tiếp cận <b>đậm</b>"
    p = tmp_path / "xss-form.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    t = load_template(p)
    r = indices_from_sheets(IndexSpec.from_template(t), [{"c01": fld(5)}])
    ctx = build_report(t, r, round_name="Đợt <i>1</i>")
    html = render_html(ctx)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; bàn" in html
    assert "<b>đậm</b>" not in html and "&lt;b&gt;đậm&lt;/b&gt;" in html
    assert "Đợt &lt;i&gt;1&lt;/i&gt;" in html
    pdf = render_pdf(ctx)  # reportlab markup must not break on the same text
    assert pdf.startswith(b"%PDF")


def test_report_with_no_answers(template):
    r = indices_from_sheets(IndexSpec.from_template(template), [])
    ctx = build_report(template, r, round_name="Đợt trống")
    html = render_html(ctx)
    text = re.sub(r"data:image/svg\+xml;base64,[A-Za-z0-9+/=]+", "", html)
    assert "nan" not in text.lower().replace("nanh", "") and "CHỈ SỐ HÀI LÒNG CHUNG</td><td class=\"num\">–" in text
    assert render_pdf(ctx).startswith(b"%PDF")


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs pdftotext (poppler-utils)")
def test_pdf_text(tmp_path, ctx):
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(render_pdf(ctx))
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    assert "BÁO CÁO KẾT QUẢ KHẢO SÁT SỰ HÀI LÒNG" in text
    assert "Chỉ số hài lòng theo yếu tố và tiêu chí" in text
    assert "Công chức trực tiếp giải quyết công việc" in text
    assert "Phương pháp tính" in text
    assert "Xếp hạng đơn vị" in text


def test_many_agencies_chart(template):
    spec = IndexSpec.from_template(template)
    raw = [line for i in range(8) for line in page_lines(f"{i:06d}", f"DV{i}", c01=1 + i % 5, c03=5)]
    sheets = group_sheets(raw).sheets
    ranking = rank_agencies(indices_by_agency(spec, sheets))
    ctx = build_report(template, indices_for(spec, sheets), round_name="Đợt 2", ranking=ranking)
    assert len(ctx.ranking) == 8
    assert render_pdf(ctx).startswith(b"%PDF") and "DV7" in render_html(ctx)


# --------------------------------------------------------------------------
# omr tally
# --------------------------------------------------------------------------
def _run(argv):
    import argparse

    from service.tally_cli import add_tally_parser, run_tally

    p = argparse.ArgumentParser(prog="omr")
    add_tally_parser(p.add_subparsers(dest="command"))
    return run_tally(p.parse_args(["tally", *argv]))


def _write_jsonl(path, pages):
    path.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in pages), encoding="utf-8")
    return path


def test_tally_cli_writes_exports(tmp_path, capsys):
    src = _write_jsonl(tmp_path / "results.jsonl", sample_pages())
    out = tmp_path / "out"
    rc = _run([str(src), "--template", str(DATA / "tally-form.yaml"), "--out-dir", str(out),
               "--formats", "csv,xlsx,sav,json,html,pdf", "--round", "Đợt 1/2025"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    assert "CHỈ SỐ HÀI LÒNG CHUNG" in cap.out and "Tiếp cận dịch vụ hành chính công" in cap.out
    assert "Xếp hạng đơn vị" in cap.out
    names = sorted(p.name for p in out.iterdir())
    # the report is never named like the printed form (omr form render writes tally-form.pdf)
    assert names == ["tally-form-bao-cao.html", "tally-form-bao-cao.pdf", "tally-form-nhan.csv", "tally-form.csv",
                     "tally-form.json", "tally-form.sav", "tally-form.xlsx"]


def test_tally_cli_filters(tmp_path, capsys):
    src = _write_jsonl(tmp_path / "results.jsonl", sample_pages())
    rc = _run([str(src), "--template", str(DATA / "tally-form.yaml"), "--agency", "STP", "--group", "gioi_tinh=2",
               "--formats", "json", "--out-dir", str(tmp_path / "o")])
    assert rc == 0
    doc = json.loads((tmp_path / "o" / "tally-form.json").read_text(encoding="utf-8"))
    # STP has one sheet: c01=5, c02=5 (E1 100), c03=4 (E2 100), c04=4 (E3 100)
    assert doc["indices"]["overall"] == 100.0 and doc["indices"]["n"] == 1
    assert "Xếp hạng" not in capsys.readouterr().out


def test_tally_cli_template_from_results(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OMR_TEMPLATE_PATH", str(DATA))
    src = _write_jsonl(tmp_path / "results.jsonl", sample_pages())
    assert _run([str(src), "--formats", ""]) == 0
    assert "tally-form" in capsys.readouterr().out


@pytest.mark.parametrize(
    "content, template, message",
    [
        (None, "tally-form.yaml", "no such file"),
        ('{"status": "ok"}\n{oops\n', "tally-form.yaml", "line 2: not valid JSON"),
        ("", "no-such-template", "no such template"),
        ("", "tally-form.yaml", "no sheet of template tally-form"),
    ],
)
def test_tally_cli_bad_input(tmp_path, capsys, content, template, message):
    src = tmp_path / "results.jsonl"
    if content is not None:
        src.write_text(content, encoding="utf-8")
    t = str(DATA / template) if template.endswith(".yaml") else template
    rc = _run([str(src), "--template", t, "--out-dir", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2
    assert message in err
    if content is None or "oops" in (content or ""):
        assert "results.jsonl" in err


def test_tally_cli_bad_format(tmp_path, capsys):
    src = _write_jsonl(tmp_path / "results.jsonl", sample_pages())
    assert _run([str(src), "--template", str(DATA / "tally-form.yaml"), "--formats", "docx"]) == 2
    assert "docx" in capsys.readouterr().err
