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
from omr.layout import PX_PER_MM, FieldGeometry, Line, OptionBox, PageLayout, Rect

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
    located: bool = True  # the box's own printed border was found where it was measured
    through: bool = False  # the ink inside is one stroke running on beyond the box on opposite sides: a note, not a mark
    t_ink: float = 0.0  # the grey level below which this box's pixels are ink (from its own paper level)
    ring_ink: int = 0  # ink pixels in the ring, as measured (no baseline taken off)


@dataclass(frozen=True, slots=True)
class PrintedLines:
    """The page's printed rules in mm, split by direction: (position, start, end, half thickness).

    Only long straight print (table rules, frames, writing lines); check boxes and text are
    not in it. A stroke crossing a rule must not be joined to it, or every mark touching a
    table rule would seem to run across the page."""

    horizontal: tuple[tuple[float, float, float, float], ...]
    vertical: tuple[tuple[float, float, float, float], ...]


_PT_MM = 25.4 / 72
_PRINTED: dict[int, tuple[PageLayout, PrintedLines]] = {}


def printed_lines(page: PageLayout) -> PrintedLines:
    """The rules of one laid-out page (cached per layout object)."""
    hit = _PRINTED.get(id(page))
    if hit is not None and hit[0] is page:
        return hit[1]
    hs: list[tuple[float, float, float, float]] = []
    vs: list[tuple[float, float, float, float]] = []
    for it in page.items:
        if isinstance(it, Line):
            t = it.stroke_pt * _PT_MM / 2
            if abs(it.y1 - it.y2) < 0.05:
                hs.append((it.y1, min(it.x1, it.x2), max(it.x1, it.x2), t))
            elif abs(it.x1 - it.x2) < 0.05:
                vs.append((it.x1, min(it.y1, it.y2), max(it.y1, it.y2), t))
        elif isinstance(it, Rect) and it.stroke and (it.w > 8.0 or it.h > 8.0):
            t = it.stroke_pt * _PT_MM / 2
            hs += [(it.y, it.x, it.x + it.w, t), (it.y + it.h, it.x, it.x + it.w, t)]
            vs += [(it.x, it.y, it.y + it.h, t), (it.x + it.w, it.y, it.y + it.h, t)]
    out = PrintedLines(tuple(hs), tuple(vs))
    if len(_PRINTED) > 64:
        _PRINTED.clear()
    _PRINTED[id(page)] = (page, out)
    return out


def _through_stroke(
    gray: GrayImage, bx: float, by: float, bw: float, bh: float, t_ink: float, printed: PrintedLines, shift: tuple[float, float]
) -> bool:
    """Whether the ink inside a box (px, aligned page) is a stroke passing through it.

    The ink connected to the box interior (through the box's own border, across printed
    rules) is followed out to ``THROUGH_WINDOW_MM``; its parts further than
    ``THROUGH_BEYOND_MM`` outside the box are sorted by direction from the box centre into
    eight sectors. A stroke through the box is a line inside it and reaches out on two
    (nearly: 135 degrees or more apart) opposite sides along that line; a big cross reaches out as far, but inside the box it
    is two crossing lines, not one; a tick reaches out one way only."""
    H, W = gray.shape
    win = defs.THROUGH_WINDOW_MM * PX_PER_MM
    x0, y0 = max(0, int(bx - win)), max(0, int(by - win))
    x1, y1 = min(W, int(bx + bw + win)), min(H, int(by + bh + win))
    roi = cv2.blur(gray[y0:y1, x0:x1], (3, 3))
    ink = (roi < t_ink).astype(np.uint8)
    tol = defs.THROUGH_RULE_TOL_MM
    mh = np.zeros_like(ink)
    mv = np.zeros_like(ink)
    sx, sy = shift
    for pos, a, b, t in printed.horizontal:
        yy = pos * PX_PER_MM + sy - y0
        if -win < yy < ink.shape[0] + win and a * PX_PER_MM + sx < x1 and b * PX_PER_MM + sx > x0:
            r0, r1 = max(0, int(yy - (t + tol) * PX_PER_MM)), max(0, int(np.ceil(yy + (t + tol) * PX_PER_MM)) + 1)
            c0, c1 = max(0, int(a * PX_PER_MM + sx - x0)), max(0, int(b * PX_PER_MM + sx - x0) + 1)
            mh[r0:r1, c0:c1] = 1
    for pos, a, b, t in printed.vertical:
        xx = pos * PX_PER_MM + sx - x0
        if -win < xx < ink.shape[1] + win and a * PX_PER_MM + sy < y1 and b * PX_PER_MM + sy > y0:
            c0, c1 = max(0, int(xx - (t + tol) * PX_PER_MM)), max(0, int(np.ceil(xx + (t + tol) * PX_PER_MM)) + 1)
            r0, r1 = max(0, int(a * PX_PER_MM + sy - y0)), max(0, int(b * PX_PER_MM + sy - y0) + 1)
            mv[r0:r1, c0:c1] = 1
    clean = ink & (1 - (mh | mv))
    rules = mh | mv
    if rules.any():
        # across a rule: the masked band is filled in where ink touches it, so a stroke crossing
        # it (at any slant) goes on; ink touching it from one side only stays where it is
        span = int(np.ceil((2 * tol + 1.0) * PX_PER_MM)) | 1  # a rule's band (two rules may lie together) and a pixel either side
        clean = clean | (rules & cv2.dilate(clean, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (span, span))))
    n, labels = cv2.connectedComponents(clean, connectivity=8)
    if n <= 1:
        return False
    ins = defs.INTERIOR_INSET_MM * PX_PER_MM
    ix0, iy0 = int(round(bx + ins)) - x0, int(round(by + ins)) - y0
    ix1, iy1 = int(round(bx + bw - ins)) - x0, int(round(by + bh - ins)) - y0
    inner = labels[max(0, iy0) : iy1, max(0, ix0) : ix1]
    ids, counts = np.unique(inner[inner > 0], return_counts=True)
    if not ids.size:
        return False
    # inside the box a passing stroke is one line; a cross, a fill, a scribble are not
    iy, ix = np.nonzero(np.isin(inner, ids))
    if iy.size < 4:
        return False
    cov = np.cov(np.stack([ix, iy]).astype(np.float64))
    evals, evecs = np.linalg.eigh(cov)
    if evals[1] <= 0 or evals[0] / evals[1] > defs.THROUGH_MAX_ROUNDNESS:
        return False
    axis = float(np.degrees(np.arctan2(evecs[1, 1], evecs[0, 1]))) % 180.0
    # far: further than THROUGH_BEYOND_MM outside the box
    beyond = defs.THROUGH_BEYOND_MM * PX_PER_MM
    ys, xs = np.nonzero(np.isin(labels, ids[counts >= 4]))
    xs = xs + x0
    ys = ys + y0
    out_x = np.maximum(bx - xs, xs - (bx + bw))
    out_y = np.maximum(by - ys, ys - (by + bh))
    far = np.maximum(out_x, out_y) > beyond
    if np.count_nonzero(far) < 2 * defs.THROUGH_MIN_FAR_PX:
        return False
    ang = np.arctan2(ys[far] - (by + bh / 2), xs[far] - (bx + bw / 2))
    sectors = np.bincount(((np.round(ang / (np.pi / 4))).astype(int)) % 8, minlength=8)
    present = sectors >= defs.THROUGH_MIN_FAR_PX
    unit = [np.array([np.cos(np.pi / 4 * k), np.sin(np.pi / 4 * k)]) for k in range(8)]
    for a in range(8):
        for d in (3, 4, 5):  # out on (nearly) opposite sides: a stroke may bend as it crosses
            b = (a + d) % 8
            if not (present[a] and present[b]):
                continue
            v = unit[a] - unit[b]
            way = float(np.degrees(np.arctan2(v[1], v[0]))) % 180.0
            if abs((axis - way + 90.0) % 180.0 - 90.0) <= defs.THROUGH_AXIS_DEG:  # the line inside points the way it goes on
                return True
    return False


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


def _locate_box(
    gray: GrayImage, box: tuple[float, float, float, float], around: tuple[float, float] = (0.0, 0.0), search_mm: float | None = None
) -> tuple[float, float, float]:
    """Best shift (dx, dy in px) of the printed border near ``box`` (+ ``around``) and the match score."""
    x, y, w, h = box
    s = _px(defs.REFINE_SEARCH_MM if search_mm is None else search_mm)
    bx, by, bw, bh = _px(x) + int(round(around[0])), _px(y) + int(round(around[1])), _px(w), _px(h)
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
    return float(loc[0] + x0 - bx + round(around[0])), float(loc[1] + y0 - by + round(around[1])), float(score)


def _at_edge(dx: float, dy: float, search_px: int) -> bool:
    """A best match on the rim of the search window: the border lies beyond reach, not found."""
    return abs(dx) >= search_px - 1 or abs(dy) >= search_px - 1


_FIELD_TEMPLATES: dict[tuple[tuple[float, float, float, float], ...], tuple[float, float, npt.NDArray[np.float32], _Frames]] = {}


def _field_template(field: FieldGeometry) -> tuple[float, float, npt.NDArray[np.float32], "_Frames"]:
    """(left, top in mm, the template of all the field's box borders at half resolution, and at full as :class:`_Frames`);
    built once per set of boxes (a page's fields are the same on every sheet)."""
    key = tuple(o.box for o in field.options)
    hit = _FIELD_TEMPLATES.get(key)
    if hit is not None:
        return hit
    x0m, y0m = min(o.box[0] for o in field.options), min(o.box[1] for o in field.options)
    x1m = max(o.box[0] + o.box[2] for o in field.options)
    y1m = max(o.box[1] + o.box[3] for o in field.options)
    tw, th = _px(x1m - x0m) + 1, _px(y1m - y0m) + 1
    stroke = max(2, _px(0.3))
    tpl = np.zeros((th, tw), np.float32)
    for o in field.options:
        bx, by = _px(o.box[0] - x0m), _px(o.box[1] - y0m)
        tpl[by : by + _px(o.box[3]), bx : bx + _px(o.box[2])] = _frame_template(_px(o.box[2]), _px(o.box[3]), stroke)
    tsmall = cv2.resize(tpl, (tw // 2, th // 2), interpolation=cv2.INTER_AREA)
    frames = _Frames(np.array([[_px(o.box[0] - x0m), _px(o.box[1] - y0m), _px(o.box[2]), _px(o.box[3])] for o in field.options]),
                     stroke, th, tw)
    if len(_FIELD_TEMPLATES) > 2048:  # many templates' pages in one process: start again
        _FIELD_TEMPLATES.clear()
    _FIELD_TEMPLATES[key] = hit = (x0m, y0m, tsmall, frames)
    return hit


@dataclass(frozen=True, slots=True)
class _Frames:
    """A template of box borders: 1 on each box's border (``stroke`` px wide), 0 elsewhere.

    ``boxes``: (n, 4) int, x, y, w, h of each box in the template (px); ``th`` x ``tw`` its size."""

    boxes: npt.NDArray[np.int64]
    stroke: int
    th: int
    tw: int

    def scores(self, img: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """``cv2.matchTemplate(img, template, TM_CCOEFF_NORMED)`` from integral images: a
        border template is a few rectangles, so each place costs a few look-ups instead of a
        correlation over the whole template (the same scores, to float rounding)."""
        fh, fw = img.shape
        ny, nx = fh - self.th + 1, fw - self.tw + 1
        ii, ii2 = cv2.integral2(img, sdepth=cv2.CV_64F, sqdepth=cv2.CV_64F)
        vy, vx = np.arange(ny)[:, None], np.arange(nx)[None, :]

        def rect(ig, x0, y0, x1, y1):  # noqa: ANN001, ANN202 - sums over [y0:y1, x0:x1] shifted by every place
            return (ig[y1[:, None, None] + vy, x1[:, None, None] + vx] - ig[y0[:, None, None] + vy, x1[:, None, None] + vx]
                    - ig[y1[:, None, None] + vy, x0[:, None, None] + vx] + ig[y0[:, None, None] + vy, x0[:, None, None] + vx])

        b, k = self.boxes, self.stroke
        x0, y0, x1, y1 = b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
        on = (rect(ii, x0, y0, x1, y1) - rect(ii, x0 + k, y0 + k, x1 - k, y1 - k)).sum(axis=0)
        n = float(self.th * self.tw)
        ones = float((b[:, 2] * b[:, 3] - np.maximum(b[:, 2] - 2 * k, 0) * np.maximum(b[:, 3] - 2 * k, 0)).sum())
        s = ii[self.th : self.th + ny, self.tw : self.tw + nx] - ii[:ny, self.tw : self.tw + nx] - ii[self.th : self.th + ny, :nx] + ii[:ny, :nx]
        s2 = ii2[self.th : self.th + ny, self.tw : self.tw + nx] - ii2[:ny, self.tw : self.tw + nx] - ii2[self.th : self.th + ny, :nx] + ii2[:ny, :nx]
        var_t = ones - ones * ones / n
        var_i = np.maximum(s2 - s * s / n, 0.0)
        den = np.sqrt(var_i * var_t)
        num = on - ones / n * s
        return np.where(den > 1e-9 * max(n, 1.0), num / np.maximum(den, 1e-300), 0.0)


def _locate_field(gray: GrayImage, field: FieldGeometry) -> tuple[float, float, float]:
    """Best shift (dx, dy in px) of all the field's printed borders together, and the match score.

    One template holding every box of the field: a mark inside one box cannot pull
    it, and it costs one correlation instead of one per box.
    """
    x0m, y0m, tsmall, frames = _field_template(field)
    th, tw = frames.th, frames.tw
    s = _px(defs.REFINE_SEARCH_MM)
    H, W = gray.shape
    ox, oy = _px(x0m), _px(y0m)
    rx0, ry0 = max(0, ox - s), max(0, oy - s)
    rx1, ry1 = min(W, ox + tw + s), min(H, oy + th + s)
    roi = gray[ry0:ry1, rx0:rx1]
    if roi.shape[0] < th or roi.shape[1] < tw:
        return 0.0, 0.0, 0.0
    inv = (255 - roi).astype(np.float32)
    # coarse search at half resolution (16x less work), then the best pixel around it
    small = cv2.resize(inv, (inv.shape[1] // 2, inv.shape[0] // 2), interpolation=cv2.INTER_AREA)
    res = cv2.matchTemplate(small, tsmall, cv2.TM_CCOEFF_NORMED)
    _, _, _, loc = cv2.minMaxLoc(res)
    cx, cy = loc[0] * 2, loc[1] * 2
    fx0, fy0 = max(0, cx - 2), max(0, cy - 2)
    fine = inv[fy0 : min(inv.shape[0], cy + th + 2), fx0 : min(inv.shape[1], cx + tw + 2)]
    if fine.shape[0] < th or fine.shape[1] < tw:
        return 0.0, 0.0, 0.0
    res = frames.scores(fine)  # a few places: rectangle sums, not a correlation over the whole template
    ly, lx = np.unravel_index(int(np.argmax(res)), res.shape)
    return float(lx + fx0 + rx0 - ox), float(ly + fy0 + ry0 - oy), float(res[ly, lx])


# a field whose boxes span more than this is refined box by box (paper stretch along a long row)
FIELD_REFINE_MAX_SPAN_MM = 90.0
BOX_REFINE_MM = 0.6  # after the field's shift, each box is searched this far around it
WIDE_MATCH_SCORE = 0.6  # a border found further away must match this well (a mark's strokes are no frame)


def _found_around(gray: GrayImage, o: OptionBox, around: tuple[float, float]) -> tuple[float, float] | None:
    """The box's own border anywhere within the full search around its neighbours' consensus.

    A box not found close to its row: a curled or stretched sheet bends rows by more than
    that. An empty box's border is always there (only a mark can hide it), so look further
    before measuring where the row says, which could put the box's own border inside."""
    wdx, wdy, wsc = _locate_box(gray, o.box, around, defs.REFINE_SEARCH_MM)
    if wsc > WIDE_MATCH_SCORE and not _at_edge(wdx - around[0], wdy - around[1], _px(defs.REFINE_SEARCH_MM)):
        return wdx, wdy
    return None


@dataclass(frozen=True, slots=True)
class Sensitivity:
    """How a page's boxes are measured: sharp scans use the defaults; a blurred page
    (:func:`omr.blur.sensitivity`) looks for faint ink at a lower darkness, further in
    from the printed border (whose blurred halo reaches into the box); ink (``fill``) is
    measured as on a sharp page, so a cross does not grow into a fill."""

    faint_darkness: float = defs.FAINT_DARKNESS
    inset_mm: float = defs.INTERIOR_INSET_MM


SHARP = Sensitivity()


def measure_field(
    gray: GrayImage, field: FieldGeometry, printed: PrintedLines | None = None, sens: Sensitivity = SHARP
) -> list[BoxMeasure]:
    """Measure every option box of one field.

    With the page's ``printed`` rules, ink running through a box is also checked for being
    a stroke passing through (:attr:`BoxMeasure.through`). ``sens``: how this page is
    measured (:class:`Sensitivity`)."""
    out = _measure_field(gray, field, sens)
    if printed is not None:
        for m in out:
            # a stroke from inside the box to beyond THROUGH_BEYOND_MM crosses the whole ring
            # (RING_INNER_MM..RING_OUTER_MM): with no ink there, there is none to follow
            if (m.fill >= defs.EMPTY_FILL or m.faint >= defs.FAINT_FILL) and m.ring_ink > 0:
                x, y, w, h = m.option.box
                sx, sy = m.shift_mm[0] * PX_PER_MM, m.shift_mm[1] * PX_PER_MM
                m.through = _through_stroke(gray, x * PX_PER_MM + sx, y * PX_PER_MM + sy, w * PX_PER_MM, h * PX_PER_MM,
                                            m.t_ink, printed, (sx, sy))
    return out


def _measure_field(gray: GrayImage, field: FieldGeometry, fd: Sensitivity = SHARP) -> list[BoxMeasure]:
    span = max(o.box[0] + o.box[2] for o in field.options) - min(o.box[0] for o in field.options)
    search = _px(defs.REFINE_SEARCH_MM)
    if span <= FIELD_REFINE_MAX_SPAN_MM:
        dx, dy, score = _locate_field(gray, field)
        if score > 0.3 and not _at_edge(dx, dy, search):
            out = []
            for o in field.options:
                # then each box's own border, close to the row's consensus: the fit's
                # small rotation or stretch errors grow along a row
                bdx, bdy, bsc = _locate_box(gray, o.box, (dx, dy), BOX_REFINE_MM)
                if bsc > 0.5:
                    out.append(_measure_box(gray, o, bdx, bdy, fd=fd))
                elif (far := _found_around(gray, o, (dx, dy))) is not None:
                    out.append(_measure_box(gray, o, *far, fd=fd))
                else:  # a heavy mark hides the border: the row's consensus places it
                    out.append(_measure_box(gray, o, dx, dy, located=False, fd=fd))
            return _ring_baseline(out)
    shifts = [_locate_box(gray, o.box) for o in field.options]
    good = [(dx, dy) for dx, dy, sc in shifts if sc > 0.35 and not _at_edge(dx, dy, search)]
    if good:
        fdx = float(np.median([g[0] for g in good]))
        fdy = float(np.median([g[1] for g in good]))
    else:
        fdx = fdy = 0.0
    out = []
    for o, (dx, dy, sc) in zip(field.options, shifts):
        # a box's own border wins when it is clearly found close to its neighbours' consensus
        if good and sc > 0.5 and abs(dx - fdx) <= _px(0.6) and abs(dy - fdy) <= _px(0.6):
            out.append(_measure_box(gray, o, dx, dy, fd=fd))
        elif good and (far := _found_around(gray, o, (fdx, fdy))) is not None:  # as for a row
            out.append(_measure_box(gray, o, *far, fd=fd))
        else:
            out.append(_measure_box(gray, o, fdx, fdy, located=False, fd=fd))
    return _ring_baseline(out)


def _ring_baseline(out: list[BoxMeasure]) -> list[BoxMeasure]:
    """Printed lines near a row (a table rule, a header) put the same ink in every box's
    ring; a ring drawn around one box stands out from its neighbours."""
    if len(out) >= 2:
        rings = sorted(m.ring for m in out)
        base = rings[(len(rings) - 1) // 2]  # the lower median: one ringed box is an outlier above it
        if base > 0:
            for m in out:
                m.ring = max(0.0, m.ring - base)
    return out


def _measure_box(gray: GrayImage, o: OptionBox, sx: float, sy: float, located: bool = True, fd: Sensitivity = SHARP) -> BoxMeasure:
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
        return BoxMeasure(o, 0.0, 0.0, 0.0, 0.0, shift, located=False)
    ring_mask = np.ones(region.shape, bool)
    ring_mask[ey0:ey1, ex0:ex1] = False
    g = cv2.blur(region, (3, 3))  # uint8; a single noise pixel is not ink
    ring_px = g[ring_mask]
    # paper level: a bright percentile of the ring (labels and marks are darker)
    if ring_px.size:
        k = int(ring_px.size * 0.8)
        paper = float(np.partition(ring_px, k)[k])
    else:
        paper = 255.0
    paper = max(paper, 60.0)
    # darkness = (paper - g) / paper > d  <=>  g < paper * (1 - d)
    t_ink = paper * (1.0 - defs.INK_DARKNESS)
    t_faint = paper * (1.0 - fd.faint_darkness)
    inner = g[iy0:iy1, ix0:ix1]
    ink = inner < t_ink
    n_ink = int(np.count_nonzero(ink))
    fill = n_ink / ink.size
    if fd.inset_mm > defs.INTERIOR_INSET_MM:  # blurred: faint ink only where the border's halo does not reach
        e = int(round((fd.inset_mm - defs.INTERIOR_INSET_MM) * PX_PER_MM))
        deep = inner[e : inner.shape[0] - e, e : inner.shape[1] - e]
        faint_mask = (deep if deep.size else inner) < t_faint
    else:
        faint_mask = inner < t_faint
    n_faint = int(np.count_nonzero(faint_mask))
    faint = n_faint / faint_mask.size
    if n_faint:
        # how far the (at least faint) ink reaches across the box: a blurred or light stroke
        # still crosses it, a dot or a speck does not
        rows = float(np.count_nonzero(np.count_nonzero(faint_mask, axis=1) >= 2)) / faint_mask.shape[0]
        cols = float(np.count_nonzero(np.count_nonzero(faint_mask, axis=0) >= 2)) / faint_mask.shape[1]
        span = max(rows, cols)
    else:
        span = 0.0
    contrast = (paper - float(np.median(inner[ink]))) / paper if n_ink else 0.0
    ring_ink = int(np.count_nonzero(ring_px < t_ink))
    ring = ring_ink / ring_px.size if ring_px.size else 0.0
    return BoxMeasure(o, float(fill), span, ring, contrast, shift, faint, located, t_ink=t_ink, ring_ink=ring_ink)


def located_share(measures: list[BoxMeasure]) -> float:
    """The share of boxes whose printed border was found where it was measured.

    Empty boxes (most of a page) always show their border; a well-placed page
    finds 75-95 % of them (the rest hold marks). A page whose alignment is off
    by more than the local search finds few: its readings cannot be trusted.
    """
    return sum(m.located for m in measures) / len(measures) if measures else 1.0


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
                m.option, max(0.0, m.fill - base_f), m.span, max(0.0, m.ring - base_r), m.contrast, m.shift_mm,
                max(0.0, m.faint - base_faint), m.located, m.through, m.t_ink, m.ring_ink,
            )
        )
    return out
