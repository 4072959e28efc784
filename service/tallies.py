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


def _scope(round_id: int, agency: str | None, batch: int | None):  # noqa: ANN202
    conds = [Answer.round_id == round_id, Page.status == "done", Page.result_status == "ok", Page.duplicate_of.is_(None)]
    if agency:
        conds.append(func.coalesce(Page.agency, Batch.agency) == agency)
    if batch is not None:
        conds.append(Page.batch_id == batch)
    return conds


def _joined(q):  # noqa: ANN001, ANN202
    return q.join(Page, Page.id == Answer.page_id).join(Batch, Batch.id == Page.batch_id)


def counts(s: Session, round_id: int, *, agency: str | None = None, batch: int | None = None) -> dict[str, dict[str, Any]]:
    """Per question: {"values": {value: n}, "blank", "pending", "multiple"} for single choice (SQL GROUP BY)."""
    kind = case((PENDING, "pending"), (Answer.status == "answered", "answered"), else_="blank")
    q = _joined(select(Answer.field_id, kind.label("k"), Answer.value_int, func.count()).select_from(Answer)).where(
        *_scope(round_id, agency, batch)
    ).group_by(Answer.field_id, kind, Answer.value_int)
    out: dict[str, dict[str, Any]] = {}
    for fid, k, v, n in s.execute(q):
        d = out.setdefault(fid, {"values": {}, "blank": 0, "pending": 0})
        if k == "answered" and v is not None:
            d["values"][int(v)] = d["values"].get(int(v), 0) + n
        elif k == "pending":
            d["pending"] += n
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
    sheet_key = func.coalesce(Page.sheet, "")
    valid = and_(~PENDING, Answer.status == "answered", Answer.value_int.between(lo, hi))
    for el in spec.elements:
        ids = [cr.id for cr in el.criteria]
        q = _joined(select(func.count(distinct(sheet_key))).select_from(Answer)).where(
            *_scope(round_id, agency, batch), Answer.field_id.in_(ids), valid
        )
        t.element_sheets[el.id] = s.scalar(q) or 0
    q = _joined(select(func.count(distinct(sheet_key))).select_from(Answer)).where(
        *_scope(round_id, agency, batch), Answer.field_id.in_(spec.criterion_ids), valid
    )
    t.sheets_answered = s.scalar(q) or 0
    q = _joined(select(func.count(distinct(sheet_key))).select_from(Answer)).where(*_scope(round_id, agency, batch))
    t.sheets = s.scalar(q) or 0
    return t


def indices(s: Session, template: Template, round_id: int, *, agency: str | None = None, batch: int | None = None) -> IndexResult:
    spec = IndexSpec.from_template(template)
    return compute_indices(spec, tally(s, spec, round_id, agency=agency, batch=batch))


def agencies(s: Session, round_id: int) -> list[str]:
    q = (
        select(func.coalesce(Page.agency, Batch.agency)).distinct()
        .select_from(Page).join(Batch, Batch.id == Page.batch_id)
        .where(Page.round_id == round_id, Page.result_status == "ok")
    )
    return sorted(a for (a,) in s.execute(q) if a)


def sheets(s: Session, round_id: int, *, agency: str | None = None) -> list[Sheet]:
    """Every counted sheet with its final answers, for the exports (pending fields as uncertain)."""
    q = _joined(
        select(Page.template, Page.sheet, func.coalesce(Page.agency, Batch.agency), Answer.field_id, Answer.value,
               Answer.status, Answer.source)
        .select_from(Answer)
    ).where(*_scope(round_id, agency, None)).order_by(Page.sheet, Page.page_no)
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
