"""Uneven light on a photographed page: the paper's own level, divided out before measuring.

Input and output: the aligned page (grayscale ``uint8``, ``layout.PX_PER_MM``).
The paper level is what is left after closing over everything narrower than
``defs.SHADING_KERNEL_MM`` (box borders, text, marks, fills), smoothed; a page
whose paper varies by more than ``defs.SHADING_MIN_RANGE`` (a phone's shadow, a
lamp's spot, light falling off across the sheet) is divided by it, so a box in
the shadow and a box in the light are measured alike. A scan's even paper is
left as it is.
"""
from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from omr import defs
from omr.layout import PX_PER_MM

GrayImage = npt.NDArray[np.uint8]

_STEP = 4  # the paper level is estimated at a quarter of the resolution: it varies over centimetres


def _small_level(aligned: GrayImage) -> GrayImage:
    h, w = aligned.shape
    small = cv2.resize(aligned, (w // _STEP, h // _STEP), interpolation=cv2.INTER_AREA)
    k = int(round(defs.SHADING_KERNEL_MM * PX_PER_MM / _STEP)) | 1
    bg = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    return cv2.blur(cv2.medianBlur(bg, 5), (k, k))


def paper_level(aligned: GrayImage) -> GrayImage:
    """The paper's grey level under every pixel (same shape), ink closed over."""
    h, w = aligned.shape
    return cv2.resize(_small_level(aligned), (w, h), interpolation=cv2.INTER_LINEAR)


def flatten(aligned: GrayImage) -> tuple[GrayImage, float]:
    """The page with its shading divided out, and how much the paper varied (0 = even).

    An evenly lit page comes back unchanged (the same array)."""
    h, w = aligned.shape
    small = _small_level(aligned)
    m = int(12 * PX_PER_MM / _STEP)  # the markers and the edge of the sheet are not paper to judge by
    lo, hi = np.percentile(small[m:-m, m:-m], (2, 98))
    spread = float(1.0 - lo / max(hi, 1.0))
    if spread <= defs.SHADING_MIN_RANGE:
        return aligned, spread
    bg = cv2.resize(np.maximum(small, 8), (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.divide(aligned, bg, scale=float(hi)), spread
