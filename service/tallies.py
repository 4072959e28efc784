"""Tallies of final answers, computed in the database (GROUP BY), fed to service.indices.

Final answers: accepted by the engine (answered, blank) or settled by a
reviewer. Fields still waiting for review (the engine's multiple/uncertain)
are counted as pending, never guessed. Pages flagged as a duplicate sheet, or
rejected as not a questionnaire, do not count.

Filters (every function takes them; all are SQL conditions, nothing is counted in Python):

* ``agency``: the sheet's agency code;
* ``batch``: answers read from the pages of one batch;
* ``period``: sheets received in ``[start, end)`` (see :func:`parse_period`): the
  day a sheet was received is the day its batch was uploaded (the first batch,
  when its pages came in several); the service knows no other date of a sheet;
* ``groups``: respondent groups, ``{"gioi_tinh": (2,), "do_tuoi": (1, 2)}``: only
  sheets whose final answer to every named question is one of its values
  (several questions: all must match; several values of one question: any).
"""
from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import and_, case, distinct, event, func, or_, select
from sqlalchemy.orm import Session, aliased

from omr.template import Template
from service.indices import CriterionCounts, IndexResult, IndexSpec, Tally, compute_indices
from service.models import Answer, AuditEntry, Batch, Page, Round, SheetSummary
from service.tally_jsonl import Sheet

# a page's respondent: its serial, or the key a reviewer gave a second sheet with the same serial (service.worker)
RESPONDENT = func.coalesce(Page.respondent, Page.sheet)

PENDING = and_(Answer.source == "engine", Answer.status.in_(("multiple", "uncertain")))

# Periods are calendar days in Vietnam (UTC+7 all year, no daylight saving time since 1975).
LOCAL_TZ = timezone(timedelta(hours=7), "ICT")

Period = tuple[datetime, datetime]  # [start, end), aware
Groups = Mapping[str, Sequence[int]]


def parse_period(text: str) -> Period:
    """``2026`` (a year), ``2026-Q1`` (a quarter), ``2026-03`` (a month), ``2026-03-15`` (a day) or
    ``2026-03-01..2026-04-15`` (days, both included), in Vietnam's time -> ``[start, end)`` in UTC.
    Raises ValueError naming the problem."""
    t = text.strip()
    try:
        if m := re.fullmatch(r"(\d{4})", t):
            start, end = date(int(m[1]), 1, 1), date(int(m[1]) + 1, 1, 1)
        elif m := re.fullmatch(r"(\d{4})-[Qq]([1-4])", t):
            y, q = int(m[1]), int(m[2])
            start = date(y, 3 * q - 2, 1)
            end = date(y + 1, 1, 1) if q == 4 else date(y, 3 * q + 1, 1)
        elif m := re.fullmatch(r"(\d{4})-(\d{2})", t):
            y, mo = int(m[1]), int(m[2])
            start, end = date(y, mo, 1), (date(y + 1, 1, 1) if mo == 12 else date(y, mo + 1, 1))
        elif m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})(?:\.\.(\d{4}-\d{2}-\d{2}))?", t):
            start = date.fromisoformat(m[1])
            end = date.fromisoformat(m[2] or m[1]) + timedelta(days=1)
        else:
            raise ValueError("format")
    except ValueError:
        raise ValueError(f"period {text!r}: write 2026, 2026-Q1, 2026-03, 2026-03-15 or 2026-03-01..2026-04-15") from None
    if end <= start:
        raise ValueError(f"period {text!r}: the last day is before the first")

    def utc(d: date) -> datetime:
        return datetime(d.year, d.month, d.day, tzinfo=LOCAL_TZ).astimezone(timezone.utc)

    return utc(start), utc(end)


def _group_sheets(round_id: int, qid: str, values: Sequence[int]):  # noqa: ANN202
    """The sheets whose final answer to ``qid`` is one of ``values`` (a subquery; covered by ix_answers_tally)."""
    g = aliased(Answer)
    return select(g.sheet).where(
        g.round_id == round_id, g.counted.is_(True), g.field_id == qid, g.status == "answered",
        g.value_int.in_([int(v) for v in values]),
    )


def _period_sheets(round_id: int, period: Period):  # noqa: ANN202
    """The sheets received in ``period`` (a subquery): the day a sheet was received is the day its batch was
    uploaded; a sheet whose pages came in several batches was received with the first of them."""
    start, end = period
    first = func.min(Batch.created_at)
    key = RESPONDENT
    return (
        select(key).join(Batch, Batch.id == Page.batch_id)
        .where(Page.round_id == round_id, Page.result_status == "ok", Page.duplicate_of.is_(None), Page.sheet.is_not(None))
        .group_by(key).having(first >= start, first < end)
    )


def _scope(round_id: int, agency: str | None, batch: int | None, period: Period | None = None,
           groups: Groups | None = None, channel: str | None = None) -> list:
    """Answers that count: the page is read, of the round's form, not a duplicate (Answer.counted), filtered."""
    conds = [Answer.round_id == round_id, Answer.counted.is_(True)]
    if agency:
        conds.append(Answer.agency == agency)
    if channel:
        conds.append(Answer.channel == channel)
    if batch is not None:
        conds.append(Answer.page_id.in_(select(Page.id).where(Page.batch_id == batch)))
    if period is not None:
        conds.append(Answer.sheet.in_(_period_sheets(round_id, period)))
    for qid, values in (groups or {}).items():
        conds.append(Answer.sheet.in_(_group_sheets(round_id, qid, values)))
    return conds


def _summary_filters(round_id: int, period: Period | None, groups: Groups | None, channel: str | None = None) -> list:
    conds = [SheetSummary.sheet.in_(_period_sheets(round_id, period))] if period is not None else []
    if channel:
        conds.append(SheetSummary.channel == channel)
    for qid, values in (groups or {}).items():
        conds.append(SheetSummary.sheet.in_(_group_sheets(round_id, qid, values)))
    return conds


def _pages_read(round_id: int, agency: str | None, batch: int | None, period: Period | None, groups: Groups | None,
                channel: str | None = None) -> list:
    """Pages read as questionnaires of the round (for the informative count of sheets), filtered."""
    page_agency = func.coalesce(Page.agency, select(Batch.agency).where(Batch.id == Page.batch_id).scalar_subquery())
    conds = [Page.round_id == round_id, Page.status == "done", Page.result_status == "ok", Page.duplicate_of.is_(None)]
    if channel:
        conds.append(Page.channel == channel)
    if agency:
        conds.append(page_agency == agency)
    if batch is not None:
        conds.append(Page.batch_id == batch)
    if period is not None:
        conds.append(RESPONDENT.in_(_period_sheets(round_id, period)))
    for qid, values in (groups or {}).items():
        conds.append(RESPONDENT.in_(_group_sheets(round_id, qid, values)))
    return conds


def counts(s: Session, round_id: int, *, agency: str | None = None, batch: int | None = None,
           period: Period | None = None, groups: Groups | None = None, channel: str | None = None) -> dict[str, dict[str, Any]]:
    """Per question: {"values": {value: n}, "blank", "pending"} (one GROUP BY over a covering index)."""
    q = (
        select(Answer.field_id, Answer.status, Answer.source, Answer.value_int, func.count())
        .where(*_scope(round_id, agency, batch, period, groups, channel))
        .group_by(Answer.field_id, Answer.status, Answer.source, Answer.value_int)
    )
    out: dict[str, dict[str, Any]] = {}
    for fid, status, source, v, n in s.execute(q):
        d = out.setdefault(fid, {"values": {}, "blank": 0, "pending": 0, "multiple": 0})
        if source == "engine" and status in ("multiple", "uncertain"):
            d["pending"] += n
        elif status == "answered" and v is not None:
            d["values"][int(v)] = d["values"].get(int(v), 0) + n
        elif status == "multiple":  # a person confirmed several marks: an invalid answer, not a blank one
            d["multiple"] += n
        else:
            d["blank"] += n
    return out


def tally(s: Session, spec: IndexSpec, round_id: int, *, agency: str | None = None, batch: int | None = None,
          period: Period | None = None, groups: Groups | None = None, channel: str | None = None) -> Tally:
    c = counts(s, round_id, agency=agency, batch=batch, period=period, groups=groups, channel=channel)
    t = Tally(criteria={})
    for cid in spec.criterion_ids:
        d = c.get(cid, {"values": {}, "blank": 0, "pending": 0, "multiple": 0})
        t.criteria[cid] = CriterionCounts(values=dict(d["values"]), pending=d["pending"], blank=d["blank"], multiple=d["multiple"])
    if batch is None:
        # n per element and overall from the per-sheet summaries (kept in step on every write)
        q = select(SheetSummary.mask, func.count()).where(SheetSummary.round_id == round_id, SheetSummary.mask != 0,
                                                          *_summary_filters(round_id, period, groups, channel))
        if agency:
            q = q.where(SheetSummary.agency == agency)
        for mask, n in s.execute(q.group_by(SheetSummary.mask)):
            t.sheets_answered += n
            for i, el in enumerate(spec.elements):
                if mask >> i & 1:
                    t.element_sheets[el.id] = t.element_sheets.get(el.id, 0) + n
    else:  # one batch's pages: count the sheets directly
        scope = _scope(round_id, agency, batch, period, groups, channel)
        for el in spec.elements:
            t.element_sheets[el.id] = s.scalar(
                select(func.count(distinct(Answer.sheet))).where(*scope, Answer.field_id.in_([cr.id for cr in el.criteria]),
                                                                 _valid(spec))
            ) or 0
        t.sheets_answered = s.scalar(
            select(func.count(distinct(Answer.sheet))).where(*scope, Answer.field_id.in_(spec.criterion_ids), _valid(spec))
        ) or 0
    t.sheets = s.scalar(select(func.count(distinct(RESPONDENT))).where(*_pages_read(round_id, agency, batch, period, groups, channel))) or 0
    return t


def _valid(spec: IndexSpec):  # noqa: ANN202
    lo, hi = spec.scale
    return and_(Answer.status == "answered", Answer.value_int.between(lo, hi), ~PENDING)


def indices(s: Session, template: Template, round_id: int, *, agency: str | None = None, batch: int | None = None,
            period: Period | None = None, groups: Groups | None = None, channel: str | None = None) -> IndexResult:
    spec = IndexSpec.from_template(template)
    return compute_indices(spec, tally(s, spec, round_id, agency=agency, batch=batch, period=period, groups=groups,
                                       channel=channel))


def agencies(s: Session, round_id: int) -> list[str]:
    q = select(Answer.agency).where(Answer.round_id == round_id, Answer.counted.is_(True)).distinct()
    return sorted(a for (a,) in s.execute(q) if a)


def sheets(s: Session, round_id: int, *, agency: str | None = None, period: Period | None = None,
           groups: Groups | None = None, channel: str | None = None) -> list[Sheet]:
    """Every counted sheet with its final answers, for the exports (pending fields as uncertain), filtered."""
    q = (
        select(Page.template, Answer.sheet, Answer.agency, Answer.field_id, Answer.value, Answer.status, Answer.source)
        .join(Page, Page.id == Answer.page_id)
        .where(*_scope(round_id, agency, None, period, groups, channel)).order_by(Answer.sheet, Page.page_no)
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

    t = load_template(r.template, version=r.version)
    if t.indices is None:
        return
    spec = IndexSpec.from_template(t)
    rows = s.execute(
        select(Answer.field_id, Answer.status, Answer.source, Answer.value_int, Answer.agency, Answer.channel)
        .where(Answer.round_id == round_id, Answer.sheet == sheet, Answer.counted.is_(True))
    ).all()
    mask = _valid_elements(spec, [row[:4] for row in rows])
    agency = next((row[4] for row in rows if row[4]), None)
    channel = next((row[5] for row in rows if row[5]), "paper")
    row = s.scalar(select(SheetSummary).where(SheetSummary.round_id == round_id, SheetSummary.sheet == sheet))
    if row is None:
        s.add(SheetSummary(round_id=round_id, sheet=sheet, agency=agency, mask=mask, channel=channel))
    else:
        row.mask, row.agency, row.channel = mask, agency, channel


def rebuild_summaries(s: Session, round_id: int) -> int:
    """Recompute every sheet summary of a round in one pass (maintenance, bulk loads)."""
    from omr.template import load_template

    r = s.get(Round, round_id)
    spec = IndexSpec.from_template(load_template(r.template, version=r.version))
    s.execute(SheetSummary.__table__.delete().where(SheetSummary.round_id == round_id))
    rows = s.execute(
        select(Answer.sheet, Answer.field_id, Answer.status, Answer.source, Answer.value_int, Answer.agency, Answer.channel)
        .where(Answer.round_id == round_id, Answer.counted.is_(True), Answer.field_id.in_(spec.criterion_ids))
        .order_by(Answer.sheet)
    )
    out, cur, buf, ag, ch = [], None, [], None, None
    for sheet, fid, status, source, v, agency, channel in rows:
        if sheet != cur and cur is not None:
            out.append({"round_id": round_id, "sheet": cur, "agency": ag, "channel": ch or "paper", "mask": _valid_elements(spec, buf)})
            buf, ag, ch = [], None, None
        cur = sheet
        buf.append((fid, status, source, v))
        ag = ag or agency
        ch = ch or channel
    if cur is not None:
        out.append({"round_id": round_id, "sheet": cur, "agency": ag, "channel": ch or "paper", "mask": _valid_elements(spec, buf)})
    for k in range(0, len(out), 5000):
        s.execute(SheetSummary.__table__.insert(), out[k : k + 5000])
    return len(out)


def indices_by_agency(s: Session, template: Template, round_id: int, *, batch: int | None = None,
                      period: Period | None = None, groups: Groups | None = None,
                      channel: str | None = None) -> dict[str, IndexResult]:
    """Indices for every agency of a round from grouped queries (not one tally per agency), filtered."""
    spec = IndexSpec.from_template(template)
    crit = set(spec.criterion_ids)
    tallies: dict[str, Tally] = {}

    def of(agency: str) -> Tally:
        return tallies.setdefault(agency, Tally(criteria={cid: CriterionCounts() for cid in spec.criterion_ids}))

    scope = _scope(round_id, None, batch, period, groups, channel)
    q = (
        select(Answer.agency, Answer.field_id, Answer.status, Answer.source, Answer.value_int, func.count())
        .where(*scope, Answer.agency.is_not(None), Answer.field_id.in_(crit))
        .group_by(Answer.agency, Answer.field_id, Answer.status, Answer.source, Answer.value_int)
    )
    for agency, fid, status, source, v, n in s.execute(q):
        cc = of(agency).criteria[fid]
        if source == "engine" and status in ("multiple", "uncertain"):
            cc.pending += n
        elif status == "answered" and v is not None:
            cc.values[int(v)] = cc.values.get(int(v), 0) + n
        elif status == "multiple":
            cc.multiple += n
        else:
            cc.blank += n
    if batch is None:
        q = (
            select(SheetSummary.agency, SheetSummary.mask, func.count())
            .where(SheetSummary.round_id == round_id, SheetSummary.agency.is_not(None),
                   *_summary_filters(round_id, period, groups, channel))
            .group_by(SheetSummary.agency, SheetSummary.mask)
        )
        for agency, mask, n in s.execute(q):
            t = of(agency)
            t.sheets += n
            if mask:
                t.sheets_answered += n
                for i, el in enumerate(spec.elements):
                    if mask >> i & 1:
                        t.element_sheets[el.id] = t.element_sheets.get(el.id, 0) + n
    else:  # one batch's pages: sheets counted directly, one grouped query per element
        per_agency = select(Answer.agency, func.count(distinct(Answer.sheet))).where(*scope, Answer.agency.is_not(None), _valid(spec))
        for el in spec.elements:
            q = per_agency.where(Answer.field_id.in_([cr.id for cr in el.criteria])).group_by(Answer.agency)
            for agency, n in s.execute(q):
                of(agency).element_sheets[el.id] = n
        for agency, n in s.execute(per_agency.where(Answer.field_id.in_(crit)).group_by(Answer.agency)):
            of(agency).sheets_answered = n
        page_agency = func.coalesce(Page.agency, select(Batch.agency).where(Batch.id == Page.batch_id).scalar_subquery())
        q = (select(page_agency, func.count(distinct(RESPONDENT))).where(*_pages_read(round_id, None, batch, period, groups, channel))
             .group_by(page_agency))
        for agency, n in s.execute(q):
            if agency in tallies:
                tallies[agency].sheets = n
    return {a: compute_indices(spec, t) for a, t in sorted(tallies.items())}


def indices_with_agencies(s: Session, template: Template, round_id: int, *, period: Period | None = None,
                          groups: Groups | None = None, channel: str | None = None) -> tuple[IndexResult, dict[str, IndexResult]]:
    """The round's indices and every agency's, from one grouped pass over the answers and one over the sheet
    summaries (what ``GET /api/indices?agencies=true`` answers): the same figures as :func:`indices` and
    :func:`indices_by_agency` called one after the other, each query run once instead of twice."""
    spec = IndexSpec.from_template(template)
    crit = spec.criterion_ids

    def new() -> Tally:
        return Tally(criteria={cid: CriterionCounts() for cid in crit})

    total, per = new(), {}
    q = (
        select(Answer.agency, Answer.field_id, Answer.status, Answer.source, Answer.value_int, func.count())
        .where(*_scope(round_id, None, None, period, groups, channel), Answer.field_id.in_(crit))
        .group_by(Answer.agency, Answer.field_id, Answer.status, Answer.source, Answer.value_int)
    )
    for agency, fid, status, source, v, n in s.execute(q):
        for t in (total, per.setdefault(agency, new())) if agency is not None else (total,):
            cc = t.criteria[fid]
            if source == "engine" and status in ("multiple", "uncertain"):
                cc.pending += n
            elif status == "answered" and v is not None:
                cc.values[int(v)] = cc.values.get(int(v), 0) + n
            elif status == "multiple":
                cc.multiple += n
            else:
                cc.blank += n
    q = (
        select(SheetSummary.agency, SheetSummary.mask, func.count())
        .where(SheetSummary.round_id == round_id, *_summary_filters(round_id, period, groups, channel))
        .group_by(SheetSummary.agency, SheetSummary.mask)
    )
    for agency, mask, n in s.execute(q):
        hit = []
        if mask:
            total.sheets_answered += n
            hit.append(total)
        if agency is not None:
            a = per.setdefault(agency, new())
            a.sheets += n
            if mask:
                a.sheets_answered += n
                hit.append(a)
        for t in hit:
            for i, el in enumerate(spec.elements):
                if mask >> i & 1:
                    t.element_sheets[el.id] = t.element_sheets.get(el.id, 0) + n
    total.sheets = s.scalar(select(func.count(distinct(RESPONDENT))).where(*_pages_read(round_id, None, None, period, groups, channel))) or 0
    return compute_indices(spec, total), {a: compute_indices(spec, t) for a, t in sorted(per.items())}


def round_figures(s: Session, template: Template, round_id: int, *, period: Period | None = None,
                  groups: Groups | None = None, channel: str | None = None) -> tuple[IndexResult, dict[str, IndexResult]]:
    """:func:`indices_with_agencies` through the cache (what ``GET /api/indices?agencies=true`` shows, and what
    service.warm computes ahead for a round's own view)."""
    gkey = tuple(sorted((q, tuple(v)) for q, v in (groups or {}).items()))
    return cached(s, ("with_agencies", round_id, template.id, template.version, period, gkey, channel),
                  lambda: indices_with_agencies(s, template, round_id, period=period, groups=groups, channel=channel))


# --------------------------------------------------------------------------------------------------------
# Figures cached per revision of the data. Every write to the tables the figures come from (answers, pages,
# sheet summaries, batches, rounds), through any session of this process, bumps the revision when it commits;
# the key also holds the newest audit entry, batch, page and answer ids (one query over four primary keys), so
# the writes of another process that are audited or bring pages or answers are seen too. Figures of another revision are
# never served: a cache entry is only ever read under the revision it was computed at.
_FIGURE_TABLES = frozenset({"answers", "pages", "sheet_summaries", "batches", "rounds"})
_CACHE_SIZE = 64
_cache: OrderedDict[tuple, Any] = OrderedDict()
_revision = [0]
_lock = threading.Lock()
_computing: dict[tuple, threading.Event] = {}  # keys being computed now, set when done


@event.listens_for(Session, "do_orm_execute")
def _bulk_write(state: Any) -> None:  # insert()/update()/delete() statements run through a session
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in _FIGURE_TABLES:
            state.session.info["omr_figures_changed"] = True


@event.listens_for(Session, "after_flush")
def _unit_write(session: Session, _ctx: Any) -> None:  # objects added, changed or deleted
    if any(getattr(o, "__tablename__", None) in _FIGURE_TABLES for o in (*session.new, *session.dirty, *session.deleted)):
        session.info["omr_figures_changed"] = True


_listeners: list[threading.Event] = []  # set by every commit that changes the figures (service.warm waits on one)


def listen() -> threading.Event:
    """An event set at each commit that changes the figures (clear it to wait for the next)."""
    ev = threading.Event()
    with _lock:
        _listeners.append(ev)
    return ev


def unlisten(ev: threading.Event) -> None:
    with _lock:
        if ev in _listeners:
            _listeners.remove(ev)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.info.pop("omr_figures_changed", False):
        with _lock:
            _revision[0] += 1
            _cache.clear()
            for ev in _listeners:
                ev.set()


def revision(s: Session) -> tuple:
    """The revision of the figures as this process sees it (its own commits, and the newest audit entry,
    batch, page and answer of the database)."""
    newest = s.execute(select(*(select(func.max(k)).scalar_subquery() for k in (AuditEntry.id, Batch.id, Page.id, Answer.id)))).one()
    return (_revision[0], *newest)


def cached(s: Session, key: tuple, compute: Callable[[], Any]) -> Any:
    """``compute()`` (figures that only read the database), or its value from an earlier call with the same key
    at the same revision; a call that finds the same key being computed waits for that value (once: when it is
    not there after, as when the data changed meanwhile, it computes its own). Callers must not change what it
    returns."""
    full = (revision(s), *key)
    for waited in (False, True):
        with _lock:
            if full in _cache:
                _cache.move_to_end(full)
                return _cache[full]
            running = _computing.get(full)
            if running is None or waited:
                mine = threading.Event()
                _computing.setdefault(full, mine)
                break
        # the same figures are being computed for another request (a page opened by many at once, or reloaded
        # before its first answer came): wait for them rather than run the same pass again beside it
        running.wait(timeout=120)
    try:
        value = compute()
        with _lock:
            if full[0][0] == _revision[0]:  # nothing committed meanwhile in this process
                _cache[full] = value
                while len(_cache) > _CACHE_SIZE:
                    _cache.popitem(last=False)
        return value
    finally:
        with _lock:
            if _computing.get(full) is mine:
                del _computing[full]
        mine.set()
