from __future__ import annotations

import os
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from sqlalchemy import select

from omr.identity import valid_agency
from service.deps import AnyUser, Operator, SessionDep
from service.errors import ApiError
from service.models import Agency, Batch, UploadedFile
from service.queries import batch_summary, resolve_round

router = APIRouter(prefix="/api", tags=["batches"])


@router.post("/batches", status_code=201)
def upload_batch(
    request: Request,
    s: SessionDep,
    user: Operator,
    files: Annotated[list[UploadFile], File(description="scans: PDF, TIFF, JPEG, PNG")],
    round: Annotated[str, Form(description="round id or name")],
    agency: Annotated[str | None, Form()] = None,
) -> dict[str, Any]:
    settings = request.app.state.settings
    store = request.app.state.store
    r = resolve_round(s, round)
    if agency is not None and agency != "" and not valid_agency(agency):
        raise ApiError(422, f"agency code {agency!r}: up to 20 letters, digits, '.', '_' or '-'")
    if not files:
        raise ApiError(422, "no files in the upload (không có tệp nào)")
    if len(files) > settings.max_files:
        raise ApiError(413, f"{len(files)} files in one upload; the limit is {settings.max_files}")
    for f in files:
        suffix = os.path.splitext(f.filename or "")[1].lower()
        if suffix not in settings.allowed_suffixes:
            raise ApiError(415, f"{f.filename}: file type {suffix or '(none)'} is not accepted; send {', '.join(settings.allowed_suffixes)}")
    if agency and not s.scalar(select(Agency).where(Agency.code == agency)):
        s.add(Agency(code=agency, name=agency))
    b = Batch(round_id=r.id, agency=agency or None, created_by=user.name)
    s.add(b)
    s.flush()
    stored = []
    for f in files:
        try:
            sha, size = store.put_stream("files", f.file, limit=settings.max_file_mb << 20)
        except ValueError as exc:
            s.rollback()
            raise ApiError(413, f"{f.filename}: {exc}") from None
        earlier = s.scalar(
            select(UploadedFile).where(UploadedFile.round_id == r.id, UploadedFile.sha256 == sha,
                                       UploadedFile.status != "duplicate").order_by(UploadedFile.id).limit(1)
        )
        row = UploadedFile(batch_id=b.id, round_id=r.id, filename=f.filename or "upload", sha256=sha, size=size)
        if earlier is not None or sha in stored:
            row.status = "duplicate"
            row.duplicate_of = earlier.id if earlier else None
            row.error = "the same file was uploaded before in this round; its pages are not counted twice (tệp đã tải lên trước đó)"
        stored.append(sha)
        s.add(row)
    s.commit()
    request.app.state.wake()
    return {"id": b.id, "status": batch_summary(s, b)["status"]}


@router.get("/batches/{batch_id}")
def get_batch(batch_id: int, s: SessionDep, user: AnyUser) -> dict[str, Any]:
    b = s.get(Batch, batch_id)
    if b is None:
        raise ApiError(404, f"no batch {batch_id}")
    return batch_summary(s, b)


@router.get("/batches")
def list_batches(s: SessionDep, user: AnyUser, round: str | None = None) -> list[dict[str, Any]]:
    q = select(Batch).order_by(Batch.id)
    if round:
        q = q.where(Batch.round_id == resolve_round(s, round).id)
    return [batch_summary(s, b) for b in s.scalars(q)]
