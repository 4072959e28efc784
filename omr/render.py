"""Print a template as a PDF: one copy of every page per sheet, each with its serial.

The renderer draws exactly the items computed by ``omr.layout``; it decides
nothing about positions itself. Fonts are embedded (TrueType subsets).
"""
from __future__ import annotations

import io
from pathlib import Path

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from omr import fonts
from omr.identity import PageIdentity, aruco_cells, format_serial, qr_modules
from omr import idrow
from omr.layout import LAYOUT_LATEST, PAGE_H, PAGE_W, IdRow, Line, Marker, QRSlot, Rect, Text, layout
from omr.template import Template

QR_QUIET_MODULES = 3  # white modules around the code inside its slot


def _y(v: float) -> float:
    return (PAGE_H - v) * mm


def _draw_marker(c: Canvas, m: Marker) -> None:
    cells = aruco_cells(m.id)
    n = cells.shape[0]
    s = m.size / n
    c.setFillGray(0.0)
    for r in range(n):
        for k in range(n):
            if cells[r, k]:
                # a hair of overlap so that no white seams show between cells
                c.rect((m.x + k * s) * mm, _y(m.y + (r + 1) * s) - 0.05, s * mm + 0.1, s * mm + 0.1, stroke=0, fill=1)


def _draw_qr(c: Canvas, slot: QRSlot, payload: str) -> None:
    mods = qr_modules(payload)
    n = mods.shape[0] + 2 * QR_QUIET_MODULES
    s = slot.size / n
    c.setFillGray(0.0)
    for r, k in zip(*mods.nonzero()):
        x = slot.x + (k + QR_QUIET_MODULES) * s
        y = slot.y + (r + QR_QUIET_MODULES + 1) * s
        c.rect(x * mm, _y(y) - 0.05, s * mm + 0.1, s * mm + 0.1, stroke=0, fill=1)


def _draw_id_row(c: Canvas, row: IdRow, cells: list[bool]) -> None:
    c.setFillGray(0.0)
    for k, filled in enumerate(cells):
        if filled:
            x, y, w, h = row.cell_box(k)
            c.rect(x * mm, _y(y + h), w * mm, h * mm, stroke=0, fill=1)


def _draw_text(c: Canvas, it: Text, subst: dict[str, str]) -> None:
    text = it.text.format(**subst) if "{" in it.text else it.text
    if not text:
        return
    c.setFillGray(0.0)
    c.setFont(it.font, it.size)
    x, y = it.x * mm, _y(it.y)
    if it.anchor == "middle":
        c.drawCentredString(x, y, text)
    elif it.anchor == "end":
        c.drawRightString(x, y, text)
    else:
        c.drawString(x, y, text)


def render_pdf(
    template: Template,
    out: str | Path | io.BytesIO,
    *,
    sheets: int = 1,
    first_serial: int = 1,
    agency: str | None = None,
    layout_version: int = LAYOUT_LATEST,
) -> list[PageIdentity]:
    """Write ``sheets`` copies of the form to ``out``; returns the identity of every printed page.

    ``layout_version`` 1 prints the form as it was printed before layout 2 (same boxes, markers 0-3, no identity row)."""
    if sheets < 1:
        raise ValueError("sheets must be at least 1")
    format_serial(first_serial + sheets - 1)  # range check before writing anything
    fonts.register()
    form = layout(template, layout_version)
    target = str(out) if isinstance(out, Path) else out
    c = Canvas(target, pagesize=(PAGE_W * mm, PAGE_H * mm), pageCompression=1, initialFontName=fonts.REGULAR, initialFontSize=9)
    c.setTitle(f"{template.title} ({template.id} v{template.version})")
    c.setAuthor(template.issuer or "omr")
    c.setCreator("omr form render")
    printed: list[PageIdentity] = []
    for s in range(sheets):
        serial = format_serial(first_serial + s)
        for page in form.pages:
            ident = PageIdentity(template.id, template.version, page.page, serial, agency)
            subst = {"serial": serial, "agency_line": f"Đơn vị: {agency}" if agency else ""}
            for it in page.items:
                if isinstance(it, Text):
                    _draw_text(c, it, subst)
                elif isinstance(it, Rect):
                    c.setLineWidth(it.stroke_pt)
                    c.setStrokeGray(0.0)
                    if it.fill_gray is not None:
                        c.setFillGray(it.fill_gray)
                    c.rect(it.x * mm, _y(it.y + it.h), it.w * mm, it.h * mm, stroke=int(it.stroke), fill=int(it.fill_gray is not None))
                elif isinstance(it, Line):
                    c.setLineWidth(it.stroke_pt)
                    c.setStrokeGray(it.gray)
                    c.setDash(*(v * mm for v in it.dash)) if it.dash else c.setDash()
                    c.line(it.x1 * mm, _y(it.y1), it.x2 * mm, _y(it.y2))
                    c.setDash()
                elif isinstance(it, Marker):
                    _draw_marker(c, it)
                elif isinstance(it, QRSlot):
                    _draw_qr(c, it, ident.payload())
                elif isinstance(it, IdRow):
                    _draw_id_row(c, it, idrow.encode(template.id, template.version, serial))
            printed.append(ident)
            c.showPage()
    c.save()
    return printed
