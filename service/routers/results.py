from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from omr.template import load_template
from service import tallies
from service.deps import AnyUser, SessionDep
from service.errors import ApiError
from service.indices import rank_agencies, ranking_to_json
from service.queries import resolve_round, round_export
from service.tally_jsonl import parse_group_filter

router = APIRouter(prefix="/api", tags=["results"])


GROUP_HELP = "respondent group QUESTION=VALUE, e.g. gioi_tinh=2 (repeatable: several questions must all match, " \
             "several values of one question are alternatives)"
PERIOD_HELP = "batches received in 2026, 2026-Q1, 2026-03, 2026-03-15 or 2026-03-01..2026-04-15 (Vietnam time)"


def _filters(t: Any, period: str | None, group: list[str]) -> tuple[tallies.Period | None, dict[str, list[int]]]:
    """The period and respondent-group query parameters, checked against the round's template (422 naming the problem)."""
    try:
        when = tallies.parse_period(period) if period else None
    except ValueError as exc:
        raise ApiError(422, str(exc)) from None
    single = {q.id: q for _, q in t.questions() if q.kind == "single"}
    groups: dict[str, list[int]] = {}
    for g in group:
        try:
            qid, value = parse_group_filter(g)
        except ValueError as exc:
            raise ApiError(422, str(exc)) from None
        q = single.get(qid)
        if q is None:
            raise ApiError(422, f"group {g!r}: {qid!r} is not a single-choice question of {t.id} "
                                f"(these are: {', '.join(single)})")
        known = [o.value for o in q.option_list]
        if value not in known:
            raise ApiError(422, f"group {g!r}: {qid} has the values {', '.join(map(str, known))}")
        groups.setdefault(qid, []).append(value)
    return when, groups


@router.get("/tallies")
def get_tallies(s: SessionDep, user: AnyUser, round: str, agency: str | None = None, batch: int | None = None,
                period: Annotated[str | None, Query(description=PERIOD_HELP)] = None,
                group: Annotated[list[str], Query(description=GROUP_HELP)] = []) -> dict[str, Any]:  # noqa: B006
    r = resolve_round(s, round)
    t = load_template(r.template)
    when, groups = _filters(t, period, group)
    c = tallies.counts(s, r.id, agency=agency, batch=batch, period=when, groups=groups)
    questions = []
    for _, q in t.questions():
        if q.kind not in ("single",):
            continue
        d = c.get(q.id, {"values": {}, "blank": 0, "pending": 0})
        questions.append({
            "id": q.id, "text": q.text,
            "options": [{"value": o.value, "label": o.label, "count": d["values"].get(o.value, 0)} for o in q.option_list],
            "blank": d["blank"], "pending": d["pending"],
        })
    return {"round": r.name, "agency": agency, "batch": batch, "period": period, "group": group, "questions": questions,
            "pending_review": sum(q["pending"] for q in questions)}


@router.get("/indices")
def get_indices(s: SessionDep, user: AnyUser, round: str, agency: str | None = None, agencies: bool = False,
                batch: int | None = None, period: Annotated[str | None, Query(description=PERIOD_HELP)] = None,
                group: Annotated[list[str], Query(description=GROUP_HELP)] = []) -> dict[str, Any]:  # noqa: B006
    """The round's indices (or one agency's); ``agencies=true`` adds every agency's, ranked (with the same filters)."""
    r = resolve_round(s, round)
    t = load_template(r.template)
    if t.indices is None:
        raise ApiError(422, f"template {t.id} defines no indices")
    when, groups = _filters(t, period, group)
    out = tallies.indices(s, t, r.id, agency=agency, batch=batch, period=when, groups=groups).to_json()
    if agency is None and agencies:
        per = tallies.indices_by_agency(s, t, r.id, batch=batch, period=when, groups=groups)
        out["agencies"] = ranking_to_json(rank_agencies(per)) if per else []
    out.update(round=r.name, agency=agency, batch=batch, period=period, group=group)
    return out


@router.get("/export")
def export(s: SessionDep, user: AnyUser, round: str, format: str = "csv", agency: str | None = None) -> Response:
    """The round's answers as csv, csv-labels, xlsx, sav or json (the same bytes as ``omr export``)."""
    e = round_export(s, round, format, agency=agency)
    disposition = f'attachment; filename="{e.filename}"'.encode("latin-1", "replace").decode("latin-1")
    return Response(e.data, media_type=e.media_type, headers={"Content-Disposition": disposition})


@router.get("/report")
def report(s: SessionDep, user: AnyUser, round: str, format: str = "html") -> Response:
    from service.report import build_report, render_html, render_pdf

    r = resolve_round(s, round)
    t = load_template(r.template)
    result = tallies.indices(s, t, r.id)
    per = tallies.indices_by_agency(s, t, r.id)
    ctx = build_report(t, result, round_name=r.name, ranking=rank_agencies(per) if len(per) > 1 else None, date=date.today())
    if format == "pdf":
        return Response(render_pdf(ctx), media_type="application/pdf")
    return Response(render_html(ctx), media_type="text/html; charset=utf-8")
