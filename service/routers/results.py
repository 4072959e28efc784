from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Response

from omr.template import load_template
from service import tallies
from service.deps import AnyUser, SessionDep
from service.errors import ApiError
from service.indices import rank_agencies, ranking_to_json
from service.queries import resolve_round, round_export

router = APIRouter(prefix="/api", tags=["results"])


@router.get("/tallies")
def get_tallies(s: SessionDep, user: AnyUser, round: str, agency: str | None = None, batch: int | None = None) -> dict[str, Any]:
    r = resolve_round(s, round)
    t = load_template(r.template)
    c = tallies.counts(s, r.id, agency=agency, batch=batch)
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
    return {"round": r.name, "agency": agency, "batch": batch, "questions": questions,
            "pending_review": sum(q["pending"] for q in questions)}


@router.get("/indices")
def get_indices(s: SessionDep, user: AnyUser, round: str, agency: str | None = None, agencies: bool = False) -> dict[str, Any]:
    """The round's indices (or one agency's); ``agencies=true`` adds every agency's, ranked."""
    r = resolve_round(s, round)
    t = load_template(r.template)
    if t.indices is None:
        raise ApiError(422, f"template {t.id} defines no indices")
    out = tallies.indices(s, t, r.id, agency=agency).to_json()
    if agency is None and agencies:
        per = tallies.indices_by_agency(s, t, r.id)
        out["agencies"] = ranking_to_json(rank_agencies(per)) if per else []
    out["round"] = r.name
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
