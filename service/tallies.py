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
from service.models import Answer, Batch, Page
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
    # sheets with a valid answer in each element: COUNT(DISTINCT sheet) over an index range per element
    for el in spec.elements:
        t.element_sheets[el.id] = s.scalar(
            select(func.count(distinct(Answer.sheet))).where(
                *_scope(round_id, agency, batch), Answer.field_id.in_([cr.id for cr in el.criteria]), valid
            )
        ) or 0
    # ... and in any element: a streaming GROUP BY along the (round, counted, sheet) index
    per_sheet = (
        select(Answer.sheet)
        .where(*_scope(round_id, agency, batch), Answer.field_id.in_(spec.criterion_ids), valid)
        .group_by(Answer.sheet)
        .subquery()
    )
    t.sheets_answered = s.scalar(select(func.count()).select_from(per_sheet)) or 0
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
