"""Every page identified: QR code (OpenCV, then zxing-cpp on a rectified crop), then layout 2's identity row.

Forms printed with layout 1 (before the identity row) must keep reading: both
layouts are rendered here and read back.
"""
from __future__ import annotations

import io
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from pdf2image import convert_from_bytes

from omr import idrow
from omr.layout import ID_ROW_X, ID_ROW_Y, QR_SIZE, QR_X, QR_Y, layout
from omr.pipeline import ScanOptions, process_page
from omr.render import render_pdf
from omr.template import load_template

DATA = Path(__file__).parent / "data"
DPI = 200
PPM = DPI / 25.4
NO_OCR = ScanOptions(ocr=False)


@pytest.fixture(scope="module")
def mini():
    os.environ["OMR_TEMPLATE_PATH"] = str(DATA)
    return load_template("mini-form")


def _pages(template, layout_version, serial=4711, agency="SNV"):
    buf = io.BytesIO()
    render_pdf(template, buf, first_serial=serial, agency=agency, layout_version=layout_version)
    return [np.array(p.convert("L")) for p in convert_from_bytes(buf.getvalue(), dpi=DPI)]


@pytest.fixture(scope="module")
def pages(mini):
    return {lv: _pages(mini, lv)[0] for lv in (1, 2)}


def _cross(img, box):
    x, y, w, h = (v * PPM for v in box)
    cv2.line(img, (int(x + 0.2 * w), int(y + 0.2 * h)), (int(x + 0.8 * w), int(y + 0.8 * h)), 40, 3)
    cv2.line(img, (int(x + 0.8 * w), int(y + 0.2 * h)), (int(x + 0.2 * w), int(y + 0.8 * h)), 40, 3)


def _wipe_qr(img):
    out = img.copy()
    cv2.rectangle(out, (int(QR_X * PPM) - 6, int(QR_Y * PPM) - 6), (int((QR_X + QR_SIZE) * PPM) + 6, int((QR_Y + QR_SIZE) * PPM) + 6), 255, -1)
    return out


def read(img):
    return process_page(np.ascontiguousarray(img), source="t.png", index=0, options=NO_OCR).result


@pytest.mark.parametrize("layout_version", [1, 2])
def test_both_layouts_read_by_their_qr_code(mini, pages, layout_version):
    img = pages[layout_version].copy()
    _cross(img, next(o.box for o in layout(mini, layout_version).field("c01")[1].options if o.value == 4))
    r = read(img)
    assert (r.status, r.identified_by, r.template, r.page, r.sheet, r.agency) == ("ok", "qr", "mini-form", 1, "004711", "SNV")
    assert r.to_json()["agency_from"] == "qr"
    assert (r.fields["c01"].value, r.fields["c01"].status) == (4, "answered")


def test_layout_2_is_identified_by_its_identity_row_when_the_qr_code_is_gone(pages):
    r = read(_wipe_qr(pages[2]))
    assert (r.status, r.identified_by, r.template, r.page, r.sheet) == ("ok", "marks", "mini-form", 1, "004711")
    assert r.agency is None  # the row does not carry it; the QR code does
    # ... and the result says so: the agency is the one the serial was printed for (the service's print runs)
    assert r.to_json()["agency_from"] == "serial"


def test_a_qr_code_printed_without_an_agency_says_so(mini):
    r = read(_pages(mini, 2, agency=None)[0])
    assert (r.identified_by, r.agency, r.to_json()["agency_from"]) == ("qr", None, "qr")


def test_layout_1_without_its_qr_code_and_without_ocr_is_not_guessed(pages):
    r = read(_wipe_qr(pages[1]))
    assert r.status == "unrecognized" and r.sheet is None


def test_a_blurred_low_resolution_photo_of_layout_2_is_identified(pages):
    img = _wipe_qr(pages[2])  # the QR code unreadable; the row's 1.4 mm cells survive the blur
    small = cv2.resize(img, None, fx=0.8, fy=0.8, interpolation=cv2.INTER_AREA)
    blurred = cv2.GaussianBlur(small, (0, 0), 2.2)
    r = read(blurred)
    assert (r.status, r.identified_by, r.sheet) == ("ok", "marks", "004711")


def test_a_damaged_identity_row_is_rejected_not_misread(pages):
    img = _wipe_qr(pages[2])
    cells = idrow.encode("mini-form", 1, "004711")
    k = cells.index(True)  # one filled cell wiped and its partner filled: one bit flipped
    for j, fill in ((k, 255), (k + 1 if k % 2 == 0 else k - 1, 0)):
        x, y = (ID_ROW_X + j * 1.6) * PPM, ID_ROW_Y * PPM
        cv2.rectangle(img, (int(x) - 1, int(y) - 1), (int(x + 1.4 * PPM) + 1, int(y + 1.4 * PPM) + 1), fill, -1)
    r = read(img)
    assert r.status == "unrecognized" and r.sheet is None


def test_the_page_number_comes_from_the_markers():
    sipas = load_template("sipas-2017")
    second = _pages(sipas, 2, serial=99)[1]
    r = read(_wipe_qr(second))
    assert (r.status, r.identified_by, r.template, r.page, r.sheet) == ("ok", "marks", "sipas-2017", 2, "000099")


def test_every_single_bit_error_is_caught():
    cells = idrow.encode("sipas-2017", 1, "123456")
    word = 0
    for a in cells[0::2]:
        word = (word << 1) | int(a)
    assert idrow.decode_bits(word) == (idrow.template_code("sipas-2017", 1), "123456")
    for i in range(idrow.ID_ROW_BITS):
        assert idrow.decode_bits(word ^ (1 << i)) is None, i


def test_a_page_that_cannot_be_placed_still_names_its_sheet(pages):
    """Three markers hidden (a stain, a torn corner): the page is not read, but its code is found anywhere."""
    from omr.layout import MARKER_INSET, MARKER_SIZE, PAGE_H, PAGE_W

    img = cv2.resize(pages[2], None, fx=2.0, fy=2.0, interpolation=cv2.INTER_CUBIC)  # a 400-dpi scan: searched scaled down
    ppm = 2 * PPM
    for x, y in ((MARKER_INSET, MARKER_INSET), (PAGE_W - MARKER_INSET - MARKER_SIZE, MARKER_INSET), (MARKER_INSET, PAGE_H - MARKER_INSET - MARKER_SIZE)):
        cv2.rectangle(img, (int((x - 1) * ppm), int((y - 1) * ppm)), (int((x + MARKER_SIZE + 1) * ppm), int((y + MARKER_SIZE + 1) * ppm)), 255, -1)
    r = read(img)
    assert r.status == "unrecognized" and "cannot be placed" in r.error
    assert (r.template, r.sheet, r.agency) == ("mini-form", "004711", "SNV")
