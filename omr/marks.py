"""Measure the ink in every check box of an aligned page.

Input: the aligned page (grayscale ``uint8``, ``PX_PER_MM`` pixels per mm,
origin top-left) and the field geometry of ``omr.layout`` in millimetres.
Each box is first found again locally (its printed border, searched within
``REFINE_SEARCH_MM``) so paper stretch and scanner drift do not move the
measurement window; then its interior is compared with the paper right
around it, so pencil, ballpoint, 1-bit scans and unevenly lit photos read
alike.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from omr import defs
from omr.layout import PX_PER_MM, FieldGeometry, OptionBox

GrayImage = npt.NDArray[np.uint8]


@dataclass(slots=True)
class BoxMeasure:
    option: OptionBox
    fill: float  # share of the interior that is ink, 0..1
    span: float  # how far the ink reaches across the interior, 0..1
    ring: float  # share of the ring just outside the box that is ink
    contrast: float  # darkness of the ink that is there (median), 0..1
    shift_mm: tuple[float, float]  # where the printed border was found, relative to the layout
    faint: float = 0.0  # share of the interior with at least faint ink (light pencil, a smudge)


def _px(v: float) -> int:
    return int(round(v * PX_PER_MM))


_TEMPLATES: dict[tuple[int, int, int], npt.NDArray[np.float32]] = {}


def _frame_template(w: int, h: int, stroke: int) -> npt.NDArray[np.float32]:
    key = (w, h, stroke)
    t = _TEMPLATES.get(key)
    if t is None:
        t = np.zeros((h, w), np.float32)
        t[:stroke, :] = 1
        t[-stroke:, :] = 1
        t[:, :stroke] = 1
        t[:, -stroke:] = 1
        _TEMPLATES[key] = t
    return t


def _locate_box(gray: GrayImage, box: tuple[float, float, float, float]) -> tuple[float, float, float]:
    """Best shift (dx, dy in px) of the printed border near ``box`` and the match score."""
    x, y, w, h = box
    s = _px(defs.REFINE_SEARCH_MM)
    bx, by, bw, bh = _px(x), _px(y), _px(w), _px(h)
    H, W = gray.shape
    x0, y0 = max(0, bx - s), max(0, by - s)
    x1, y1 = min(W, bx + bw + s), min(H, by + bh + s)
    roi = gray[y0:y1, x0:x1]
    if roi.shape[0] < bh + 1 or roi.shape[1] < bw + 1:
        return 0.0, 0.0, 0.0
    tpl = _frame_template(bw, bh, max(2, _px(0.3)))
    # correlation with a dark frame == correlation of the inverted image with a bright one
    res = cv2.matchTemplate((255 - roi).astype(np.float32), tpl, cv2.TM_CCOEFF_NORMED)
    _, score, _, loc = cv2.minMaxLoc(res)
    return float(loc[0] + x0 - bx), float(loc[1] + y0 - by), float(score)


def measure_field(gray: GrayImage, field: FieldGeometry) -> list[BoxMeasure]:
    """Measure every option box of one field."""
    shifts = [_locate_box(gray, o.box) for o in field.options]
    good = [(dx, dy) for dx, dy, sc in shifts if sc > 0.35]
    if good:
        fdx = float(np.median([g[0] for g in good]))
        fdy = float(np.median([g[1] for g in good]))
    else:
        fdx = fdy = 0.0
    out = []
    for o, (dx, dy, sc) in zip(field.options, shifts):
        # a box's own border wins when it is clearly found close to its neighbours' consensus
        if sc > 0.5 and abs(dx - fdx) <= _px(0.6) and abs(dy - fdy) <= _px(0.6):
            sx, sy = dx, dy
        else:
            sx, sy = fdx, fdy
        out.append(_measure_box(gray, o, sx, sy))
    # Printed lines near a row (a table rule, a header) put the same ink in every box's
    # ring; a ring drawn around one box stands out from its neighbours.
    if len(out) >= 2:
        base = min(m.ring for m in out)
        if base > 0:
            for m in out:
                m.ring = max(0.0, m.ring - base)
    return out


def _measure_box(gray: GrayImage, o: OptionBox, sx: float, sy: float) -> BoxMeasure:
    x, y, w, h = o.box
    H, W = gray.shape
    shift = (sx / PX_PER_MM, sy / PX_PER_MM)
    bx, by = x * PX_PER_MM + sx, y * PX_PER_MM + sy
    bw, bh = w * PX_PER_MM, h * PX_PER_MM
    ins = defs.INTERIOR_INSET_MM * PX_PER_MM
    ro = defs.RING_OUTER_MM * PX_PER_MM
    ri = defs.RING_INNER_MM * PX_PER_MM
    ox0, oy0 = max(0, int(bx - ro)), max(0, int(by - ro))
    ox1, oy1 = min(W, int(bx + bw + ro)), min(H, int(by + bh + ro))
    # interior and ring-exclusion rectangles, relative to the region
    ix0, iy0 = int(round(bx + ins)) - ox0, int(round(by + ins)) - oy0
    ix1, iy1 = int(round(bx + bw - ins)) - ox0, int(round(by + bh - ins)) - oy0
    ex0, ey0 = max(0, int(bx - ri) - ox0), max(0, int(by - ri) - oy0)
    ex1, ey1 = int(bx + bw + ri) - ox0, int(by + bh + ri) - oy0
    region = gray[oy0:oy1, ox0:ox1]
    if region.size == 0 or ix1 <= ix0 or iy1 <= iy0 or ix0 < 0 or iy0 < 0:
        return BoxMeasure(o, 0.0, 0.0, 0.0, 0.0, shift)
    ring_mask = np.ones(region.shape, bool)
    ring_mask[ey0:ey1, ex0:ex1] = False
    g = cv2.blur(region, (3, 3)).astype(np.float32)
    ring_px = g[ring_mask]
    # paper level: a bright percentile of the ring (labels and marks are darker)
    if ring_px.size:
        k = int(ring_px.size * 0.8)
        paper = float(np.partition(ring_px, k)[k])
    else:
        paper = 255.0
    paper = max(paper, 60.0)
    dark = (paper - g) * (1.0 / paper)
    inner = dark[iy0:iy1, ix0:ix1]
    ink = inner > defs.INK_DARKNESS
    n_ink = int(ink.sum())
    fill = n_ink / ink.size
    if n_ink:
        rows = float((ink.sum(axis=1) >= 2).mean())
        cols = float((ink.sum(axis=0) >= 2).mean())
        span = max(rows, cols)
        contrast = float(np.median(inner[ink]))
    else:
        span = contrast = 0.0
    faint = float((inner > defs.FAINT_DARKNESS).mean())
    ring_dark = dark[ring_mask]
    ring = float((ring_dark > defs.INK_DARKNESS).mean()) if ring_dark.size else 0.0
    return BoxMeasure(o, float(fill), span, ring, contrast, shift, faint)


def calibrate(measures: list[BoxMeasure]) -> list[BoxMeasure]:
    """Remove a page-wide baseline: what every box shows when empty.

    A heavy scanner threshold thickens the printed borders into the interior,
    a grey paper or a 1-bit dither speckles it; most boxes on a page are empty,
    so the lower quartile of their fills is that baseline.
    """
    if len(measures) < 8:
        return measures
    fills = np.array([m.fill for m in measures])
    faints = np.array([m.faint for m in measures])
    rings = np.array([m.ring for m in measures])
    base_f = float(np.percentile(fills, 25))
    base_faint = float(np.percentile(faints, 25))
    base_r = float(np.percentile(rings, 25))
    if base_f < 0.004 and base_faint < 0.01 and base_r < 0.01:
        return measures
    out = []
    for m in measures:
        out.append(
            BoxMeasure(
                m.option, max(0.0, m.fill - base_f), m.span, max(0.0, m.ring - base_r), m.contrast, m.shift_mm, max(0.0, m.faint - base_faint)
            )
        )
    return out
