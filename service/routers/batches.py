from __future__ import annotations

import logging
import time
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from starlette.requests import ClientDisconnect

from omr.identity import valid_agency
from service.deps import AnyUser, CurrentUser, Operator, SessionDep
from service.errors import ApiError, brief
from service.models import Agency, Batch, Page, ReviewItem, UploadedFile
from service.guards import require_open
from service.params import BatchId, OptionalRoundRef
from service.queries import batch_summary, resolve_round
from service.uploads import ReceivedFile, UploadReceiver

router = APIRouter(prefix="/api", tags=["batches"])
log = logging.getLogger("omr.service")

DUPLICATE = "the same file was uploaded before in this round; its pages are not counted twice (tệp đã tải lên trước đó)"
RETRIED = "every page of this file failed; the same file was uploaded again and is read anew (tệp được tải lên lại)"

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["files", "round"],
            "properties": {
                "files": {"type": "array", "items": {"type": "string", "format": "binary"},
                          "description": "scans: PDF, TIFF, JPEG, PNG (repeatable)"},
                "round": {"type": "string", "description": "round id or name"},
                "agency": {"type": "string", "description": "agency code (optional)"},
            },
        }}},
    },
}


@router.post("/batches", status_code=201, openapi_extra=UPLOAD_BODY)
async def upload_batch(request: Request, user: Operator) -> dict[str, Any]:
    """Upload scans into a round: the files are streamed into the store as they arrive (the request guard
    has checked the caller before), each limited to ``max_file_mb`` and all together to ``max_batch_mb``."""
    app = request.app
    settings = app.state.settings

    async def early(name: str, value: str) -> None:  # a wrong round or agency is refused before the files come
        if name == "round":
            await run_in_threadpool(_round_id, app.state.factory, value)
        elif name == "agency":
            _check_agency(value)

    receiver = UploadReceiver(app.state.store, settings, on_field=early)
    try:
        try:
            fields, files = await receiver.receive(request)
        except ClientDisconnect:
            raise ApiError(400, "the upload was broken off before its end (tải lên bị ngắt)") from None
        if not files:
            raise ApiError(422, "no files in the upload (không có tệp nào)")
        result = await run_in_threadpool(_record_batch, app, user, fields.get("round"), fields.get("agency"), files)
    finally:
        with anyio.CancelScope(shield=True):  # even when the request is cancelled; off the event loop
            await anyio.to_thread.run_sync(receiver.discard)
    app.state.wake()
    return result


def _round_id(factory, ref: str | None) -> int:  # noqa: ANN001
    with factory() as s:
        r = resolve_round(s, ref)
        require_open(s, r.id)  # a closed round's figures are frozen: no more scans
        return r.id


def _check_agency(agency: str | None) -> None:
    if agency is not None and agency != "" and not valid_agency(agency):
        raise ApiError(422, f"agency code {brief(agency)}: up to 20 letters, digits, '.', '_' or '-'")


def _record_batch(app, user: CurrentUser, round_ref: str | None, agency: str | None,  # noqa: ANN001
                  files: list[ReceivedFile]) -> dict[str, Any]:
    _check_agency(agency)
    for f in files:
        f.open().commit("files")
    for attempt in range(4):
        try:
            with app.state.factory() as s:
                r = resolve_round(s, round_ref)
                require_open(s, r.id)
                if agency:
                    _ensure_agency(s, agency)
                b = Batch(round_id=r.id, agency=agency or None, created_by=user.name)
                s.add(b)
                s.flush()
                for f in files:
                    record_file(s, batch_id=b.id, round_id=r.id, filename=f.filename, sha256=f.sha256, size=f.size)
                s.commit()
                return {"id": b.id, "status": batch_summary(s, b)["status"]}
        except OperationalError as exc:  # a deadlock between two uploads (PostgreSQL) or a busy SQLite: again
            if attempt == 3 or not _transient(exc):
                raise
            log.warning("upload: %s; trying again", exc.orig.__class__.__name__ if exc.orig else exc)
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def _transient(exc: OperationalError) -> bool:
    code = getattr(exc.orig, "sqlstate", None)
    return code in ("40P01", "40001") or "database is locked" in str(exc.orig)


def _ensure_agency(s: Session, code: str) -> None:
    if s.scalar(select(Agency.id).where(Agency.code == code)) is None:
        try:
            with s.begin_nested():
                s.add(Agency(code=code, name=code))
        except IntegrityError:
            pass  # another upload added it at the same moment


def record_file(s: Session, *, batch_id: int, round_id: int, filename: str, sha256: str, size: int) -> UploadedFile:
    """Add an uploaded file to a batch: live when the round has no live file with these bytes, else a
    duplicate of that one, or a retry when every page of that one failed.

    The database decides (the partial unique index ``uq_files_round_sha_live``): the row is inserted as
    live in a savepoint and, when the index refuses it, the live row that holds the place is looked at.
    So two uploads of the same bytes at the same moment cannot both be live.
    """
    for _ in range(5):
        row = UploadedFile(batch_id=batch_id, round_id=round_id, filename=filename, sha256=sha256, size=size)
        try:
            with s.begin_nested():
                s.add(row)
            return row
        except IntegrityError:
            pass
        live = s.scalar(select(UploadedFile).where(UploadedFile.round_id == round_id, UploadedFile.sha256 == sha256,
                                                   UploadedFile.status.not_in(("duplicate", "retried")))
                        .order_by(UploadedFile.id).limit(1).execution_options(populate_existing=True))
        if live is None:
            continue  # the live row was retried by someone else meanwhile: try to take its place
        if all_pages_failed(s, live):
            # mark it retried only if it is still what we saw: of two retries at once, one takes the place
            with s.begin_nested():
                n = s.execute(update(UploadedFile).where(UploadedFile.id == live.id, UploadedFile.status == live.status)
                              .values(status="retried", error=func.coalesce(UploadedFile.error + "; ", "") + RETRIED)
                              .execution_options(synchronize_session="fetch")).rowcount
            if n:
                log.info("file %s of round %s: every page failed; taken again as a retry", live.id, round_id)
                # the old pages' "could not be read" items are settled by the retry itself
                s.execute(delete(ReviewItem).where(ReviewItem.state == "pending",
                                                   ReviewItem.page_id.in_(select(Page.id).where(Page.file_id == live.id))))
            continue
        dup = UploadedFile(batch_id=batch_id, round_id=round_id, filename=filename, sha256=sha256, size=size,
                           status="duplicate", duplicate_of=live.id, error=DUPLICATE)
        s.add(dup)
        s.flush()
        return dup
    raise ApiError(503, f"{brief(filename)}: the same file is being uploaded elsewhere at this moment; try again")


def all_pages_failed(s: Session, f: UploadedFile) -> bool:
    """A file that could not be split, or whose pages all ended in error: worth reading again."""
    if f.status == "error":
        return True
    if f.status != "split":
        return False  # still waiting to be split
    total, failed = s.execute(select(func.count(), func.count().filter(Page.status == "error"))
                              .where(Page.file_id == f.id)).one()
    return total > 0 and total == failed


@router.get("/batches/{batch_id}")
def get_batch(batch_id: BatchId, s: SessionDep, user: AnyUser) -> dict[str, Any]:
    """One batch: its state, pages read, failed and blank, items waiting for review, files, errors and warnings."""
    b = s.get(Batch, batch_id)
    if b is None:
        raise ApiError(404, f"no batch {batch_id}")
    return batch_summary(s, b)


@router.get("/batches")
def list_batches(s: SessionDep, user: AnyUser, round: OptionalRoundRef = None) -> list[dict[str, Any]]:
    """Every batch (of one round, with ``round``), as GET /api/batches/{id} gives each."""
    q = select(Batch).order_by(Batch.id)
    if round:
        q = q.where(Batch.round_id == resolve_round(s, round).id)
    return [batch_summary(s, b) for b in s.scalars(q)]
