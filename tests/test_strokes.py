"""Strokes that pass through a box are no answers (issue 12, item 3).

The strokes here are drawn by their own routine (a wobbling polyline of a
pen's width, not the sample generator's or test_engine's marks): a note
running across a row, an arrow crossing one box on a slant. A field holding
such a stroke goes to review, whatever else it holds; a solid fill beside such
a stroke is never read as a correction. Big crosses and ticks whose arms leave
the box stay answers.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from pdf2image import convert_from_path

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
    render_pdf(mini, pdf, first_serial=321)
    return np.array(convert_from_path(str(pdf), dpi=DPI, grayscale=True)[0])


def _field(mini, fid):
    return layout(mini).field(fid)[1]


def _box(mini, fid, value, digit=None):
    return next(o.box for o in _field(mini, fid).options if o.value == value and (digit is None or o.digit == digit))


def pen_line(img, pts_mm, width_mm=0.45, ink=35, wobble_mm=0.35, seed=0):
    """A hand's stroke through the given points (mm): resampled every 0.5 mm, wobbling, one pen width."""
    rng = np.random.default_rng(seed)
    pts = np.asarray(pts_mm, float)
    seg = [np.linspace(a, b, max(2, int(np.hypot(*(b - a)) / 0.5)), endpoint=False) for a, b in zip(pts[:-1], pts[1:])]
    path = np.vstack(seg + [pts[-1:]])
    t = np.arange(len(path))
    path[:, 1] += wobble_mm * np.sin(t / rng.uniform(5, 9) + rng.uniform(0, 6))
    path[:, 0] += rng.normal(0, 0.05, len(path))
    cv2.polylines(img, [(path * PPM).astype(np.int32).reshape(-1, 1, 2)], False, ink, max(1, round(width_mm * PPM)), cv2.LINE_AA)


def solid(img, box, ink=35):
    x, y, w, h = box
    cv2.rectangle(img, (int((x + 0.4) * PPM), int((y + 0.4) * PPM)), (int((x + w - 0.4) * PPM), int((y + h - 0.4) * PPM)), ink, -1)


def big_cross(img, box, reach_mm, ink=35, seed=1):
    """Two crossing strokes centred on the box, reaching ``reach_mm`` from its centre along each diagonal."""
    x, y, w, h = box
    cx, cy = x + w / 2, y + h / 2
    d = reach_mm / math.sqrt(2)
    pen_line(img, [(cx - d, cy - d), (cx + d, cy + d)], ink=ink, wobble_mm=0.1, seed=seed)
    pen_line(img, [(cx + d, cy - d), (cx - d, cy + d)], ink=ink, wobble_mm=0.1, seed=seed + 1)


def read(img, tmp_path):
    cv2.imwrite(str(tmp_path / "page.png"), img)  # for a look when a test fails
    out = process_page(np.ascontiguousarray(img), source="t.png", index=0, options=ScanOptions(ocr=False))
    assert out.result.status == "ok", out.result.error
    return out.result.fields


def test_a_note_across_a_row_of_empty_boxes_is_no_answer(mini, blank, tmp_path):
    img = blank.copy()
    f = _field(mini, "c01")
    b1, b5 = f.options[0].box, f.options[-1].box
    y = b1[1] + b1[3] * 0.55
    pen_line(img, [(b1[0] - 9, y - 0.4), (b5[0] + b5[2] + 9, y + 0.5)])  # through all five boxes
    r = read(img, tmp_path)["c01"]
    assert r.status == "uncertain" and "stray stroke through box" in r.reason
    assert r.value is None  # the stroke's box is no suggestion


def test_a_solid_fill_beside_a_stroke_through_another_box_is_not_a_correction(mini, blank, tmp_path):
    img = blank.copy()
    solid(img, _box(mini, "c02", 2))  # the respondent's answer, filled solidly
    b4 = _box(mini, "c02", 4)
    y = b4[1] + b4[3] * 0.45
    pen_line(img, [(b4[0] - 6, y + 0.3), (b4[0] + b4[2] + 7, y - 0.4)], seed=3)  # a note through box 4
    r = read(img, tmp_path)["c02"]
    assert r.status == "uncertain" and "stray stroke through box" in r.reason
    assert r.value == 2  # the fill, for the reviewer to confirm; never 4 as a "correction"


def test_an_arrow_through_one_box_beside_a_real_cross_goes_to_review(mini, blank, tmp_path):
    img = blank.copy()
    big_cross(img, _box(mini, "do_tuoi", 2), 3.0)
    x, y, w, h = _box(mini, "do_tuoi", 4)
    cx, cy = x + w / 2, y + h / 2
    a = math.radians(35)
    pen_line(img, [(cx - 8 * math.cos(a), cy + 8 * math.sin(a)), (cx + 8 * math.cos(a), cy - 8 * math.sin(a))], seed=5)
    r = read(img, tmp_path)["do_tuoi"]
    assert r.status == "uncertain" and "stray stroke through box" in r.reason


def test_a_vertical_stroke_across_the_table_rules_is_found(mini, blank, tmp_path):
    img = blank.copy()
    big_cross(img, _box(mini, "c03", 1), 3.0)
    x, y, w, h = _box(mini, "c03", 3)
    pen_line(img, [(x + w * 0.5, y - 7), (x + w * 0.55, y + h + 7)], seed=7)  # crosses the rules above and below
    r = read(img, tmp_path)["c03"]
    assert r.status == "uncertain" and "stray stroke through box" in r.reason


@pytest.mark.parametrize("reach", [3.5, 6.0, 8.0])
def test_a_cross_much_bigger_than_the_box_is_still_an_answer(mini, blank, tmp_path, reach):
    img = blank.copy()
    big_cross(img, _box(mini, "c01", 3), reach)  # its arms run over the table rules too
    big_cross(img, _box(mini, "gioi_tinh", 1), reach, seed=4)
    fields = read(img, tmp_path)
    assert (fields["c01"].value, fields["c01"].status) == (3, "answered")
    assert (fields["gioi_tinh"].value, fields["gioi_tinh"].status) == (1, "answered")


def test_a_tick_whose_long_arm_leaves_the_box_is_still_an_answer(mini, blank, tmp_path):
    img = blank.copy()
    x, y, w, h = _box(mini, "c02", 5)
    pen_line(img, [(x + 0.8, y + 2.8), (x + 2.0, y + 4.4), (x + w + 2.5, y - 4.5)], wobble_mm=0.05, seed=9)
    x, y, w, h = _box(mini, "do_tuoi", 3)
    pen_line(img, [(x + 0.6, y + 2.5), (x + 1.8, y + 4.3), (x + w + 3.0, y - 3.5)], wobble_mm=0.05, seed=10)
    fields = read(img, tmp_path)
    assert (fields["c02"].value, fields["c02"].status) == (5, "answered")
    assert (fields["do_tuoi"].value, fields["do_tuoi"].status) == (3, "answered")


def test_a_stroke_that_bends_as_it_crosses_a_box_is_found(mini, blank, tmp_path):
    """In from below on the left, out to the right: not straight across, still through."""
    img = blank.copy()
    solid(img, _box(mini, "c01", 1))
    x, y, w, h = _box(mini, "c01", 3)
    pen_line(img, [(x - 4.5, y + h + 5.0), (x - 0.5, y + h * 0.75), (x + w * 0.5, y + h * 0.45), (x + w + 6.0, y + h * 0.1)], seed=11)
    r = read(img, tmp_path)["c01"]
    assert r.status == "uncertain" and "stray stroke through box" in r.reason and r.value == 1
