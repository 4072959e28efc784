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
from service.indices import PUBLISHED_DECIMALS, IndexSpec, add_agency_change, add_change, rank_agencies, ranking_to_json
from service.openapi import file_response
from service.params import MAX_ROUND_REF, AgencyFilter, BatchFilter, RoundRef, text_query
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


COMPARE_HELP = ("an earlier round of the same questionnaire (its id or name): adds `previous` and `change` (points, "
                "this round minus that one) beside the overall index, every element's and criterion's, and with "
                "agencies=true every agency's; the agency, group and channel filters apply to both rounds, period and "
                "batch to this one only. A round of another questionnaire is a 422")


def _respondent_groups(t: Any) -> list[dict[str, Any]]:
    """The questionnaire's respondent-group questions (``respondent_groups``) with their options: what ``group=`` takes."""
    qs = {q.id: q for _, q in t.questions()}
    return [{"id": qid, "text": qs[qid].text, "options": [{"value": o.value, "label": o.label} for o in qs[qid].option_list]}
            for qid in t.respondent_groups if qid in qs]


def _levels(t: Any) -> list[dict[str, Any]]:
    """The answer levels of the scale (value and label, e.g. 1 "Rất không hài lòng" .. 5 "Rất hài lòng")."""
    spec = IndexSpec.from_template(t)
    lo, hi = spec.scale
    labels = next((c.labels for e in spec.elements for c in e.criteria if c.labels), {})
    return [{"value": v, "label": labels.get(v, str(v))} for v in range(lo, hi + 1)]


def _earlier_round(s: Any, ref: str, r: Any) -> Any:
    """The round to compare with: of the same questionnaire (template id) and not this round itself; 422 otherwise."""
    e = resolve_round(s, ref)
    if e.template != r.template:
        raise ApiError(422, f"compare: round {e.name!r} is of questionnaire {e.template}, not {r.template} like {r.name!r}; "
                            "only rounds of the same questionnaire can be compared")
    if e.id == r.id:
        raise ApiError(422, f"compare: round {e.name!r} is the round itself; choose an earlier round")
    return e


def _ranking(s: Any, round_id: int, per: dict[str, Any], min_sample: int | None = None) -> list[dict[str, Any]]:
    """Every agency's indices, ranked (those under the round's minimum sample marked, not ranked), with its
    response rate when its forms were printed through the service."""
    out = ranking_to_json(rank_agencies(per, min_sample=min_sample)) if per else []
    rates = response_rates(s, round_id)
    for a in out:  # printed through the service: returned / printed per agency
        if (rate := rates.get(a.get("agency") or "")) is not None:
            a.update(printed=rate["printed"], returned=rate["returned"], response_rate=rate["response_rate"])
    return out


@router.get("/indices")
def get_indices(s: SessionDep, user: AnyUser, round: RoundRef, agency: AgencyFilter = None,
                agencies: Annotated[bool, Query(description="add every agency's indices, ranked, under the same filters")] = False,
                batch: BatchFilter = None, period: Period = None, group: Groups = [],  # noqa: B006
                channel: Channel = None,
                compare: Annotated[str | None, text_query(COMPARE_HELP, max_length=MAX_ROUND_REF)] = None) -> dict[str, Any]:
    """The round's satisfaction indices (or one agency's), overall, per element and per criterion, with the n
    behind each and each criterion's answer distribution (counts and shares); ``agencies=true`` adds every agency's,
    ranked (with the same filters); ``compare=ROUND`` adds the change against an earlier round of the same questionnaire."""
    r = resolve_round(s, round)
    t = load_template(r.template, version=r.version)
    if t.indices is None:
        raise ApiError(422, f"template {t.id} defines no indices")
    when, groups = _filters(t, period, group)
    earlier = _earlier_round(s, compare, r) if compare else None
    ranked = agency is None and agencies
    gkey = tuple(sorted((q, tuple(v)) for q, v in groups.items()))
    if ranked and batch is None:  # the round's figures and every agency's from the same grouped queries
        result, per = tallies.round_figures(s, t, r.id, period=when, groups=groups, channel=channel)
    else:
        result = tallies.cached(s, ("indices", r.id, t.id, t.version, agency, batch, when, gkey, channel),
                                lambda: tallies.indices(s, t, r.id, agency=agency, batch=batch, period=when, groups=groups,
                                                        channel=channel))
        per = tallies.indices_by_agency(s, t, r.id, batch=batch, period=when, groups=groups, channel=channel) if ranked else {}
    out = result.to_json()
    if ranked:
        out["agencies"] = _ranking(s, r.id, per, r.min_sample)
    if earlier is not None:
        te = load_template(earlier.template, version=earlier.version)
        if te.indices is None:
            raise ApiError(422, f"compare: template {te.id} of round {earlier.name!r} defines no indices")
        if ranked:
            before, before_per = tallies.round_figures(s, te, earlier.id, groups=groups, channel=channel)
            add_agency_change(out["agencies"], _ranking(s, earlier.id, before_per, earlier.min_sample))
        else:
            before = tallies.cached(s, ("indices", earlier.id, te.id, te.version, agency, None, None, gkey, channel),
                                    lambda: tallies.indices(s, te, earlier.id, agency=agency, groups=groups, channel=channel))
        add_change(out, before.to_json())
        out["compare"] = {"id": earlier.id, "name": earlier.name, "period": earlier.period, "version": earlier.version}
    out.update(round=r.name, agency=agency, batch=batch, period=period, group=group, channel=channel,
               round_id=r.id, template=r.template, levels=_levels(t), respondent_groups=_respondent_groups(t),
               published_decimals=PUBLISHED_DECIMALS, min_sample=r.min_sample)
    return out


@router.get("/export", response_class=Response,
            responses={200: file_response("the file, named after the round",
                                          *dict.fromkeys(m for m, _ in EXPORT_FORMATS.values()))})
def export(s: SessionDep, user: AnyUser, round: RoundRef,
           format: Annotated[ExportFormat, Query(description="csv (codes), csv-labels (Vietnamese headers and option "
                                                             "labels), xlsx, sav (SPSS) or json")] = "csv",
           agency: AgencyFilter = None, period: Period = None, group: Groups = [],  # noqa: B006
           channel: Channel = None) -> Response:
    """The round's answers (and, in xlsx and json, its indices) as a file: the same bytes as ``omr export``; the
    filters of /api/indices (agency, period, group, channel) select the sheets."""
    r = resolve_round(s, round)
    when, groups = _filters(load_template(r.template, version=r.version), period, group)
    e = round_export(s, r.id, format, agency=agency, period=when, groups=groups, channel=channel)
    return Response(e.data, media_type=e.media_type, headers={"Content-Disposition": content_disposition(e.filename)})


CHANNEL_NAMES = {"paper": "Giấy", "online": "Trực tuyến"}


def _filters_text(t: Any, agency: str | None, period: str | None, group: list[str], channel: str | None) -> str | None:
    """The filters in force, in Vietnamese, for the report's heading: "Cơ quan: SNV; Giới tính: Nữ; Kênh: Trực tuyến"."""
    qs = {q.id: q for _, q in t.questions()}
    parts = [f"Cơ quan: {agency}"] if agency else []
    if period:
        parts.append(f"Thời gian nhận phiếu: {period}")
    for g in group:
        qid, value = parse_group_filter(g)
        q = qs[qid]
        label = next((o.label for o in q.option_list if o.value == value), str(value))
        parts.append(f"{q.text.rstrip(':').strip()}: {label}")
    if channel:
        parts.append(f"Kênh: {CHANNEL_NAMES[channel]}")
    return "; ".join(parts) or None


@router.get("/report", response_class=Response,
            responses={200: file_response("the report: a web page, or a PDF to print", "text/html", "application/pdf")})
def report(s: SessionDep, user: AnyUser, round: RoundRef,
           format: Annotated[ReportFormat, Query(description="html (a page) or pdf")] = "html",
           agency: AgencyFilter = None, period: Period = None, group: Groups = [],  # noqa: B006
           channel: Channel = None) -> Response:
    """The round's report: indices per element and criterion, charts, and the agencies ranked when there are several;
    the filters of /api/indices (agency, period, group, channel) select the sheets and are named in its heading."""
    from service.report import build_report, render_html, render_pdf

    r = resolve_round(s, round)
    t = load_template(r.template, version=r.version)
    when, groups = _filters(t, period, group)
    f = {"period": when, "groups": groups, "channel": channel}
    result = tallies.indices(s, t, r.id, agency=agency, **f)
    per = tallies.indices_by_agency(s, t, r.id, **f) if agency is None else {}
    from service.quality import draw_pending, summary

    if r.state != "closed":
        draw_pending(s, r, wait=False)
    ctx = build_report(t, result, round_name=r.name, ranking=rank_agencies(per, min_sample=r.min_sample) if len(per) > 1 else None,
                       date=date.today(), filters=_filters_text(t, agency, period, group, channel),
                       quality=summary(s, r).to_json(), min_sample=r.min_sample)
    name = "Báo cáo " + r.name.replace("/", "-")
    if format == "pdf":
        return Response(render_pdf(ctx), media_type="application/pdf",
                        headers={"Content-Disposition": content_disposition(name + ".pdf")})
    return Response(render_html(ctx), media_type="text/html; charset=utf-8",
                    headers={"Content-Disposition": content_disposition(name + ".html", "inline")})
