"""From box measurements to answers: what each box holds and what each field says.

Box classes:
- ``empty``: (next to) no ink inside the box.
- ``marked``: a deliberate mark: a cross, tick, slash, partial fill, or a cross
  much bigger than the box (enough ink that reaches across the interior).
- ``filled``: the interior solidly inked. The printed instruction defines this
  as a cancelled choice *when another box of the question is marked*; a filled
  box alone is that respondent's answer (many people fill instead of crossing).
- ``marginal``: a dot, a stray stroke, a ring drawn around the box: something a
  person must look at, never silently counted or ignored.

Like an election adjudication rule, a field is accepted only when every box in
it is clearly in one class; anything marginal lowers the field's confidence,
and a field below ``ACCEPT_CONFIDENCE`` goes to a reviewer with its reason.
"""
from __future__ import annotations

from dataclasses import dataclass

from omr import defs
from omr.layout import FieldGeometry
from omr.marks import BoxMeasure
from omr.results import FieldResult, MarkReading


@dataclass(slots=True)
class BoxClass:
    m: BoxMeasure
    kind: str
    presence: float  # 0.5..1: how sure it holds a deliberate mark (marked, filled) or is empty (empty)
    solidity: float  # 0.5..1: how sure a mark is a cross rather than a fill, or the other way round


def _clamp01(v: float) -> float:
    return max(0.0, min(1.0, v))


def _conf(margin: float) -> float:
    return 0.5 + 0.5 * _clamp01(margin)


def classify(m: BoxMeasure) -> BoxClass:
    f, s = m.fill, m.span
    if m.through:  # a stroke passing through: something a person must look at, never a mark
        return BoxClass(m, "marginal", 0.5, 0.5)
    solidity = _conf(abs(f - defs.FILLED_FILL) / defs.SOLIDITY_BAND)
    if f >= defs.FILLED_FILL:
        return BoxClass(m, "filled", 1.0, solidity)
    strong = f >= defs.STRONG_FILL
    shaped = s >= defs.MARK_SPAN and (f >= defs.MARK_FILL or m.faint >= defs.STROKE_FAINT_FILL)
    if strong or shaped:
        if strong:
            presence = 1.0
        else:
            amount = max((f - defs.MARK_FILL) / defs.MARK_FILL, (m.faint - defs.STROKE_FAINT_FILL) / defs.STROKE_FAINT_FILL)
            presence = _conf(min(amount, (s - defs.MARK_SPAN) / 0.25))
            if f < defs.EMPTY_FILL * 0.4:
                # nothing reaches ink darkness: a very light pencil or an erased mark; a person decides
                presence = min(presence, 0.7)
        return BoxClass(m, "marked", presence, solidity)
    if f >= defs.EMPTY_FILL or m.ring >= defs.RING_MARK_FILL or m.faint >= defs.FAINT_FILL:
        return BoxClass(m, "marginal", 0.5, 0.5)
    presence = _conf(
        min(
            (defs.EMPTY_FILL - f) / defs.EMPTY_FILL * 1.5,
            (defs.RING_MARK_FILL - m.ring) / defs.RING_MARK_FILL * 2,
            (defs.FAINT_FILL - m.faint) / defs.FAINT_FILL * 2,
        )
    )
    return BoxClass(m, "empty", presence, 1.0)


def _readings(boxes: list[BoxClass]) -> list[MarkReading]:
    return [MarkReading(b.m.option.value, b.m.fill, b.kind, b.m.option.digit) for b in boxes]  # type: ignore[arg-type]


def _marginal_reason(b: BoxClass) -> str:
    if b.m.fill < defs.EMPTY_FILL and b.m.ring >= defs.RING_MARK_FILL:
        return "mark around the box"
    if b.m.fill < defs.EMPTY_FILL:
        return "faint mark"
    if b.m.span >= defs.MARK_SPAN:
        return "thin stroke"
    return "faint mark"


def _choose_one(boxes: list[BoxClass]) -> tuple[int | None, str, float, str | None]:
    """Decide one single-choice group: (value, status, confidence, reason)."""
    marked = [b for b in boxes if b.kind == "marked"]
    filled = [b for b in boxes if b.kind == "filled"]
    marginal = [b for b in boxes if b.kind == "marginal"]
    empty = [b for b in boxes if b.kind == "empty"]
    base = min((b.presence for b in empty), default=1.0)
    if len(marked) >= 2:
        conf = min(b.presence for b in marked)
        return None, "multiple", conf, "two marks"
    if len(marked) == 1:
        pick = marked[0]
        conf = min(pick.presence, base)
        reason = None
        if filled:
            # a correction: the filled box is cancelled, the crossed one counts; both must
            # be clearly what they seem (a dense scribble is not a cross)
            conf = min(conf, pick.solidity, min(b.solidity for b in filled))
            reason = "correction"
        if marginal:
            # a stray mark elsewhere: the clear mark wins only if it is much stronger
            worst = max(marginal, key=lambda b: b.m.fill)
            ratio = pick.m.fill / max(worst.m.fill, 1e-3)
            conf = min(conf, _clamp01(0.45 + 0.1 * ratio))
            reason = reason or f"stray mark ({_marginal_reason(worst)})"
        return pick.m.option.value, "answered", conf, reason
    if len(filled) == 1:
        conf = min(filled[0].presence, base)
        reason = None
        if marginal:
            worst = max(marginal, key=lambda b: b.m.fill)
            if all(b.m.span < defs.MARK_SPAN and b.m.ring < defs.RING_MARK_FILL for b in marginal):
                # only compact specks beside a solid fill: a resting pen, not a light cross that would
                # make the fill a cancellation; the fill wins if it holds far more ink
                ratio = filled[0].m.fill / max(worst.m.fill, 1e-3)
                conf = min(conf, _clamp01(0.2 + 0.05 * ratio))
            else:
                conf = min(conf, 0.6)
            reason = f"filled box and {_marginal_reason(worst)}"
        return filled[0].m.option.value, "answered", conf, reason
    if len(filled) >= 2:
        return None, "multiple", min(b.solidity for b in filled), "several filled boxes"
    if marginal:
        b = max(marginal, key=lambda b: b.m.fill)
        return b.m.option.value, "uncertain", 0.4, _marginal_reason(b)
    return None, "blank", base, None


def _lone_speck(boxes: list[BoxClass]) -> list[BoxClass]:
    """A field that would read blank, with a little ink in one box where every other box is clean (no ink at
    all, as on a 1-bit scan): on such a page the speck may be all a scanner's threshold left of a fine pen's cross,
    so that box is marginal and a person looks. Where empty boxes carry noise (grey paper, JPEG, dithering) they
    are not clean and nothing changes."""
    if len(boxes) < 2 or any(b.kind != "empty" for b in boxes):
        return boxes
    top = max(boxes, key=lambda b: b.m.fill)
    if top.m.fill < defs.SPECK_FILL or any(b.m.fill > defs.CLEAN_FILL for b in boxes if b is not top):
        return boxes
    return [BoxClass(b.m, "marginal", 0.5, 0.5) if b is top else b for b in boxes]


def decide_field(field: FieldGeometry, measures: list[BoxMeasure]) -> FieldResult:
    boxes = _lone_speck([classify(m) for m in measures])
    readings = _readings(boxes)
    if field.kind == "single":
        value, status, conf, reason = _choose_one(boxes)
    elif field.kind == "multiple":
        value, status, conf, reason = _choose_many(boxes)
    elif field.kind == "code":
        value, status, conf, reason = _choose_code(boxes, field.digits or 1)
    else:
        raise ValueError(f"decide_field: {field.kind} fields have no boxes")
    through = [b for b in boxes if b.m.through]
    if through:
        # a note or an arrow running through a box is no answer, and no correction stroke either
        # (a fill beside it is not cancelled by it): a person reads the row
        status = "multiple" if status == "multiple" else "uncertain"
        conf = min(conf, 0.4)
        crossed = {b.m.option.value for b in through}
        if field.kind == "single" and value in crossed:
            value = None  # the stroke's box is no suggestion
        elif field.kind == "multiple" and isinstance(value, list):
            value = [v for v in value if v not in crossed] or None
        reason = "stray stroke through box" + (f"; {reason}" if reason else "")
    if status in ("answered", "blank") and conf < defs.ACCEPT_CONFIDENCE:
        status = "uncertain"
        reason = reason or "low contrast"
    return FieldResult(value, status, round(conf, 4), reason, readings)  # type: ignore[arg-type]


def _choose_many(boxes: list[BoxClass]) -> tuple[list[int] | None, str, float, str | None]:
    marked = [b for b in boxes if b.kind == "marked"]
    filled = [b for b in boxes if b.kind == "filled"]
    marginal = [b for b in boxes if b.kind == "marginal"]
    chosen = marked if marked else filled  # fills beside crosses are cancellations
    conf = min((b.presence for b in boxes), default=1.0)
    reason = None
    if marked and filled:
        conf = min([conf] + [b.solidity for b in marked + filled])
        reason = "correction"
    if len(boxes) >= 3 and not any(b.kind == "empty" for b in boxes):
        fills = sorted(b.m.fill for b in boxes)
        if fills[0] * defs.ALIKE_FILL_RATIO >= fills[-2]:
            # ink in every box, all but one at most alike: shading, a dark background or a blur, not marks
            return sorted(b.m.option.value for b in chosen) or None, "uncertain", min(conf, 0.3), "every box reads alike"
    if marginal:
        reason = _marginal_reason(marginal[0])
        values = sorted(b.m.option.value for b in chosen + marginal)
        return values, "uncertain", min(conf, 0.4), reason
    if not chosen:
        return None, "blank", conf, None
    return sorted(b.m.option.value for b in chosen), "answered", conf, reason


def _choose_code(boxes: list[BoxClass], digits: int) -> tuple[str | None, str, float, str | None]:
    out: list[str] = []
    conf = 1.0
    statuses = []
    reason = None
    for d in range(digits):
        col = [b for b in boxes if b.m.option.digit == d]
        value, status, c, r = _choose_one(col)
        conf = min(conf, c)
        statuses.append(status)
        reason = reason or (f"digit {d + 1}: {r}" if r else None)
        out.append("?" if value is None else str(value))
    if all(s == "blank" for s in statuses):
        return None, "blank", conf, None
    if any(s == "multiple" for s in statuses):
        return "".join(out), "multiple", conf, reason
    if any(s == "blank" for s in statuses):
        return "".join(out), "uncertain", min(conf, 0.4), "digit missing"
    if any(s == "uncertain" for s in statuses):
        return "".join(out), "uncertain", conf, reason
    return "".join(out), "answered", conf, reason


def distrust(result: FieldResult, reason: str) -> FieldResult:
    """The same reading, sent to a reviewer: the page it came from cannot be trusted."""
    status = result.status if result.status == "multiple" else "uncertain"
    conf = min(result.confidence, 0.3)
    why = reason if not result.reason else f"{reason}; {result.reason}"
    return FieldResult(result.value, status, conf, why, result.marks, result.text_suggestion, result.has_writing)  # type: ignore[arg-type]
