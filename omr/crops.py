"""Images for a person: the crop of one question from an aligned page, for the review queue.

Pure functions over numpy arrays. The aligned page is the reader's image (grayscale, ``PX_PER_MM``
pixels per millimetre, origin at the page's top-left corner); geometry is in millimetres
(``omr.layout``). Outlines are drawn in BGR.
"""
from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import cv2
import numpy as np
import numpy.typing as npt

from omr.layout import PX_PER_MM, FieldGeometry

GrayImage = npt.NDArray[np.uint8]
BgrImage = npt.NDArray[np.uint8]

CROP_MARGIN_MM = 4.0  # paper shown around the question's row
OUTLINE_MM = 0.8  # outlines drawn this far outside a box, so they never cover the ink inside it
HEADING_PX = 40  # height of the band that names a grid's columns above the row
READING = (40, 40, 220)  # red: the option(s) the engine read
MARKED = (0, 150, 240)  # orange: a box that holds a mark the engine did not take (two marks, a faint one)
EMPTY = (200, 160, 60)  # blue-grey: every other box


def _px(mm: float) -> int:
    return int(round(mm * PX_PER_MM))


@lru_cache(maxsize=4)
def _font(size: int):  # noqa: ANN202
    from PIL import ImageFont

    from omr.fonts import _FAMILIES

    for folder, _regular, bold, _italic in _FAMILIES:
        try:
            return ImageFont.truetype(f"{folder}/{bold}", size)
        except OSError:
            continue
    return ImageFont.load_default()


def _heading(width: int, centres: list[tuple[int, str]]) -> BgrImage:
    """A white band with each label centred over its column (Vietnamese text: drawn with PIL's TrueType)."""
    from PIL import Image, ImageDraw

    band = Image.new("RGB", (width, HEADING_PX), (255, 255, 255))
    draw = ImageDraw.Draw(band)
    col_w = min((b - a for (a, _), (b, _) in zip(centres, centres[1:])), default=width)
    for size in (15, 13, 11, 10):  # the largest size at which every label fits its column, on up to two lines
        font = _font(size)
        lines = [_wrap(draw, label, font, col_w - 4) for _, label in centres]
        if all(len(ls) <= 2 for ls in lines):
            break
    for (cx, _), ls in zip(centres, lines):
        y = (HEADING_PX - len(ls) * (size + 3)) // 2
        for line in ls[:2]:
            w = draw.textlength(line, font=font)
            draw.text((cx - w / 2, y), line, fill=(60, 60, 60), font=font)
            y += size + 3
    out = np.asarray(band)[:, :, ::-1].copy()
    out[-1, :] = (200, 200, 200)
    return out


def _wrap(draw, text: str, font, width: float) -> list[str]:  # noqa: ANN001
    words, lines, cur = text.split(), [], ""
    for w in words:
        trial = f"{cur} {w}".strip()
        if cur and draw.textlength(trial, font=font) > width:
            lines.append(cur)
            cur = w
        else:
            cur = trial
    return lines + ([cur] if cur else [])


def field_crop(aligned: GrayImage, field: FieldGeometry, reading: Iterable[int] = (), marked: Iterable[int] = ()) -> BgrImage:
    """The question's row from the aligned page, with a margin: the option(s) the engine read outlined in red,
    other boxes holding ink in orange, the rest in blue-grey. A row of a grid (whose option labels are printed
    once, in the grid's header, maybe far above or on the page before) gets a band with the labels over their
    columns, so a reviewer always sees what each box means."""
    x, y, w, h = field.row
    m = CROP_MARGIN_MM
    x0, y0 = max(0, _px(x - m)), max(0, _px(y - m))
    x1, y1 = min(aligned.shape[1], _px(x + w + m)), min(aligned.shape[0], _px(y + h + m))
    crop = cv2.cvtColor(np.ascontiguousarray(aligned[y0:y1, x0:x1]), cv2.COLOR_GRAY2BGR)
    reading, marked = set(reading), set(marked)
    for o in field.options:
        bx, by, bw, bh = o.box
        p0 = (_px(bx - OUTLINE_MM) - x0, _px(by - OUTLINE_MM) - y0)
        p1 = (_px(bx + bw + OUTLINE_MM) - x0, _px(by + bh + OUTLINE_MM) - y0)
        if o.digit is None and o.value in reading:
            cv2.rectangle(crop, p0, p1, READING, 2)
        elif o.digit is None and o.value in marked:
            cv2.rectangle(crop, p0, p1, MARKED, 2)
        else:
            cv2.rectangle(crop, p0, p1, EMPTY, 1)
    if field.headed and field.options and all(o.label for o in field.options):
        centres = [(_px(o.box[0] + o.box[2] / 2) - x0, o.label or "") for o in field.options]
        crop = np.vstack([_heading(crop.shape[1], centres), crop])
    return crop


def page_thumbnail(image: GrayImage, longest_px: int = 1200) -> GrayImage:
    """The whole page, scaled so its longer side is ``longest_px`` (never enlarged)."""
    scale = min(1.0, longest_px / max(image.shape[:2]))
    if scale >= 1.0:
        return image
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
