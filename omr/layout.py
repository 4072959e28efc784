"""Layout engine: where everything on a printed form goes, computed from the template.

All coordinates are millimetres from the page's top-left corner, x to the
right and y down (A4 portrait, 210 x 297). The layout is the single source of
truth for both the printed PDF (``omr.render`` draws exactly these items) and
the reader (``omr.pipeline`` measures exactly these boxes), so a printed box
and its measured window can never disagree.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from omr import fonts
from omr.errors import LayoutError
from omr.fonts import BOLD, ITALIC, REGULAR, text_width_mm, wrap
from omr.template import Question, Template

# --- page geometry (mm) --------------------------------------------------
PAGE_W = 210.0
PAGE_H = 297.0
MARKER_SIZE = 9.0  # ArUco marker side, including its black border
MARKER_INSET = 5.0  # distance of a marker's outer edge from the paper edge
# Marker ids by corner; all distinct so that a page's orientation is never ambiguous.
MARKER_IDS = {"tl": 0, "tr": 1, "br": 2, "bl": 3}
CONTENT_LEFT = 17.0
CONTENT_RIGHT = 193.0
CONTENT_W = CONTENT_RIGHT - CONTENT_LEFT
CONTENT_TOP = 7.0
CONTENT_BOTTOM = 270.0  # below this: the footer band with QR code and serial
QR_SIZE = 17.0
QR_X = CONTENT_RIGHT - QR_SIZE - 1.0
QR_Y = 274.0

# --- boxes ---------------------------------------------------------------
BOX = 5.0  # check box side; >= 4.5 mm so a cross fits inside
CODE_BOX = 4.5
BOX_STROKE_PT = 0.8
OPTION_PITCH = 8.0  # vertical distance between stacked option boxes (3 mm gap)
GRID_COL_W = 15.5  # width of one option column in a grid (10.5 mm between boxes)
CODE_COL_PITCH = 7.5
CODE_ROW_PITCH = 6.5

# --- text ----------------------------------------------------------------
BODY_PT = 9.5
SMALL_PT = 8.0
LINE_MM = 4.3  # line height of body text

PX_PER_MM = 8.0  # resolution of the aligned page image the reader works on (203 dpi)

Anchor = Literal["start", "middle", "end"]


@dataclass(frozen=True, slots=True)
class Text:
    x: float
    y: float  # baseline
    text: str
    font: str = REGULAR
    size: float = BODY_PT
    anchor: Anchor = "start"
    underline: bool = False


@dataclass(frozen=True, slots=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    stroke_pt: float = 0.5
    fill_gray: float | None = None  # 0 black .. 1 white; None: no fill
    stroke: bool = True


@dataclass(frozen=True, slots=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    stroke_pt: float = 0.4
    gray: float = 0.0
    dash: tuple[float, float] | None = None


@dataclass(frozen=True, slots=True)
class Marker:
    id: int
    x: float
    y: float
    size: float = MARKER_SIZE


@dataclass(frozen=True, slots=True)
class QRSlot:
    x: float
    y: float
    size: float = QR_SIZE


Item = Text | Rect | Line | Marker | QRSlot


@dataclass(frozen=True, slots=True)
class OptionBox:
    value: int
    box: tuple[float, float, float, float]
    label: str | None = None
    digit: int | None = None


@dataclass(slots=True)
class FieldGeometry:
    id: str
    kind: str
    text: str
    row: tuple[float, float, float, float]
    options: list[OptionBox] = field(default_factory=list)
    area: tuple[float, float, float, float] | None = None  # free text: the writing area
    digits: int | None = None
    headed: bool = False  # a row of a grid: its option labels are printed in the grid's header, not beside the boxes

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "kind": self.kind, "text": self.text, "row": _r(self.row)}
        if self.digits is not None:
            out["digits"] = self.digits
        if self.area is not None:
            out["area"] = _r(self.area)
        opts = []
        for o in self.options:
            d: dict[str, Any] = {"value": o.value}
            if o.label is not None:
                d["label"] = o.label
            if o.digit is not None:
                d["digit"] = o.digit
            d["box"] = _r(o.box)
            opts.append(d)
        out["options"] = opts
        return out


@dataclass(slots=True)
class PageLayout:
    page: int
    items: list[Item]
    fields: list[FieldGeometry]
    markers: list[Marker]
    qr: QRSlot
    width: float = PAGE_W
    height: float = PAGE_H

    def to_json(self) -> dict[str, Any]:
        return {
            "page": self.page,
            "width_mm": self.width,
            "height_mm": self.height,
            "markers": [{"id": m.id, "box": _r((m.x, m.y, m.size, m.size))} for m in self.markers],
            "qr": {"box": _r((self.qr.x, self.qr.y, self.qr.size, self.qr.size))},
            "fields": [f.to_json() for f in self.fields],
        }


@dataclass(slots=True)
class FormLayout:
    template: Template
    pages: list[PageLayout]

    def to_json(self) -> dict[str, Any]:
        return {
            "template": self.template.id,
            "version": self.template.version,
            "pages": [p.to_json() for p in self.pages],
        }

    def field(self, field_id: str) -> tuple[int, FieldGeometry]:
        for p in self.pages:
            for f in p.fields:
                if f.id == field_id:
                    return p.page, f
        raise KeyError(field_id)


def _r(box: tuple[float, ...]) -> list[float]:
    return [round(v, 2) for v in box]


def marker_positions() -> list[Marker]:
    lo = MARKER_INSET
    hx = PAGE_W - MARKER_INSET - MARKER_SIZE
    hy = PAGE_H - MARKER_INSET - MARKER_SIZE
    return [
        Marker(MARKER_IDS["tl"], lo, lo),
        Marker(MARKER_IDS["tr"], hx, lo),
        Marker(MARKER_IDS["br"], hx, hy),
        Marker(MARKER_IDS["bl"], lo, hy),
    ]


class _Cursor:
    """Lays items down a page from top to bottom, tracking where it is."""

    def __init__(self, template: Template, page_no: int) -> None:
        self.t = template
        self.page_no = page_no
        self.y = CONTENT_TOP
        self.items: list[Item] = []
        self.fields: list[FieldGeometry] = []

    def text_block(
        self,
        text: str,
        *,
        font: str = REGULAR,
        size: float = BODY_PT,
        x: float = CONTENT_LEFT,
        width: float = CONTENT_W,
        anchor: Anchor = "start",
        line_mm: float | None = None,
        y: float | None = None,
    ) -> float:
        """Wrapped text starting at ``y`` (default: the cursor); returns the y below it."""
        lh = line_mm or size * 0.4536  # ~1.29 x the font size, in mm
        y0 = self.y if y is None else y
        ax = {"start": x, "middle": x + width / 2, "end": x + width}[anchor]
        lines = wrap(text, font, size, width)
        for i, line in enumerate(lines):
            self.items.append(Text(ax, y0 + size * 0.3528 * 0.85 + i * lh, line, font, size, anchor))
        return y0 + len(lines) * lh


def _check_fit(c: _Cursor, where: str, bottom: float) -> None:
    if bottom > CONTENT_BOTTOM + 1e-6:
        raise LayoutError(
            c.t.id,
            where,
            f"does not fit on page {c.page_no}: it ends {bottom - CONTENT_BOTTOM:.1f} mm below "
            f"the printable area; move questions to another page or shorten the text",
        )


def _header_first_page(c: _Cursor) -> None:
    t = c.t
    left_w = 78.0
    right_x = CONTENT_LEFT + 80.0
    right_w = CONTENT_W - 80.0
    y_left = c.y + 1.0
    if t.issuer:
        y_left = c.text_block(t.issuer, font=BOLD, size=10.0, width=left_w, anchor="middle", y=y_left)
    if t.issuer_sub:
        y_left = c.text_block(t.issuer_sub, font=BOLD, size=10.0, width=left_w, anchor="middle", y=y_left)
    if t.issuer or t.issuer_sub:
        mid = CONTENT_LEFT + left_w / 2
        c.items.append(Line(mid - 12, y_left + 0.8, mid + 12, y_left + 0.8, 0.6))
        y_left += 2.0
    y_right = c.y + 1.0
    if t.national_header:
        size = 10.0
        while text_width_mm("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", BOLD, size) > right_w and size > 7:
            size -= 0.5
        y_right = c.text_block("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", font=BOLD, size=size, x=right_x, width=right_w, anchor="middle", y=y_right)
        motto = "Độc lập - Tự do - Hạnh phúc"
        y_right = c.text_block(motto, font=BOLD, size=10.5, x=right_x, width=right_w, anchor="middle", y=y_right)
        half = text_width_mm(motto, BOLD, 10.5) / 2
        mid = right_x + right_w / 2
        c.items.append(Line(mid - half, y_right + 0.8, mid + half, y_right + 0.8, 0.6))
        y_right += 2.0
    c.y = max(y_left, y_right) + 4.0
    c.y = c.text_block(t.title, font=BOLD, size=14.0, anchor="middle", line_mm=6.2)
    if t.subtitle:
        c.y = c.text_block(t.subtitle, font=BOLD, size=10.5, anchor="middle")
    c.y += 1.5
    if t.intro:
        c.y = c.text_block(t.intro, font=ITALIC, size=9.0)
        c.y += 1.0
    _instructions(c, full=True)


def _instructions(c: _Cursor, *, full: bool) -> None:
    """The marking instruction, with a drawn example of a mark and a cancelled mark."""
    t = c.t
    top = c.y
    size = 9.0 if full else 8.5
    x_text = CONTENT_LEFT + 2.0
    sample_w = 62.0
    y = c.text_block(t.instructions, font=BOLD if full else ITALIC, size=size, x=x_text, width=CONTENT_W - sample_w - 4.0, y=top + 1.6)
    # Examples drawn at a smaller size than a real box and outside every field,
    # so the reader never takes them for answers.
    ex = 3.6
    ey = top + 1.6
    sx = CONTENT_RIGHT - sample_w + 2.0
    c.items.append(Rect(sx, ey, ex, ex, 0.6))
    c.items.append(Line(sx + 0.5, ey + 0.5, sx + ex - 0.5, ey + ex - 0.5, 0.9))
    c.items.append(Line(sx + 0.5, ey + ex - 0.5, sx + ex - 0.5, ey + 0.5, 0.9))
    c.items.append(Text(sx + ex + 1.5, ey + ex - 0.6, "chọn", ITALIC, 8.0))
    sx2 = sx + 16.0
    c.items.append(Rect(sx2, ey, ex, ex, 0.6, fill_gray=0.0))
    c.items.append(Text(sx2 + ex + 1.5, ey + ex - 0.6, "bỏ chọn (đã sửa)", ITALIC, 8.0))
    bottom = max(y, ey + ex) + 1.4
    c.items.append(Rect(CONTENT_LEFT, top, CONTENT_W, bottom - top, 0.5))
    c.y = bottom + 3.0


def _header_next_page(c: _Cursor, page_count: int) -> None:
    c.y += 1.5
    c.y = c.text_block(f"{c.t.title} (tiếp theo, trang {c.page_no}/{page_count})", font=BOLD, size=9.0, anchor="middle", x=CONTENT_LEFT + 12, width=CONTENT_W - 24)
    c.y = c.text_block(c.t.instructions, font=ITALIC, size=8.5, anchor="middle", x=CONTENT_LEFT + 12, width=CONTENT_W - 24)
    c.y += 1.5


def _footer(c: _Cursor, page_count: int) -> None:
    c.items.append(Line(CONTENT_LEFT, CONTENT_BOTTOM + 1.5, CONTENT_RIGHT, CONTENT_BOTTOM + 1.5, 0.4, gray=0.4))
    # {serial} and {agency_line} are filled per sheet by the renderer.
    c.items.append(Text(CONTENT_LEFT, 281.0, "Số phiếu: {serial}", BOLD, 11.0))
    c.items.append(Text(CONTENT_LEFT, 286.0, "{agency_line}", REGULAR, 8.0))
    c.items.append(Text(PAGE_W / 2, 283.0, f"Trang {c.page_no}/{page_count}", REGULAR, 9.0, "middle"))
    c.items.append(Text(QR_X - 2.0, 290.0, f"{c.t.id} · v{c.t.version}", REGULAR, 6.5, "end"))


def _section_title(c: _Cursor, title: str, note: str | None, *, compact: bool = False) -> None:
    size = 9.0 if compact else 10.0
    lines = wrap(title, BOLD, size, CONTENT_W - 3)
    h = (5.0 if compact else 6.0) + (len(lines) - 1) * 4.2
    c.items.append(Rect(CONTENT_LEFT, c.y, CONTENT_W, h, 0.0, fill_gray=0.93 if compact else 0.88, stroke=False))
    c.text_block(title, font=BOLD, size=size, x=CONTENT_LEFT + 1.5, width=CONTENT_W - 3, y=c.y + (0.4 if compact else 0.6), line_mm=4.2)
    c.y += h + (0.6 if compact else 1.2)
    if note:
        c.y = c.text_block(note, font=ITALIC, size=8.5)
        c.y += 0.8


def _label(q: Question) -> str:
    text = q.text
    if q.kind == "multiple":
        text += " (có thể chọn nhiều phương án)"
    return f"{q.number}. {text}" if q.number else text


INLINE_TEXT_W = 62.0  # a short question and its options share one line: the text's column


def _choice_question(c: _Cursor, q: Question) -> FieldGeometry:
    top = c.y
    opts = q.option_list
    label_gap = 2.0
    lab_w = [text_width_mm(o.label, REGULAR, BODY_PT) for o in opts]
    # One line when the question is short and all its options fit beside it.
    inline_w = CONTENT_W - INLINE_TEXT_W
    if (
        (q.columns is None or q.columns >= len(opts))
        and len(wrap(_label(q), BOLD, BODY_PT, INLINE_TEXT_W - 2)) == 1
        and max(lab_w) + BOX + label_gap + 4.0 <= inline_w / len(opts)
    ):
        c.text_block(_label(q), font=BOLD, size=BODY_PT, width=INLINE_TEXT_W - 2, y=top + 1.6)
        col_w = inline_w / len(opts)
        result = []
        for k, o in enumerate(opts):
            x = CONTENT_LEFT + INLINE_TEXT_W + k * col_w
            by = top + 0.5
            c.items.append(Rect(x, by, BOX, BOX, BOX_STROKE_PT))
            c.items.append(Text(x + BOX + label_gap, by + BOX / 2 + 1.2, o.label, REGULAR, BODY_PT))
            result.append(OptionBox(o.value, (x, by, BOX, BOX), o.label))
        c.y = top + OPTION_PITCH
        return FieldGeometry(q.id, q.kind, q.text, (CONTENT_LEFT, top - 0.8, CONTENT_W, c.y - top + 0.8), result)
    c.y = c.text_block(_label(q), font=BOLD, size=BODY_PT)
    c.y += 1.2
    if q.columns:
        cols = min(q.columns, len(opts))
    else:
        cols = 1
        for n in range(min(len(opts), 5), 0, -1):
            if max(lab_w) + BOX + label_gap + 4.0 <= CONTENT_W / n:
                cols = n
                break
    col_w = CONTENT_W / cols
    result: list[OptionBox] = []
    rows = (len(opts) + cols - 1) // cols
    y_row = c.y
    for r in range(rows):
        row_opts = opts[r * cols : (r + 1) * cols]
        heights = []
        for k, o in enumerate(row_opts):
            x = CONTENT_LEFT + 2.0 + k * col_w
            lines = wrap(o.label, REGULAR, BODY_PT, col_w - BOX - label_gap - 4.0)
            pitch = max(OPTION_PITCH, len(lines) * LINE_MM + 3.5)
            heights.append(pitch)
            by = y_row + 0.5
            c.items.append(Rect(x, by, BOX, BOX, BOX_STROKE_PT))
            for i, line in enumerate(lines):
                c.items.append(Text(x + BOX + label_gap, by + BOX / 2 + 1.2 + i * LINE_MM, line, REGULAR, BODY_PT))
            result.append(OptionBox(o.value, (x, by, BOX, BOX), o.label))
        y_row += max(heights)
    c.y = y_row
    return FieldGeometry(q.id, q.kind, q.text, (CONTENT_LEFT, top - 0.8, CONTENT_W, c.y - top + 0.8), result)


def _code_question(c: _Cursor, q: Question) -> FieldGeometry:
    """A code grid: one column per digit, boxes 0-9 down the column, a write-in cell on top."""
    top = c.y
    digits = q.digits or 1
    text_w = CONTENT_W - 16.0 - digits * CODE_COL_PITCH - 10.0
    y_text = c.text_block(_label(q), font=BOLD, width=text_w)
    c.text_block("Ghi từng chữ số vào ô trên cùng rồi đánh dấu ô có số đó ở cột bên dưới.", font=ITALIC, size=8.0, width=text_w, y=y_text + 0.5)
    gx = CONTENT_RIGHT - digits * CODE_COL_PITCH - 4.0
    # write-in cells
    for d in range(digits):
        c.items.append(Rect(gx + d * CODE_COL_PITCH, top, CODE_COL_PITCH - 0.8, 6.5, 0.5))
    y0 = top + 8.5
    result: list[OptionBox] = []
    for v in range(10):
        y = y0 + v * CODE_ROW_PITCH
        c.items.append(Text(gx - 2.5, y + CODE_BOX - 0.9, str(v), REGULAR, 8.0, "end"))
        for d in range(digits):
            x = gx + d * CODE_COL_PITCH + (CODE_COL_PITCH - 0.8 - CODE_BOX) / 2
            c.items.append(Rect(x, y, CODE_BOX, CODE_BOX, BOX_STROKE_PT))
            result.append(OptionBox(v, (x, y, CODE_BOX, CODE_BOX), None, d))
    c.y = y0 + 10 * CODE_ROW_PITCH
    return FieldGeometry(q.id, "code", q.text, (CONTENT_LEFT, top - 0.8, CONTENT_W, c.y - top + 0.8), result, digits=digits)


def _text_question(c: _Cursor, q: Question) -> FieldGeometry:
    top = c.y
    c.y = c.text_block(_label(q), font=BOLD)
    area_top = c.y + 0.5
    pitch = 7.5
    for i in range(q.lines or 3):
        y = area_top + (i + 1) * pitch
        c.items.append(Line(CONTENT_LEFT, y, CONTENT_RIGHT, y, 0.4, gray=0.45, dash=(0.6, 1.6)))
    c.y = area_top + (q.lines or 3) * pitch + 1.5
    area = (CONTENT_LEFT, area_top, CONTENT_W, c.y - area_top)
    return FieldGeometry(q.id, "text", q.text, (CONTENT_LEFT, top - 0.8, CONTENT_W, c.y - top + 0.8), [], area=area)


GRID_ROW_MIN = 8.2  # a grid row's height: 3.2 mm between the boxes of neighbouring rows
GRID_PT = 8.5
GRID_LINE = 3.8


def _grid_section(c: _Cursor, si: int, pi: int, questions: list[Question], *, header: bool = True) -> None:
    opts = questions[0].option_list
    cols = len(opts)
    grid_w = cols * GRID_COL_W
    text_x = CONTENT_LEFT
    num_w = 7.0
    text_w = CONTENT_W - grid_w - num_w - 1.5
    gx = CONTENT_RIGHT - grid_w
    # header: option labels over their columns
    head_lines = [wrap(o.label, BOLD, 7.5, GRID_COL_W - 1.2) for o in opts]
    hh = max(len(ls) for ls in head_lines) * 3.2 + 2.0
    top = c.y
    if not header:
        hh = 0.0
    else:
        c.items.append(Rect(gx, top, grid_w, hh, 0.4, fill_gray=0.95))
    for k, lines in enumerate(head_lines if header else []):
        cx = gx + (k + 0.5) * GRID_COL_W
        y = top + (hh - len(lines) * 3.2) / 2 + 2.4
        for i, line in enumerate(lines):
            c.items.append(Text(cx, y + i * 3.2, line, BOLD, 7.5, "middle"))
        if k:
            c.items.append(Line(gx + k * GRID_COL_W, top, gx + k * GRID_COL_W, top + hh, 0.4))
    if header:
        c.items.append(Text(text_x + 1.0, top + hh - 1.6, "Tiêu chí", BOLD, 8.5))
    c.y = top + hh
    c.items.append(Line(CONTENT_LEFT, c.y, CONTENT_RIGHT, c.y, 0.5))
    for qi, q in enumerate(questions):
        lines = wrap(q.text, REGULAR, GRID_PT, text_w)
        h = max(GRID_ROW_MIN, len(lines) * GRID_LINE + 2.8)
        row_top = c.y
        _check_fit(c, f"pages[{pi}].sections[{si}].questions[{qi}] ({q.id})", row_top + h)
        if q.number:
            y_num = row_top + (h - len(lines) * GRID_LINE) / 2 + 2.9
            c.items.append(Text(text_x + num_w - 1.5, y_num, f"{q.number}.", BOLD, GRID_PT, "end"))
        y_text = row_top + (h - len(lines) * GRID_LINE) / 2 + 2.9
        for i, line in enumerate(lines):
            c.items.append(Text(text_x + num_w, y_text + i * GRID_LINE, line, REGULAR, GRID_PT))
        boxes = []
        for k, o in enumerate(opts):
            bx = gx + (k + 0.5) * GRID_COL_W - BOX / 2
            by = row_top + (h - BOX) / 2
            c.items.append(Rect(bx, by, BOX, BOX, BOX_STROKE_PT))
            boxes.append(OptionBox(o.value, (bx, by, BOX, BOX), o.label))
        c.y = row_top + h
        c.items.append(Line(CONTENT_LEFT, c.y, CONTENT_RIGHT, c.y, 0.3, gray=0.55))
        c.fields.append(FieldGeometry(q.id, "single", q.text, (CONTENT_LEFT, row_top, CONTENT_W, h), boxes, headed=True))


def _layout_page(t: Template, pi: int) -> PageLayout:
    fonts.register()
    page_no = pi + 1
    c = _Cursor(t, page_no)
    if pi == 0:
        _header_first_page(c)
    else:
        _header_next_page(c, t.page_count)
    prev_grid: list | None = None
    for si, section in enumerate(t.pages[pi].sections):
        # a grid straight after a grid with the same options continues its table: no new header
        continues = section.grid is not None and prev_grid == section.grid
        if section.title:
            _check_fit(c, f"pages[{pi}].sections[{si}]", c.y + 16.0)
            _section_title(c, section.title, section.note, compact=continues)
        if section.grid is not None:
            _grid_section(c, si, pi, section.questions, header=not continues)
            prev_grid = section.grid
            c.y += 2.0
            continue
        prev_grid = None
        for qi, q in enumerate(section.questions):
            if q.kind in ("single", "multiple"):
                fg = _choice_question(c, q)
            elif q.kind == "code":
                fg = _code_question(c, q)
            else:
                fg = _text_question(c, q)
            _check_fit(c, f"pages[{pi}].sections[{si}].questions[{qi}] ({q.id})", c.y)
            c.fields.append(fg)
            c.y += 1.8
        c.y += 1.5
    if pi == t.page_count - 1 and t.closing:
        c.y += 1.0
        c.y = c.text_block(t.closing, font=ITALIC, size=9.5, anchor="middle")
        _check_fit(c, "closing", c.y)
    _footer(c, t.page_count)
    markers = marker_positions()
    qr = QRSlot(QR_X, QR_Y)
    return PageLayout(page_no, c.items + list(markers) + [qr], c.fields, markers, qr)


_CACHE: dict[int, FormLayout] = {}


def layout(template: Template) -> FormLayout:
    """The full layout of a template (cached per template object: templates are immutable)."""
    key = id(template)
    hit = _CACHE.get(key)
    if hit is None or hit.template is not template:
        hit = FormLayout(template, [_layout_page(template, i) for i in range(template.page_count)])
        if len(_CACHE) > 64:
            _CACHE.clear()
        _CACHE[key] = hit
    return hit


def geometry(template: Template) -> dict[str, Any]:
    """The JSON geometry of ``omr form geometry`` (see docs/template-format.md)."""
    return layout(template).to_json()
