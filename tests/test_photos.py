"""Phone photos: shading divided out before measuring, a field that reads alike everywhere to review (issue 12, item 2).

The photos are made here (their own shading model: a soft shadow edge and
light falling off across the sheet, then blur), not by the sample generator.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from pdf2image import convert_from_path

from omr import shading
from omr.layout import layout
from omr.pipeline import ScanOptions, process_page
from omr.render import render_pdf
from omr.template import load_template

DATA = Path(__file__).parent / "data"
DPI = 200
PPM = DPI / 25.4


@pytest.fixture(scope="module")
def mini():
    os.environ["OMR_TEMPLATE_PATH"] = str(DATA)
    return load_template("mini-form")


@pytest.fixture(scope="module")
def blank(mini, tmp_path_factory) -> np.ndarray:
    pdf = tmp_path_factory.mktemp("form") / "mini.pdf"
    render_pdf(mini, pdf, first_serial=55)
    return np.array(convert_from_path(str(pdf), dpi=DPI, grayscale=True)[0])


def _box(mini, fid, value):
    return next(o.box for o in layout(mini).field(fid)[1].options if o.value == value)


def cross(img, box, ink=40):
    x, y, w, h = (v * PPM for v in box)
    cv2.line(img, (int(x + w * 0.2), int(y + h * 0.2)), (int(x + w * 0.8), int(y + h * 0.8)), ink, 3)
    cv2.line(img, (int(x + w * 0.8), int(y + h * 0.2)), (int(x + w * 0.2), int(y + h * 0.8)), ink, 3)


def shaded_photo(img, *, edge_mm=3.0, depth=0.45, angle=80.0, blur=1.2):
    """A soft shadow edge across the sheet, light falling off towards the left, a little blur."""
    h, w = img.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    a = math.radians(angle)
    d = (xx - w * 0.75) * math.cos(a) + (yy - h * 0.5) * math.sin(a)
    light = (1 - depth / (1 + np.exp(-d / (edge_mm * PPM)))) * (0.75 + 0.25 * xx / w)
    return cv2.GaussianBlur(np.clip(img * light, 0, 255), (0, 0), blur).astype(np.uint8)


def read(img, tmp_path):
    cv2.imwrite(str(tmp_path / "page.png"), img)  # for a look when a test fails
    out = process_page(np.ascontiguousarray(img), source="t.png", index=0, options=ScanOptions(ocr=False))
    assert out.result.status == "ok", out.result.error
    return out.result.fields


def test_a_shadow_across_a_code_grid_is_no_mark(mini, blank, tmp_path):
    img = blank.copy()
    cross(img, _box(mini, "c01", 2))
    cross(img, _box(mini, "cai_thien", 2))
    cross(img, _box(mini, "gioi_tinh", 1))
    fields = read(shaded_photo(img), tmp_path)
    got = {k: (f.value, f.status) for k, f in fields.items()}
    assert got["c01"] == (2, "answered") and got["cai_thien"] == ([2], "answered") and got["gioi_tinh"] == (1, "answered")
    assert got["ma_don_vi"] == (None, "blank")  # the shadow's edge runs down its columns
    assert all(f.status in ("answered", "blank") for f in fields.values()), {k: f.reason for k, f in fields.items() if f.reason}


def test_an_evenly_lit_scan_is_left_as_it_is(blank):
    flat, spread = shading.flatten(blank)
    assert flat is blank and spread < 0.05


def test_shading_is_divided_out(blank):
    photo = shaded_photo(blank, blur=0.01)
    flat, spread = shading.flatten(photo)
    assert spread > 0.3
    paper = flat[200:1500:50, 200:1400:50]
    paper = paper[paper > 150]  # paper, not print
    assert paper.size > 100 and np.percentile(paper, 90) - np.percentile(paper, 10) < 30


def test_ink_in_every_box_alike_is_background_not_marks(mini, blank, tmp_path):
    """A dark background through the sheet puts the same ink in every box; one real cross stands out."""
    img = blank.copy()
    rng = np.random.default_rng(3)
    for v in (1, 2, 3):
        x, y, w, h = (int(round(c * PPM)) for c in _box(mini, "cai_thien", v))
        inner = img[y + 4 : y + h - 4, x + 4 : x + w - 4]
        inner[rng.random(inner.shape) < 0.24] = 80
    cross(img, _box(mini, "cai_thien", 2))
    f = read(img, tmp_path)["cai_thien"]
    assert f.status == "uncertain" and f.reason == "every box reads alike"


def thin_cross(img, box, ink=60):
    """A fine gel pen's cross: one pixel wide at 200 dpi (0.13 mm)."""
    x, y, w, h = (v * PPM for v in box)
    for a, b in (((0.2, 0.2), (0.8, 0.8)), ((0.8, 0.2), (0.2, 0.8))):
        cv2.line(img, (int(x + w * a[0]), int(y + h * a[1])), (int(x + w * b[0]), int(y + h * b[1])), ink, 1, cv2.LINE_AA)


def test_blur_is_measured_on_the_markers_edges(blank):
    """Sharp scans come out sharp; a Gaussian blur of sigma s comes out near s (it adds to the scan's own)."""
    from omr.pipeline import process_page

    sharp = process_page(blank, source="t.png", index=0, options=ScanOptions(ocr=False)).result.blur_mm
    assert sharp is not None and sharp < 0.1
    for sigma_px in (2.0, 3.0):
        got = process_page(cv2.GaussianBlur(blank, (0, 0), sigma_px), source="t.png", index=0,
                           options=ScanOptions(ocr=False)).result
        assert got.to_json()["blur_mm"] == pytest.approx(sigma_px / PPM, rel=0.2)


def test_a_thin_cross_on_a_blurred_photo_is_not_read_as_blank(mini, blank, tmp_path, monkeypatch):
    """Blurred by 0.5 mm, a fine pen's cross keeps a fifth of its darkness: with the thresholds of a
    sharp scan it reads as an empty box (a wrong answer accepted); with the page's blur taken into
    account it goes to a person, and the boxes nobody marked still read blank (no flood of reviews)."""
    from omr import blur

    img = blank.copy()
    thin_cross(img, _box(mini, "c01", 2))
    thin_cross(img, _box(mini, "gioi_tinh", 1))
    photo = cv2.GaussianBlur(img, (0, 0), 4.0)
    fields = read(photo, tmp_path)
    assert fields["c01"].status == "uncertain" and fields["c01"].value in (2, None)
    assert fields["gioi_tinh"].status != "blank"
    assert all(f.status == "blank" for k, f in fields.items() if k not in ("c01", "gioi_tinh"))
    monkeypatch.setattr(blur, "blur_mm", lambda *a, **k: None)  # as before: the page taken for sharp
    assert read(photo, tmp_path)["c01"].status == "blank"


def test_a_blurred_empty_page_reads_blank_everywhere(mini, blank, tmp_path):
    for sigma_px in (2.0, 4.0):
        fields = read(shaded_photo(blank, blur=sigma_px), tmp_path)
        assert all(f.status == "blank" for f in fields.values()), {k: f.reason for k, f in fields.items() if f.status != "blank"}
