"""Data functions shared by the routers: take the session, leave the commit to the caller."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from omr.pipeline import BLANK_PAGE
from omr.template import load_template
from service import exports, tallies
from service.errors import ApiError
from service.indices import rank_agencies
from service.models import Answer, Batch, Page, ReviewItem, Round, UploadedFile
from service.params import MAX_ROUND_REF, id_in_range


def resolve_round(s: Session, ref: str | int | None) -> Round:
    """The round named by ``ref``: its id (ASCII digits, 1..2^31-1) or its name; 422 or 404 otherwise."""
    if ref is None or ref == "":
        raise ApiError(422, "say which round: round=ID or round=NAME")
    text = str(ref)
    if "\x00" in text or len(text) > MAX_ROUND_REF:
        raise ApiError(422, f"round: an id or a name of at most {MAX_ROUND_REF} characters, without NUL")
    r = None
    # str.isdigit() is true for '³' and other digits int() refuses; only ASCII digits are an id
    if isinstance(ref, int) or re.fullmatch(r"[0-9]{1,10}", text):
        n = int(text)
        if id_in_range(n):
            r = s.get(Round, n)
    if r is None:
        r = s.scalar(select(Round).where(Round.name == text))
    if r is None:
        raise ApiError(404, f"no round {text[:80]!r} (không tìm thấy đợt khảo sát)")
    return r


def batch_summary(s: Session, b: Batch) -> dict[str, Any]:
    # files before pages: each query sees the latest commit, and a split commits the file's state with its pages,
    # so a file read as split always comes with its pages (pages first could see none, then a split file: "failed")
    files = s.scalars(select(UploadedFile).where(UploadedFile.batch_id == b.id).order_by(UploadedFile.id)).all()
    counts = dict(s.execute(select(Page.status, func.count()).where(Page.batch_id == b.id).group_by(Page.status)).all())
    pending_files = sum(1 for f in files if f.status == "pending")
    total = sum(counts.values())
    done = counts.get("done", 0) + counts.get("rejected", 0)
    failed = counts.get("error", 0)
    review = s.scalar(select(func.count()).select_from(ReviewItem).where(ReviewItem.batch_id == b.id, ReviewItem.state == "pending"))
    blank = s.scalar(select(func.count()).select_from(Page).where(
        Page.batch_id == b.id, Page.result_status == "unrecognized", Page.error == BLANK_PAGE))
    if pending_files == 0 and total and done + failed == total:
        status = "failed" if done == 0 else "done"
    elif pending_files == 0 and total == 0:
        # only re-uploads of files the round already has: nothing new, nothing failed
        status = "done" if files and all(f.status == "duplicate" for f in files) else "failed"
    elif counts.get("processing") or done or failed or any(f.status != "pending" for f in files):
        status = "processing"
    else:
        status = "queued"
    errors = [{"file": f.filename, "error": f.error} for f in files if f.error]
    for p, fname in s.execute(
        select(Page, UploadedFile.filename).join(UploadedFile, UploadedFile.id == Page.file_id)
        .where(Page.batch_id == b.id, Page.status == "error").order_by(Page.id)
    ):
        errors.append({"file": fname, "page": p.index + 1, "page_id": p.id, "error": p.error})
    # what the engine worked around but the operator should know (clean the scanner glass, ...)
    warnings = [
        {"file": fname, "page": idx + 1, "page_id": pid, "warning": w}
        for pid, idx, text, fname in s.execute(
            select(Page.id, Page.index, Page.warnings, UploadedFile.filename).join(UploadedFile, UploadedFile.id == Page.file_id)
            .where(Page.batch_id == b.id, Page.warnings.is_not(None)).order_by(Page.id)
        )
        for w in json.loads(text)
    ]
    return {
        "id": b.id, "status": status, "pages_total": total, "pages_done": done, "pages_failed": failed,
        "review_pending": review, "pages_blank": blank, "round_id": b.round_id, "agency": b.agency,
        "files": [{"name": f.filename, "sha256": f.sha256, "status": f.status, "duplicate_of": f.duplicate_of} for f in files],
        "errors": errors,
        "warnings": warnings,
    }


def answer_json(a: Answer) -> dict[str, Any]:
    out: dict[str, Any] = {"value": a.value, "status": a.status, "confidence": a.confidence, "source": a.source}
    if a.reason:
        out["reason"] = a.reason
    if a.text_suggestion:
        out["text_suggestion"] = a.text_suggestion
    return out


def _page_fields(template: str | None, version: int | None) -> dict[str, Any]:
    """Field id -> its geometry (question as printed, kind, options), for the page's form; empty if unknown."""
    if not template:
        return {}
    try:
        from omr.layout import layout

        t = load_template(template, version=version)
    except Exception:  # noqa: BLE001 - a page of an unknown or broken form still shows its answers
        return {}
    return {f.id: f for pg in layout(t).pages for f in pg.fields}


def _value_label(f: Any, value: Any) -> str | None:
    """The option label(s) a value stands for ("Hài lòng"; "Đất đai; Khác"), or None (text, code, blank)."""
    labels = {o.value: o.label for o in f.options if o.digit is None and o.label}
    if f.kind == "single" and isinstance(value, int):
        return labels.get(value)
    if f.kind == "multiple" and isinstance(value, list) and value:
        return "; ".join(labels.get(v, str(v)) for v in value)
    return None


def page_json(s: Session, p: Page) -> dict[str, Any]:
    f = s.get(UploadedFile, p.file_id)
    answers = s.scalars(select(Answer).where(Answer.page_id == p.id).order_by(Answer.id)).all()
    geo = _page_fields(p.template, p.version)
    fields = {a.field_id: answer_json(a) for a in answers}
    for fid, d in fields.items():
        if fid in geo:
            d["question"], d["kind"] = geo[fid].text, geo[fid].kind
            if (label := _value_label(geo[fid], d["value"])) is not None:
                d["label"] = label
    return {
        "id": p.id, "batch_id": p.batch_id, "round_id": p.round_id, "source": f.filename if f else None, "index": p.index,
        "status": p.result_status or p.status, "state": p.status, "error": p.error, "template": p.template,
        "version": p.version, "sheet": p.sheet, "page": p.page_no, "agency": p.agency,
        "alignment_quality": p.alignment_quality, "identified_by": p.identified_by, "duplicate_of": p.duplicate_of,
        "warnings": json.loads(p.warnings) if p.warnings else [],
        "fields": fields,
        "image_url": f"/api/pages/{p.id}/image" if p.image_sha256 else None,
        "aligned_image_url": f"/api/pages/{p.id}/aligned" if p.aligned_sha256 else None,
    }


# format -> (media type, file name suffix); csv-labels: Vietnamese headers and option labels instead of codes
EXPORT_FORMATS: dict[str, tuple[str, str]] = {
    "csv": ("text/csv; charset=utf-8", ".csv"),
    "csv-labels": ("text/csv; charset=utf-8", "-nhan.csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
    "sav": ("application/x-spss-sav", ".sav"),
    "json": ("application/json", ".json"),
}


@dataclass(frozen=True, slots=True)
class RoundExport:
    data: bytes
    media_type: str
    filename: str


def round_export(s: Session, round_ref: str | int, fmt: str, *, agency: str | None = None) -> RoundExport:
    """A round's answers (and indices) as a file: the bytes of ``GET /api/export`` and ``omr export``."""
    if fmt not in EXPORT_FORMATS:
        raise ApiError(422, f"unknown format {fmt!r}: format is {', '.join(EXPORT_FORMATS)}")
    r = resolve_round(s, round_ref)
    t = load_template(r.template, version=r.version)
    rows = tallies.sheets(s, r.id, agency=agency)
    if fmt in ("csv", "csv-labels"):
        data = exports.csv_bytes(t, rows, labelled=fmt == "csv-labels")
    elif fmt == "sav":
        data = exports.sav_bytes(t, rows)
    else:
        result = tallies.indices(s, t, r.id, agency=agency)
        per = tallies.indices_by_agency(s, t, r.id) if agency is None else {}
        ranking = rank_agencies(per) if per else None
        if fmt == "xlsx":
            data = exports.xlsx_bytes(t, rows, result, ranking=ranking)
        else:
            data = exports.json_bytes(t, rows, result, ranking=ranking, meta={"round": r.name, "period": r.period})
    media, suffix = EXPORT_FORMATS[fmt]
    return RoundExport(data, media, r.name.replace("/", "-") + suffix)
