"""A printed page as an image, fast enough to redraw while a form is being typed.

The designer's preview must show what will be printed and read, so it draws the very items that
``omr.layout`` computes for the PDF (``omr.render``) and the reader (``omr.pipeline``), only onto pixels
(Pillow) instead of a PDF: a two-page form draws in a few tens of milliseconds, where rendering the PDF and
rasterising it with poppler takes about a third of a second. The QR code and the identity row carry a
sample identity (serial 000000).
"""
from __future__ import annotations

import io
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from omr import fonts, idrow
from omr.identity import PageIdentity, aruco_cells, qr_modules
from omr.layout import LAYOUT_LATEST, IdRow, Line, Marker, PageLayout, QRSlot, Rect, Text, layout
from omr.template import Template

PREVIEW_DPI = 96
SAMPLE_SERIAL = "000000"
QR_QUIET_MODULES = 3  # as printed (omr.render)


@lru_cache(maxsize=64)
def _font(name: str, px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(fonts.font_files()[name], px, layout_engine=ImageFont.Layout.BASIC)  # NFC text: no shaping needed


@lru_cache(maxsize=8192)
def _text_mask(font: str, px: int, text: str, anchor: str):  # noqa: ANN202
    """One printed line as a coverage mask and its offset from the anchor point. Rasterising text is most of a
    preview's cost; while someone types, all lines but the one being edited come from this cache."""
    return _font(font, px).getmask2(text, "L", anchor=anchor)


def page_image(template: Template, page: int, *, dpi: int = PREVIEW_DPI, layout_version: int = LAYOUT_LATEST,
               form: PageLayout | None = None) -> Image.Image:
    """Page ``page`` (1-based) of ``template`` as printed, in grayscale at ``dpi``."""
    geo = form or layout(template, layout_version).pages[page - 1]
    k = dpi / 25.4  # px per mm
    img = Image.new("L", (round(geo.width * k), round(geo.height * k)), 255)
    d = ImageDraw.Draw(img)
    ident = PageIdentity(template.id, template.version, page, SAMPLE_SERIAL, None)
    subst = {"serial": SAMPLE_SERIAL, "agency_line": ""}

    def px(v: float) -> int:
        return round(v * k)

    def stroke(pt: float) -> int:
        return max(1, round(pt / 72 * dpi))

    for it in geo.items:
        if isinstance(it, Text):
            text = it.text.format(**subst) if "{" in it.text else it.text
            if text:
                anchor = {"start": "ls", "middle": "ms", "end": "rs"}[it.anchor]
                mask, (ox, oy) = _text_mask(it.font, max(6, round(it.size / 72 * dpi)), text, anchor)
                d.draw.draw_bitmap((round(it.x * k) + ox, round(it.y * k) + oy), mask, 0)  # what ImageDraw.text does
        elif isinstance(it, Rect):
            fill = None if it.fill_gray is None else round(255 * it.fill_gray)
            d.rectangle((px(it.x), px(it.y), px(it.x + it.w), px(it.y + it.h)), fill=fill,
                        outline=0 if it.stroke else None, width=stroke(it.stroke_pt) if it.stroke else 0)
        elif isinstance(it, Line):
            gray = round(255 * it.gray)
            if it.dash:
                _dashed(d, it, k, gray, stroke(it.stroke_pt))
            else:
                d.line((px(it.x1), px(it.y1), px(it.x2), px(it.y2)), fill=gray, width=stroke(it.stroke_pt))
        elif isinstance(it, Marker):
            _cells(d, aruco_cells(it.id), it.x, it.y, it.size / aruco_cells(it.id).shape[0], k)
        elif isinstance(it, QRSlot):
            mods = qr_modules(ident.payload())
            s = it.size / (mods.shape[0] + 2 * QR_QUIET_MODULES)
            _cells(d, mods, it.x + QR_QUIET_MODULES * s, it.y + QR_QUIET_MODULES * s, s, k)
        elif isinstance(it, IdRow):
            for n, filled in enumerate(idrow.encode(template.id, template.version, SAMPLE_SERIAL)):
                if filled:
                    x, y, w, h = it.cell_box(n)
                    d.rectangle((px(x), px(y), px(x + w), px(y + h)), fill=0)
    return img


def page_png(template: Template, page: int, *, dpi: int = PREVIEW_DPI, layout_version: int = LAYOUT_LATEST) -> bytes:
    buf = io.BytesIO()
    page_image(template, page, dpi=dpi, layout_version=layout_version).save(buf, "PNG", optimize=False, compress_level=3)
    return buf.getvalue()


def _cells(d: ImageDraw.ImageDraw, cells, x0: float, y0: float, s: float, k: float) -> None:  # noqa: ANN001
    for r, c in zip(*cells.nonzero()):
        d.rectangle((round((x0 + c * s) * k), round((y0 + r * s) * k),
                     round((x0 + (c + 1) * s) * k) - 1, round((y0 + (r + 1) * s) * k) - 1), fill=0)


def _dashed(d: ImageDraw.ImageDraw, it: Line, k: float, gray: int, width: int) -> None:
    on, off = it.dash or (1.0, 0.0)
    length = ((it.x2 - it.x1) ** 2 + (it.y2 - it.y1) ** 2) ** 0.5
    if length == 0 or on <= 0:
        return
    ux, uy = (it.x2 - it.x1) / length, (it.y2 - it.y1) / length
    t = 0.0
    while t < length:
        e = min(t + on, length)
        d.line((round((it.x1 + ux * t) * k), round((it.y1 + uy * t) * k), round((it.x1 + ux * e) * k),
                round((it.y1 + uy * e) * k)), fill=gray, width=width)
        t = e + off
