"""Results of a round: tallies, indices, the answers as files, the report."""
from __future__ import annotations

import unicodedata
import urllib.parse
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from omr.template import load_template
from service import tallies
from service.print_runs import response_rates
from service.deps import AnyUser, SessionDep
from service.errors import ApiError
from service.indices import rank_agencies, ranking_to_json
from service.openapi import file_response
from service.params import AgencyFilter, BatchFilter, RoundRef, text_query
from service.queries import EXPORT_FORMATS, resolve_round, round_export
from service.tally_jsonl import parse_group_filter

Channel = Annotated[str | None, Query(pattern="^(paper|online)$", description="only paper sheets or only online answers")]

router = APIRouter(prefix="/api", tags=["results"])


GROUP_HELP = "respondent group QUESTION=VALUE, e.g. gioi_tinh=2 (repeatable: several questions must all match, " \
             "several values of one question are alternatives)"
PERIOD_HELP = "batches received in 2026, 2026-Q1, 2026-03, 2026-03-15 or 2026-03-01..2026-04-15 (Vietnam time)"

Period = Annotated[str | None, text_query(PERIOD_HELP, max_length=40)]
Groups = Annotated[list[str], Query(description=GROUP_HELP)]
ExportFormat = Literal["csv", "csv-labels", "xlsx", "sav", "json"]
ReportFormat = Literal["html", "pdf"]


def _filters(t: Any, period: str | None, group: list[str]) -> tuple[tallies.Period | None, dict[str, list[int]]]:
    """The period and respondent-group query parameters, checked against the round's template (422 naming the problem)."""
    try:
        when = tallies.parse_period(period) if period else None
    except ValueError as exc:  # names the problem; the period is at most 40 characters
        raise ApiError(422, str(exc)) from None
    except OverflowError:  # a day at the ends of the calendar (0001-01-01) has no UTC time
        raise ApiError(422, f"period {period[:40]!r}: a day out of the calendar's range") from None
    single = {q.id: q for _, q in t.questions() if q.kind == "single"}
    groups: dict[str, list[int]] = {}
    for g in group:
        try:
            qid, value = parse_group_filter(g)
        except ValueError:
            raise ApiError(422, f"group {g[:60]!r}: write QUESTION=VALUE, e.g. gioi_tinh=2") from None
        q = single.get(qid)
        if q is None:
            raise ApiError(422, f"group {g[:60]!r}: {qid[:40]!r} is not a single-choice question of {t.id} "
                                f"(these are: {', '.join(single)})")
        known = [o.value for o in q.option_list]
        if value not in known:
            raise ApiError(422, f"group {g[:60]!r}: {qid} has the values {', '.join(map(str, known))}")
        groups.setdefault(qid, []).append(value)
    return when, groups


def ascii_filename(name: str) -> str:
    """The file name in plain ASCII for old clients: Vietnamese letters without their marks (đ → d), other
    characters that cannot stand in a quoted header value replaced by '_'."""
    name = name.replace("đ", "d").replace("Đ", "D")
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    return "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in plain)


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """A Content-Disposition header value with the UTF-8 name (RFC 6266 / RFC 5987 ``filename*``) and an ASCII fallback."""
    return f"{disposition}; filename=\"{ascii_filename(filename)}\"; filename*=UTF-8''{urllib.parse.quote(filename, safe='')}"


@router.get("/tallies")
def get_tallies(s: SessionDep, user: AnyUser, round: RoundRef, agency: AgencyFilter = None, batch: BatchFilter = None,
                period: Period = None, group: Groups = [], channel: Channel = None) -> dict[str, Any]:  # noqa: B006
    """Counts per single-choice question and option of a round (or one agency's, one batch's, a period's, a
    respondent group's), with the blanks and the answers still waiting for review."""
    r = resolve_round(s, round)
    t = load_template(r.template, version=r.version)
    when, groups = _filters(t, period, group)
    c = tallies.counts(s, r.id, agency=agency, batch=batch, period=when, groups=groups, channel=channel)
    questions = []
    for _, q in t.questions():
        if q.kind not in ("single",):
            continue
        d = c.get(q.id, {"values": {}, "blank": 0, "pending": 0, "multiple": 0})
        questions.append({
            "id": q.id, "text": q.text,
            "options": [{"value": o.value, "label": o.label, "count": d["values"].get(o.value, 0)} for o in q.option_list],
            "blank": d["blank"], "pending": d["pending"], "multiple": d["multiple"],
        })
    return {"round": r.name, "agency": agency, "batch": batch, "period": period, "group": group, "channel": channel,
            "questions": questions,
            "pending_review": sum(q["pending"] for q in questions)}


@router.get("/indices")
def get_indices(s: SessionDep, user: AnyUser, round: RoundRef, agency: AgencyFilter = None,
                agencies: Annotated[bool, Query(description="add every agency's indices, ranked, under the same filters")] = False,
                batch: BatchFilter = None, period: Period = None, group: Groups = [],  # noqa: B006
                channel: Channel = None) -> dict[str, Any]:
    """The round's satisfaction indices (or one agency's), overall, per element and per criterion, with the n
    behind each; ``agencies=true`` adds every agency's, ranked (with the same filters)."""
    r = resolve_round(s, round)
    t = load_template(r.template, version=r.version)
    if t.indices is None:
        raise ApiError(422, f"template {t.id} defines no indices")
    when, groups = _filters(t, period, group)
    out = tallies.indices(s, t, r.id, agency=agency, batch=batch, period=when, groups=groups, channel=channel).to_json()
    if agency is None and agencies:
        per = tallies.indices_by_agency(s, t, r.id, batch=batch, period=when, groups=groups, channel=channel)
        out["agencies"] = ranking_to_json(rank_agencies(per)) if per else []
        rates = response_rates(s, r.id)
        for a in out["agencies"]:  # printed through the service: returned / printed per agency
            if (rate := rates.get(a.get("agency") or "")) is not None:
                a.update(printed=rate["printed"], returned=rate["returned"], response_rate=rate["response_rate"])
    out.update(round=r.name, agency=agency, batch=batch, period=period, group=group, channel=channel)
    return out


@router.get("/export", response_class=Response,
            responses={200: file_response("the file, named after the round",
                                          *dict.fromkeys(m for m, _ in EXPORT_FORMATS.values()))})
def export(s: SessionDep, user: AnyUser, round: RoundRef,
           format: Annotated[ExportFormat, Query(description="csv (codes), csv-labels (Vietnamese headers and option "
                                                             "labels), xlsx, sav (SPSS) or json")] = "csv",
           agency: AgencyFilter = None) -> Response:
    """The round's answers (and, in xlsx and json, its indices) as a file: the same bytes as ``omr export``."""
    e = round_export(s, round, format, agency=agency)
    return Response(e.data, media_type=e.media_type, headers={"Content-Disposition": content_disposition(e.filename)})


@router.get("/report", response_class=Response,
            responses={200: file_response("the report: a web page, or a PDF to print", "text/html", "application/pdf")})
def report(s: SessionDep, user: AnyUser, round: RoundRef,
           format: Annotated[ReportFormat, Query(description="html (a page) or pdf")] = "html") -> Response:
    """The round's report: indices per element and criterion, charts, and the agencies ranked when there are several."""
    from service.report import build_report, render_html, render_pdf

    r = resolve_round(s, round)
    t = load_template(r.template, version=r.version)
    result = tallies.indices(s, t, r.id)
    per = tallies.indices_by_agency(s, t, r.id)
    ctx = build_report(t, result, round_name=r.name, ranking=rank_agencies(per) if len(per) > 1 else None, date=date.today())
    name = "Báo cáo " + r.name.replace("/", "-")
    if format == "pdf":
        return Response(render_pdf(ctx), media_type="application/pdf",
                        headers={"Content-Disposition": content_disposition(name + ".pdf")})
    return Response(render_html(ctx), media_type="text/html; charset=utf-8",
                    headers={"Content-Disposition": content_disposition(name + ".html", "inline")})
