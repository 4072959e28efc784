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


def _px(v: float) -> int:
    return int(round(v * PX_PER_MM))


def _frame_template(w: int, h: int, stroke: int) -> npt.NDArray[np.float32]:
    t = np.zeros((h, w), np.float32)
    t[:stroke, :] = 1
    t[-stroke:, :] = 1
    t[:, :stroke] = 1
    t[:, -stroke:] = 1
    return t


def _locate_box(dark: npt.NDArray[np.float32], box: tuple[float, float, float, float]) -> tuple[float, float, float]:
    """Best shift (dx, dy in px) of the printed border near ``box`` and the match score."""
    x, y, w, h = box
    s = _px(defs.REFINE_SEARCH_MM)
    bx, by, bw, bh = _px(x), _px(y), _px(w), _px(h)
    H, W = dark.shape
    x0, y0 = max(0, bx - s), max(0, by - s)
    x1, y1 = min(W, bx + bw + s), min(H, by + bh + s)
    roi = dark[y0:y1, x0:x1]
    if roi.shape[0] < bh + 1 or roi.shape[1] < bw + 1:
        return 0.0, 0.0, 0.0
    tpl = _frame_template(bw, bh, max(2, _px(0.3)))
    res = cv2.matchTemplate(roi, tpl, cv2.TM_CCOEFF_NORMED)
    _, score, _, loc = cv2.minMaxLoc(res)
    return float(loc[0] + x0 - bx), float(loc[1] + y0 - by), float(score)


def darkness(gray: GrayImage) -> npt.NDArray[np.float32]:
    """0 = white .. 1 = black, lightly smoothed so single noise pixels do not count as ink."""
    g = cv2.GaussianBlur(gray, (3, 3), 0)
    return (255.0 - g.astype(np.float32)) / 255.0


def measure_field(gray: GrayImage, dark: npt.NDArray[np.float32], field: FieldGeometry) -> list[BoxMeasure]:
    """Measure every option box of one field."""
    shifts = [_locate_box(dark, o.box) for o in field.options]
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
    return out


def _measure_box(gray: GrayImage, o: OptionBox, sx: float, sy: float) -> BoxMeasure:
    x, y, w, h = o.box
    H, W = gray.shape
    bx, by = x * PX_PER_MM + sx, y * PX_PER_MM + sy
    bw, bh = w * PX_PER_MM, h * PX_PER_MM
    ins = defs.INTERIOR_INSET_MM * PX_PER_MM
    ix0, iy0 = int(round(bx + ins)), int(round(by + ins))
    ix1, iy1 = int(round(bx + bw - ins)), int(round(by + bh - ins))
    ro = defs.RING_OUTER_MM * PX_PER_MM
    ri = defs.RING_INNER_MM * PX_PER_MM
    ox0, oy0 = max(0, int(bx - ro)), max(0, int(by - ro))
    ox1, oy1 = min(W, int(bx + bw + ro)), min(H, int(by + bh + ro))
    region = gray[oy0:oy1, ox0:ox1]
    if region.size == 0 or ix1 <= ix0 or iy1 <= iy0:
        return BoxMeasure(o, 0.0, 0.0, 0.0, 0.0, (sx / PX_PER_MM, sy / PX_PER_MM))
    # ring mask: outside the box by RING_INNER..RING_OUTER
    yy, xx = np.mgrid[oy0:oy1, ox0:ox1]
    outside_inner = (xx < bx - ri) | (xx >= bx + bw + ri) | (yy < by - ri) | (yy >= by + bh + ri)
    ring_mask = outside_inner
    ring_px = region[ring_mask]
    # paper level: a bright percentile of the ring (labels and marks are darker)
    paper = float(np.percentile(ring_px, 80)) if ring_px.size else 255.0
    paper = max(paper, 60.0)
    g = cv2.GaussianBlur(region, (3, 3), 0).astype(np.float32)
    dark = np.clip((paper - g) / paper, 0.0, 1.0)
    inner = dark[iy0 - oy0 : iy1 - oy0, ix0 - ox0 : ix1 - ox0]
    ink = inner > defs.INK_DARKNESS
    fill = float(ink.mean()) if ink.size else 0.0
    if fill > 0:
        rows = (ink.sum(axis=1) >= 2).mean()
        cols = (ink.sum(axis=0) >= 2).mean()
        span = float(max(rows, cols))
        contrast = float(np.median(inner[ink]))
    else:
        span = contrast = 0.0
    ring_ink = dark[ring_mask] > defs.INK_DARKNESS
    ring = float(ring_ink.mean()) if ring_ink.size else 0.0
    return BoxMeasure(o, fill, span, ring, contrast, (sx / PX_PER_MM, sy / PX_PER_MM))
