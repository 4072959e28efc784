"""Printed forms: QR identity on every page, unique serials, fonts embedded."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from pdf2image import convert_from_path
from pypdf import PdfReader

from omr.cli import main
from omr.identify import decode_qr
from omr.identity import PageIdentity, parse_payload
from omr.render import render_pdf
from omr.template import load_template

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def mini():
    return load_template(DATA / "mini-form.yaml")


def test_every_page_qr_decodes_to_form_page_serial(tmp_path: Path, mini) -> None:
    pdf = tmp_path / "f.pdf"
    printed = render_pdf(mini, pdf, sheets=3, first_serial=41, agency="SYT-01")
    assert [p.serial for p in printed] == ["000041", "000042", "000043"]
    images = convert_from_path(str(pdf), dpi=150, grayscale=True)
    assert len(images) == 3
    for img, expect in zip(images, printed):
        got = decode_qr(np.asarray(img))
        assert got == expect
        assert got.agency == "SYT-01"


def test_serials_unique_across_sheets_and_pages(tmp_path: Path) -> None:
    two_page = load_template("sipas-2017") if (Path("form_templates") / "sipas-2017.yaml").exists() else None
    if two_page is None:
        pytest.skip("sipas-2017 template not present")
    printed = render_pdf(two_page, tmp_path / "s.pdf", sheets=4)
    keys = [(p.serial, p.page) for p in printed]
    assert len(keys) == len(set(keys)) == 4 * two_page.page_count
    assert len({p.serial for p in printed}) == 4


def test_fonts_embedded_and_text_has_diacritics(tmp_path: Path, mini) -> None:
    pdf = tmp_path / "f.pdf"
    render_pdf(mini, pdf)
    reader = PdfReader(str(pdf))
    page = reader.pages[0]
    fonts = page["/Resources"]["/Font"]
    for ref in fonts.values():
        desc = ref.get_object().get("/DescendantFonts")
        font = desc[0].get_object() if desc else ref.get_object()
        fd = font.get("/FontDescriptor")
        assert fd is not None and ("/FontFile2" in fd.get_object() or "/FontFile" in fd.get_object())
    text = page.extract_text()
    for phrase in ("Đánh dấu X vào ô lựa chọn", "Muốn sửa, tô kín ô đã đánh dấu", "Số phiếu", "Thời gian giải quyết", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"):
        assert phrase in text


def test_payload_roundtrip_and_rejects_foreign() -> None:
    p = PageIdentity("sipas-2017", 1, 2, "000123", None)
    assert parse_payload(p.payload()) == p
    assert parse_payload("https://example.org") is None
    assert parse_payload("OMR1|Bad Name|1|1|1|") is None


def test_cli_render_and_geometry(tmp_path: Path, capsys) -> None:
    out = tmp_path / "x.pdf"
    assert main(["form", "render", str(DATA / "mini-form.yaml"), "--out", str(out), "--sheets", "2", "--first-serial", "7"]) == 0
    assert len(PdfReader(str(out)).pages) == 2
    capsys.readouterr()
    assert main(["form", "geometry", str(DATA / "mini-form.yaml")]) == 0
    import json

    geo = json.loads(capsys.readouterr().out)
    assert geo["template"] == "mini-form" and geo["pages"][0]["width_mm"] == 210.0


def test_cli_render_rejects_bad_agency(tmp_path: Path, capsys) -> None:
    assert main(["form", "render", str(DATA / "mini-form.yaml"), "--out", str(tmp_path / "x.pdf"), "--agency", "a b"]) == 2
    assert "--agency" in capsys.readouterr().err


@pytest.mark.parametrize("layout_version, first_id", [(1, 0), (2, 4)])  # layout 2: page 1's markers are 4-7
def test_markers_are_distinct_per_corner(tmp_path: Path, mini, layout_version, first_id) -> None:
    from omr.align import find_markers, page_markers

    render_pdf(mini, tmp_path / "f.pdf", layout_version=layout_version)
    img = np.asarray(convert_from_path(str(tmp_path / "f.pdf"), dpi=100, grayscale=True)[0])
    found = find_markers(img)
    assert sorted(found) == [first_id + k for k in range(4)]
    assert page_markers(found)[1:] == ((1, None) if layout_version == 1 else (2, 1))
    # the top-left marker is top-left on an upright page
    c0 = found[first_id].mean(axis=0)
    assert c0[0] < img.shape[1] / 2 and c0[1] < img.shape[0] / 2
    rot = np.ascontiguousarray(cv2.rotate(img, cv2.ROTATE_180))
    c0r = find_markers(rot)[first_id].mean(axis=0)
    assert c0r[0] > img.shape[1] / 2 and c0r[1] > img.shape[0] / 2
