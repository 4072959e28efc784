"""Tallies of final answers, computed in the database (GROUP BY), fed to service.indices.

Final answers: accepted by the engine (answered, blank) or settled by a
reviewer. Fields still waiting for review (the engine's multiple/uncertain)
are counted as pending, never guessed. Pages flagged as a duplicate sheet, or
rejected as not a questionnaire, do not count.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, distinct, func, or_, select
from sqlalchemy.orm import Session

from omr.template import Template
from service.indices import CriterionCounts, IndexResult, IndexSpec, Tally, compute_indices
from service.models import Answer, Batch, Page, Round, SheetSummary
from service.tally_jsonl import Sheet

PENDING = and_(Answer.source == "engine", Answer.status.in_(("multiple", "uncertain")))


def _scope(round_id: int, agency: str | None, batch: int | None) -> list:
    """Answers that count: the page is read, of the round's form, not a duplicate (Answer.counted)."""
    conds = [Answer.round_id == round_id, Answer.counted.is_(True)]
    if agency:
        conds.append(Answer.agency == agency)
    if batch is not None:
        conds.append(Answer.page_id.in_(select(Page.id).where(Page.batch_id == batch)))
    return conds


def counts(s: Session, round_id: int, *, agency: str | None = None, batch: int | None = None) -> dict[str, dict[str, Any]]:
    """Per question: {"values": {value: n}, "blank", "pending"} (one GROUP BY over a covering index)."""
    q = (
        select(Answer.field_id, Answer.status, Answer.source, Answer.value_int, func.count())
        .where(*_scope(round_id, agency, batch))
        .group_by(Answer.field_id, Answer.status, Answer.source, Answer.value_int)
    )
    out: dict[str, dict[str, Any]] = {}
    for fid, status, source, v, n in s.execute(q):
        d = out.setdefault(fid, {"values": {}, "blank": 0, "pending": 0})
        if source == "engine" and status in ("multiple", "uncertain"):
            d["pending"] += n
        elif status == "answered" and v is not None:
            d["values"][int(v)] = d["values"].get(int(v), 0) + n
        else:
            d["blank"] += n
    return out


def tally(s: Session, spec: IndexSpec, round_id: int, *, agency: str | None = None, batch: int | None = None) -> Tally:
    c = counts(s, round_id, agency=agency, batch=batch)
    t = Tally(criteria={})
    for cid in spec.criterion_ids:
        d = c.get(cid, {"values": {}, "blank": 0, "pending": 0})
        t.criteria[cid] = CriterionCounts(values=dict(d["values"]), pending=d["pending"], blank=d["blank"])
    lo, hi = spec.scale
    valid = and_(Answer.status == "answered", Answer.value_int.between(lo, hi), ~PENDING)
    if batch is None:
        # n per element and overall from the per-sheet summaries (kept in step on every write)
        q = select(SheetSummary.mask, func.count()).where(SheetSummary.round_id == round_id, SheetSummary.mask != 0)
        if agency:
            q = q.where(SheetSummary.agency == agency)
        for mask, n in s.execute(q.group_by(SheetSummary.mask)):
            t.sheets_answered += n
            for i, el in enumerate(spec.elements):
                if mask >> i & 1:
                    t.element_sheets[el.id] = t.element_sheets.get(el.id, 0) + n
    else:  # one batch: small enough to count directly
        for el in spec.elements:
            t.element_sheets[el.id] = s.scalar(
                select(func.count(distinct(Answer.sheet))).where(
                    *_scope(round_id, agency, batch), Answer.field_id.in_([cr.id for cr in el.criteria]), valid
                )
            ) or 0
        t.sheets_answered = s.scalar(
            select(func.count(distinct(Answer.sheet))).where(*_scope(round_id, agency, batch), Answer.field_id.in_(spec.criterion_ids), valid)
        ) or 0
    t.sheets = s.scalar(select(func.count(distinct(Page.sheet))).where(
        Page.round_id == round_id, Page.status == "done", Page.result_status == "ok", Page.duplicate_of.is_(None),
        *([func.coalesce(Page.agency, select(Batch.agency).where(Batch.id == Page.batch_id).scalar_subquery()) == agency] if agency else []),
        *([Page.batch_id == batch] if batch is not None else []),
    )) or 0
    return t


def indices(s: Session, template: Template, round_id: int, *, agency: str | None = None, batch: int | None = None) -> IndexResult:
    spec = IndexSpec.from_template(template)
    return compute_indices(spec, tally(s, spec, round_id, agency=agency, batch=batch))


def agencies(s: Session, round_id: int) -> list[str]:
    q = select(Answer.agency).where(Answer.round_id == round_id, Answer.counted.is_(True)).distinct()
    return sorted(a for (a,) in s.execute(q) if a)


def sheets(s: Session, round_id: int, *, agency: str | None = None) -> list[Sheet]:
    """Every counted sheet with its final answers, for the exports (pending fields as uncertain)."""
    q = (
        select(Page.template, Answer.sheet, Answer.agency, Answer.field_id, Answer.value, Answer.status, Answer.source)
        .join(Page, Page.id == Answer.page_id)
        .where(*_scope(round_id, agency, None)).order_by(Answer.sheet, Page.page_no)
    )
    by: dict[str, Sheet] = {}
    for template, sheet, ag, fid, value, status, source in s.execute(q):
        sh = by.get(sheet or "")
        if sh is None:
            sh = by[sheet or ""] = Sheet(template=template, serial=sheet or "", agency=ag)
        if source == "engine" and status in ("multiple", "uncertain"):
            sh.fields[fid] = {"value": None, "status": "uncertain"}
        else:
            sh.fields[fid] = {"value": value, "status": status}
    return list(by.values())


def _valid_elements(spec: IndexSpec, rows) -> int:  # noqa: ANN001
    lo, hi = spec.scale
    where = {cr.id: i for i, el in enumerate(spec.elements) for cr in el.criteria}
    mask = 0
    for fid, status, source, v in rows:
        if fid in where and status == "answered" and v is not None and lo <= v <= hi and not (
            source == "engine" and status in ("multiple", "uncertain")
        ):
            mask |= 1 << where[fid]
    return mask


def refresh_sheet(s: Session, round_id: int, sheet: str | None) -> None:
    """Recompute one sheet's summary from its counted answers (call after any change to them)."""
    if not sheet:
        return
    r = s.get(Round, round_id)
    from omr.template import load_template

    t = load_template(r.template)
    if t.indices is None:
        return
    spec = IndexSpec.from_template(t)
    rows = s.execute(
        select(Answer.field_id, Answer.status, Answer.source, Answer.value_int, Answer.agency)
        .where(Answer.round_id == round_id, Answer.sheet == sheet, Answer.counted.is_(True))
    ).all()
    mask = _valid_elements(spec, [row[:4] for row in rows])
    agency = next((row[4] for row in rows if row[4]), None)
    row = s.scalar(select(SheetSummary).where(SheetSummary.round_id == round_id, SheetSummary.sheet == sheet))
    if row is None:
        s.add(SheetSummary(round_id=round_id, sheet=sheet, agency=agency, mask=mask))
    else:
        row.mask, row.agency = mask, agency


def rebuild_summaries(s: Session, round_id: int) -> int:
    """Recompute every sheet summary of a round in one pass (maintenance, bulk loads)."""
    from omr.template import load_template

    r = s.get(Round, round_id)
    spec = IndexSpec.from_template(load_template(r.template))
    s.execute(SheetSummary.__table__.delete().where(SheetSummary.round_id == round_id))
    rows = s.execute(
        select(Answer.sheet, Answer.field_id, Answer.status, Answer.source, Answer.value_int, Answer.agency)
        .where(Answer.round_id == round_id, Answer.counted.is_(True), Answer.field_id.in_(spec.criterion_ids))
        .order_by(Answer.sheet)
    )
    out, cur, buf, ag = [], None, [], None
    for sheet, fid, status, source, v, agency in rows:
        if sheet != cur and cur is not None:
            out.append({"round_id": round_id, "sheet": cur, "agency": ag, "mask": _valid_elements(spec, buf)})
            buf, ag = [], None
        cur = sheet
        buf.append((fid, status, source, v))
        ag = ag or agency
    if cur is not None:
        out.append({"round_id": round_id, "sheet": cur, "agency": ag, "mask": _valid_elements(spec, buf)})
    for k in range(0, len(out), 5000):
        s.execute(SheetSummary.__table__.insert(), out[k : k + 5000])
    return len(out)


def indices_by_agency(s: Session, template: Template, round_id: int) -> dict[str, IndexResult]:
    """Indices for every agency of a round from two grouped queries (not one tally per agency)."""
    spec = IndexSpec.from_template(template)
    crit = set(spec.criterion_ids)
    tallies: dict[str, Tally] = {}
    q = (
        select(Answer.agency, Answer.field_id, Answer.status, Answer.source, Answer.value_int, func.count())
        .where(Answer.round_id == round_id, Answer.counted.is_(True), Answer.agency.is_not(None), Answer.field_id.in_(crit))
        .group_by(Answer.agency, Answer.field_id, Answer.status, Answer.source, Answer.value_int)
    )
    for agency, fid, status, source, v, n in s.execute(q):
        t = tallies.setdefault(agency, Tally(criteria={cid: CriterionCounts() for cid in spec.criterion_ids}))
        cc = t.criteria[fid]
        if source == "engine" and status in ("multiple", "uncertain"):
            cc.pending += n
        elif status == "answered" and v is not None:
            cc.values[int(v)] = cc.values.get(int(v), 0) + n
        else:
            cc.blank += n
    q = (
        select(SheetSummary.agency, SheetSummary.mask, func.count())
        .where(SheetSummary.round_id == round_id, SheetSummary.agency.is_not(None))
        .group_by(SheetSummary.agency, SheetSummary.mask)
    )
    for agency, mask, n in s.execute(q):
        t = tallies.setdefault(agency, Tally(criteria={cid: CriterionCounts() for cid in spec.criterion_ids}))
        t.sheets += n
        if mask:
            t.sheets_answered += n
            for i, el in enumerate(spec.elements):
                if mask >> i & 1:
                    t.element_sheets[el.id] = t.element_sheets.get(el.id, 0) + n
    return {a: compute_indices(spec, t) for a, t in sorted(tallies.items())}
