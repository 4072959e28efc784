"""Online answers imported into a round (CSV or XLSX of an online survey, mapped onto the questionnaire)."""
from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from sqlalchemy import select

from omr.template import load_template
from service.deps import Admin, AnyUser, SessionDep
from service.errors import ApiError
from service.params import holds_nul, id_path
from service.guards import require_open
from service.models import AuditEntry, ImportMapping, Round
from service.online_import import ImportError_, import_online, save_mapping
from service.templates import known_template
from service.tables import TableError

router = APIRouter(prefix="/api", tags=["online answers"])
MAX_IMPORT_BYTES = 20 << 20
RoundId = Annotated[int, id_path("round")]


@router.post("/rounds/{round_id}/imports")
def import_answers(
    round_id: RoundId, request: Request, s: SessionDep, user: Admin,
    file: Annotated[UploadFile, File(description="CSV (UTF-8) or XLSX: one row per respondent, a header row")],
    mapping: Annotated[str | None, Form(max_length=20_000, description='JSON {"column header": "question id" | "agency" | "skip"}; default: the saved mapping, else headers matched to questions')] = None,
    dry_run: Annotated[bool, Form(description="check every row, take none")] = False,
) -> dict[str, Any]:
    """Import an online survey's answers: valid rows become respondents of channel ``online``; each refused row
    is reported with its row number and column. The mapping used is saved for the questionnaire."""
    r = s.get(Round, round_id)
    if r is None:
        raise ApiError(404, f"no round {round_id}")
    require_open(s, r.id)
    t = load_template(r.template, version=r.version)
    data = file.file.read(MAX_IMPORT_BYTES + 1)
    name = (file.filename or "online.csv").replace("\x00", "")
    if len(data) > MAX_IMPORT_BYTES:
        raise ApiError(413, f"{name[:100]}: larger than {MAX_IMPORT_BYTES >> 20} MB")
    parsed = None
    if mapping:
        try:
            parsed = json.loads(mapping)
        except ValueError:
            raise ApiError(422, "mapping: not valid JSON") from None
        if holds_nul(parsed):
            raise ApiError(422, "mapping: holds a NUL character (U+0000)")
        if not isinstance(parsed, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in parsed.items()):
            raise ApiError(422, 'mapping: an object {"column header": "question id"}')
    try:
        report = import_online(s, r, t, name, data, request.app.state.store, user.name, mapping=parsed, dry_run=dry_run)
    except TableError as exc:
        raise ApiError(415 if "send an .xlsx" in str(exc) else 422, str(exc)) from None
    except ImportError_ as exc:
        raise ApiError(422, str(exc)) from None
    if report.duplicate:
        raise ApiError(409, f"{name[:100]}: this file was imported into the round before; nothing was taken twice "
                            f"(tệp này đã được nhập)")
    if not dry_run:
        if parsed is not None:
            save_mapping(s, t, parsed, user.name)
        s.add(AuditEntry(user=user.name, action="import online", new={"file": name[:200], "round": r.id, "taken": report.taken,
                                                                    "refused": report.refused, "batch": report.batch}))
        s.commit()
    return {**report.to_json(), "dry_run": dry_run}


@router.get("/templates/{template_id}/{version}/import-mapping")
def import_mapping(template_id: Annotated[str, Path(max_length=80)], version: Annotated[int, Path(ge=1, le=10_000)],
                   s: SessionDep, user: AnyUser) -> dict[str, Any]:
    """The column mapping last used to import online answers for this questionnaire (empty if none)."""
    t = known_template(template_id)
    row = s.scalar(select(ImportMapping).where(ImportMapping.template == t.id, ImportMapping.version == version))
    return {"template": t.id, "version": version, "mapping": row.mapping if row else {},
            "updated_by": row.updated_by if row else None}
