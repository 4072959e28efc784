"""Agencies surveyed: list, create, edit, and import a list from XLSX or CSV (errors per row)."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Path, Query, UploadFile
from pydantic import Field
from sqlalchemy import select

from omr.identity import valid_agency
from service.deps import Admin, AnyUser, SessionDep
from service.errors import ApiError
from service.models import Agency, AuditEntry
from service.params import RequestBody
from service.tables import TableError, fold, read_table

router = APIRouter(prefix="/api", tags=["agencies"])

MAX_IMPORT_BYTES = 5 << 20
MAX_IMPORT_ROWS = 5000
KIND_LABELS = {"tinh": "Tỉnh", "so": "Sở", "nganh": "Ngành", "huyen": "Huyện", "xa": "Xã", "khac": "Khác"}
CodePath = Annotated[str, Path(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9._-]+$", description="agency code")]


class AgencyCreate(RequestBody):
    code: str = Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9._-]+$", description="short code printed in the QR code, e.g. SNV")
    name: str = Field(min_length=1, max_length=200, description="full name, e.g. Sở Nội vụ")
    kind: str = Field("khac", description="tinh | so | nganh | huyen | xa | khac")
    parent: str | None = Field(None, max_length=20, description="the parent agency's code")
    active: bool = True


class AgencyUpdate(RequestBody):
    name: str | None = Field(None, min_length=1, max_length=200)
    kind: str | None = None
    parent: str | None = Field(None, max_length=20, description="the parent agency's code; empty string: none")
    active: bool | None = None


def agency_json(a: Agency) -> dict[str, Any]:
    return {"code": a.code, "name": a.name, "kind": a.kind, "kind_label": KIND_LABELS.get(a.kind, a.kind),
            "parent": a.parent, "active": a.active}


def _kind(value: str | None) -> str:
    """A kind as code or as its Vietnamese name, with or without diacritics ("Sở", "so", "SO")."""
    v = fold(value or "khac")
    for code, label in KIND_LABELS.items():
        if v in (code, fold(label)):
            return code
    raise ValueError(f"kind {str(value)[:20]!r}: one of {', '.join(KIND_LABELS.values())}")


def _check_parent(s, code: str, parent: str | None, pending: dict[str, str | None] | None = None) -> str | None:  # noqa: ANN001
    if not parent:
        return None
    if parent == code:
        raise ValueError("an agency cannot be its own parent")
    known = s.scalar(select(Agency.code).where(Agency.code == parent)) or (parent if pending and parent in pending else None)
    if known is None:
        raise ValueError(f"parent {parent!r} is not a known agency")
    seen, cur = {code}, parent  # no cycle through existing parents
    while cur:
        if cur in seen:
            raise ValueError(f"parent {parent!r} would make a cycle")
        seen.add(cur)
        cur = (pending or {}).get(cur) if pending and cur in pending else s.scalar(select(Agency.parent).where(Agency.code == cur))
    return parent


@router.get("/agencies")
def list_agencies(s: SessionDep, user: AnyUser, active: Annotated[bool | None, Query(description="only active (true) or inactive (false)")] = None) -> list[dict[str, Any]]:
    """Every agency, by code."""
    q = select(Agency).order_by(Agency.code)
    if active is not None:
        q = q.where(Agency.active.is_(active))
    return [agency_json(a) for a in s.scalars(q)]


@router.post("/agencies", status_code=201)
def create_agency(body: AgencyCreate, s: SessionDep, user: Admin) -> dict[str, Any]:
    """Create an agency (409 if the code exists)."""
    if s.scalar(select(Agency).where(Agency.code == body.code)):
        raise ApiError(409, f"agency {body.code} exists already (mã đơn vị đã có)")
    try:
        kind = _kind(body.kind)
        parent = _check_parent(s, body.code, body.parent)
    except ValueError as exc:
        raise ApiError(422, str(exc)) from None
    a = Agency(code=body.code, name=body.name.strip(), kind=kind, parent=parent, active=body.active)
    s.add(a)
    s.add(AuditEntry(user=user.name, action="create agency", new=agency_json(a)))
    s.commit()
    return agency_json(a)


@router.patch("/agencies/{code}")
def update_agency(code: CodePath, body: AgencyUpdate, s: SessionDep, user: Admin) -> dict[str, Any]:
    """Change an agency's name, kind, parent or state (inactive agencies stay in earlier rounds' figures)."""
    a = s.scalar(select(Agency).where(Agency.code == code))
    if a is None:
        raise ApiError(404, f"no agency {code}")
    old = agency_json(a)
    try:
        if body.name is not None:
            a.name = body.name.strip()
        if body.kind is not None:
            a.kind = _kind(body.kind)
        if body.parent is not None:
            a.parent = _check_parent(s, code, body.parent or None)
    except ValueError as exc:
        raise ApiError(422, str(exc)) from None
    if body.active is not None:
        a.active = body.active
    s.add(AuditEntry(user=user.name, action="edit agency", old=old, new=agency_json(a)))
    s.commit()
    return agency_json(a)


HEADERS = {  # column header (folded) -> field
    "code": "code", "ma": "code", "ma don vi": "code",
    "name": "name", "ten": "name", "ten don vi": "name",
    "kind": "kind", "loai": "kind", "cap": "kind",
    "parent": "parent", "ma cap tren": "parent", "don vi cap tren": "parent", "cap tren": "parent",
    "active": "active", "hoat dong": "active", "con hoat dong": "active",
}
YES = {"", "1", "true", "yes", "co", "x"}
NO = {"0", "false", "no", "khong"}


def _rows(data: bytes, filename: str) -> list[list[str]]:
    try:
        return read_table(data, filename, max_rows=MAX_IMPORT_ROWS + 1)
    except TableError as exc:
        raise ApiError(415 if "send an .xlsx" in str(exc) else 422, str(exc)) from None


@router.post("/agencies/import")
def import_agencies(s: SessionDep, user: Admin, file: Annotated[UploadFile, File(description="XLSX or CSV: Mã, Tên, Loại, Mã cấp trên, Hoạt động")],
                    dry_run: Annotated[bool, Query(description="check only, change nothing")] = False) -> dict[str, Any]:
    """Create or update agencies from a list, all or nothing: any row in error and none is taken (422 with an
    error per row: its number as the spreadsheet shows it, the column and the problem)."""
    data = file.file.read(MAX_IMPORT_BYTES + 1)
    name = file.filename or "upload"
    if len(data) > MAX_IMPORT_BYTES:
        raise ApiError(413, f"{name[:100]}: larger than {MAX_IMPORT_BYTES >> 20} MB")
    rows = [r for r in _rows(data, name)]
    if not rows:
        raise ApiError(422, f"{name[:100]}: the file is empty")
    header = [HEADERS.get(fold(h)) for h in rows[0]]
    if "code" not in header or "name" not in header:
        raise ApiError(422, f"{name[:100]}: the first row must name the columns: Mã, Tên (and Loại, Mã cấp trên, Hoạt động)")
    if len(rows) - 1 > MAX_IMPORT_ROWS:
        raise ApiError(413, f"{name[:100]}: more than {MAX_IMPORT_ROWS} rows")
    errors: list[dict[str, Any]] = []
    parsed: list[dict[str, Any]] = []
    codes: dict[str, int] = {}
    for n, row in enumerate(rows[1:], start=2):
        if not any(row):
            continue
        d = {f: (row[i] if i < len(row) else "") for i, f in enumerate(header) if f}

        def err(col: str, msg: str) -> None:
            errors.append({"row": n, "column": col, "error": msg})

        code = d.get("code", "")
        if not code or not valid_agency(code):
            err("code", f"code {code[:30]!r}: 1 to 20 letters, digits, '.', '_' or '-'")
        elif code in codes:
            err("code", f"code {code} is also on row {codes[code]}")
        else:
            codes[code] = n
        if not d.get("name") or len(d["name"]) > 200:
            err("name", "a name of 1 to 200 characters")
        try:
            kind = _kind(d.get("kind"))
        except ValueError as exc:
            err("kind", str(exc))
            kind = "khac"
        active = fold(d.get("active", ""))
        if active not in YES | NO:
            err("active", f"{d.get('active', '')[:20]!r}: write Có or Không")
        parsed.append({"row": n, "code": code, "name": d.get("name", ""), "kind": kind, "parent": d.get("parent") or None,
                       "active": active not in NO})
    pending = {p["code"]: p["parent"] for p in parsed if p["code"]}
    for p in parsed:
        if p["parent"] and p["code"]:
            try:
                _check_parent(s, p["code"], p["parent"], pending)
            except ValueError as exc:
                errors.append({"row": p["row"], "column": "parent", "error": str(exc)})
    if errors:
        raise ApiError(422, f"{name[:100]}: {len(errors)} error(s); nothing was imported", errors=errors[:500])
    created = updated = 0
    for p in parsed:
        a = s.scalar(select(Agency).where(Agency.code == p["code"]))
        if a is None:
            s.add(Agency(code=p["code"], name=p["name"], kind=p["kind"], parent=p["parent"], active=p["active"]))
            created += 1
        else:
            a.name, a.kind, a.parent, a.active = p["name"], p["kind"], p["parent"], p["active"]
            updated += 1
    if dry_run:
        s.rollback()
    else:
        s.add(AuditEntry(user=user.name, action="import agencies", new={"file": name[:200], "created": created, "updated": updated}))
        s.commit()
    return {"rows": len(parsed), "created": created, "updated": updated, "dry_run": dry_run, "errors": []}
