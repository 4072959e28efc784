"""How blurred a page is, from the edges of its own corner markers.

Input: the aligned page (grayscale ``uint8``, ``layout.PX_PER_MM``). Each corner
marker is a black square on white paper at a known place; across each of its
two edges that face the page (away from the sheet's own edge), the grey level
rises from black to paper. Averaged along the middle of the edge, that rise is
a blurred step: its 10-90 % width is 2.56 sigma of the blur (the scan's optics,
a phone's focus or shake, the resampling to the aligned page, all together).
The median over the eight edges is the page's blur, in millimetres.

What it is for: a thin pen stroke (0.2-0.3 mm) blurred by sigma keeps only
``erf(w / (2 sqrt(2) sigma))`` of its darkness, so on a blurred photo a real
cross can stay lighter than the faint-ink threshold and read as an empty box.
:func:`sensitivity` lowers that threshold by what a thin line loses at this
page's blur, against a sharp scan's, and measures further in from the printed
border, whose halo a blur spreads into the box.
"""
from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from omr import defs
from omr.layout import PX_PER_MM, marker_positions
from omr.marks import SHARP, Sensitivity

GrayImage = npt.NDArray[np.uint8]

_INSIDE_MM = 1.2  # into the marker's black border (one cell: 1.5 mm)
_OUTSIDE_MM = 1.6  # out onto the paper around it


def _rise_width(profile: npt.NDArray[np.float64]) -> float | None:
    """10-90 % width (px) of a dark-to-light step; None when it is no step."""
    lo, hi = float(profile[:3].mean()), float(profile[-3:].mean())
    if hi - lo < 40:  # no contrast: not a marker edge (covered, cut off, under a stain)
        return None
    t10, t90 = lo + 0.1 * (hi - lo), lo + 0.9 * (hi - lo)

    def cross(t: float) -> float | None:
        above = np.nonzero(profile >= t)[0]
        if not above.size or above[0] == 0:
            return None
        i = int(above[0])
        a, b = float(profile[i - 1]), float(profile[i])
        return i - 1 + (t - a) / max(b - a, 1e-6)

    x10, x90 = cross(t10), cross(t90)
    if x10 is None or x90 is None or x90 < x10:
        return None
    return x90 - x10


def blur_mm(aligned: GrayImage, page: int = 1, layout_version: int = 1) -> float | None:
    """The blur sigma of the page in mm (a sharp 200-dpi scan: ~0.1), None when no edge was measurable."""
    H, W = aligned.shape
    ins, out = int(round(_INSIDE_MM * PX_PER_MM)), int(round(_OUTSIDE_MM * PX_PER_MM))
    widths: list[float] = []
    for m in marker_positions(page, layout_version):
        x0, y0 = m.x * PX_PER_MM, m.y * PX_PER_MM
        s = m.size * PX_PER_MM
        a0, a1 = int(round(s * 0.25)), int(round(s * 0.75))  # the middle half of the edge
        right = x0 + s < W / 2  # the edge that faces the page's middle, left-right ...
        down = y0 + s < H / 2  # ... and up-down
        ex = int(round(x0 + s)) if right else int(round(x0))
        ey = int(round(y0 + s)) if down else int(round(y0))
        rows = slice(int(round(y0)) + a0, int(round(y0)) + a1)
        cols = slice(int(round(x0)) + a0, int(round(x0)) + a1)
        if right:
            band = aligned[rows, max(0, ex - ins) : ex + out].astype(np.float64).mean(axis=0)
        else:
            band = aligned[rows, max(0, ex - out) : ex + ins].astype(np.float64).mean(axis=0)[::-1]
        if down:
            band2 = aligned[max(0, ey - ins) : ey + out, cols].astype(np.float64).mean(axis=1)
        else:
            band2 = aligned[max(0, ey - out) : ey + ins, cols].astype(np.float64).mean(axis=1)[::-1]
        for b in (band, band2):
            if b.size == ins + out:
                w = _rise_width(b)
                if w is not None:
                    widths.append(w)
    if len(widths) < 3:
        return None
    return float(np.median(widths)) / 2.563 / PX_PER_MM


def _line_keeps(sigma_mm: float) -> float:
    """The share of its darkness a thin stroke keeps at this blur."""
    w = defs.BLUR_THIN_STROKE_MM
    return math.erf(w / (2 * math.sqrt(2) * max(sigma_mm, 1e-3)))


def sensitivity(sigma_mm: float | None) -> Sensitivity:
    """How to measure the boxes of a page with this blur (the defaults when it is sharp)."""
    if sigma_mm is None or sigma_mm <= defs.BLUR_SHARP_MM:
        return SHARP
    k = _line_keeps(sigma_mm) / _line_keeps(defs.BLUR_SHARP_MM)
    extra = math.sqrt(sigma_mm**2 - defs.BLUR_SHARP_MM**2)  # the blur beyond a sharp scan's
    return Sensitivity(defs.FAINT_DARKNESS * max(k, defs.BLUR_MIN_FAINT_SCALE),
                       defs.INTERIOR_INSET_MM + min(defs.BLUR_INSET_SIGMAS * extra, defs.BLUR_MAX_EXTRA_INSET_MM))
