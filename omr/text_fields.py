"""Free-text answers: is anything written, and what tesseract thinks it says.

Handwriting is not transcribed as an answer: the reviewer types it, with the
OCR reading offered as a suggestion.
"""
from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from omr import defs, tesseract
from omr.errors import ExternalToolError
from omr.layout import PX_PER_MM, FieldGeometry
from omr.results import FieldResult

GrayImage = npt.NDArray[np.uint8]


def writing_mask(crop: GrayImage) -> npt.NDArray[np.bool_]:
    """Ink in a writing area with the printed dotted rules removed."""
    paper = float(np.percentile(crop, 90)) or 255.0
    dark = np.clip((paper - cv2.GaussianBlur(crop, (3, 3), 0).astype(np.float32)) / paper, 0, 1)
    ink = (dark > defs.INK_DARKNESS).astype(np.uint8)
    # the rules are long, thin and horizontal: find them and take them out
    k = cv2.getStructuringElement(cv2.MORPH_RECT, (int(6 * PX_PER_MM), 1))
    closed = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (int(2.5 * PX_PER_MM), 1)))
    rules = cv2.morphologyEx(closed, cv2.MORPH_OPEN, k)
    rules = cv2.dilate(rules, np.ones((3, 1), np.uint8))
    ink[rules > 0] = 0
    ink = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    return ink.astype(bool)


def read_text_field(aligned: GrayImage, f: FieldGeometry, *, ocr: bool) -> FieldResult:
    assert f.area is not None
    x, y, w, h = f.area
    crop = aligned[int(y * PX_PER_MM) : int((y + h) * PX_PER_MM), int(x * PX_PER_MM) : int((x + w) * PX_PER_MM)]
    if crop.size == 0:
        return FieldResult(None, "uncertain", 0.0, "unreadable", has_writing=None)
    ink = writing_mask(crop)
    ink_mm2 = float(ink.sum()) / (PX_PER_MM * PX_PER_MM)
    if ink_mm2 < defs.TEXT_INK_MM2:
        conf = 1.0 - ink_mm2 / defs.TEXT_INK_MM2 * 0.5
        return FieldResult(None, "blank", round(conf, 4), None, has_writing=False)
    suggestion = None
    if ocr:
        try:
            suggestion = tesseract.read_text(crop, lang="vie", psm=6) or None
        except ExternalToolError:
            suggestion = None
    # Writing is always for a person to read and type: it goes to review.
    return FieldResult(None, "uncertain", 0.5, "free text", has_writing=True, text_suggestion=suggestion)
