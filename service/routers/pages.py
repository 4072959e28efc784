from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from sqlalchemy import select

from service.deps import AnyUser, SessionDep
from service.errors import ApiError
from service.models import AuditEntry, Page
from service.queries import page_json

router = APIRouter(prefix="/api", tags=["pages"])


def _page(s, page_id: int) -> Page:  # noqa: ANN001
    p = s.get(Page, page_id)
    if p is None:
        raise ApiError(404, f"no page {page_id}")
    return p


@router.get("/pages/{page_id}")
def get_page(page_id: int, s: SessionDep, user: AnyUser) -> dict[str, Any]:
    return page_json(s, _page(s, page_id))


@router.get("/pages/{page_id}/image", response_class=FileResponse)
def page_image(page_id: int, request: Request, s: SessionDep, user: AnyUser) -> FileResponse:
    p = _page(s, page_id)
    if not p.image_sha256:
        raise ApiError(404, "this page has no image (the file could not be read)")
    return FileResponse(request.app.state.store.path("pages", p.image_sha256, ".png"), media_type="image/png",
                        headers={"Cache-Control": "private, max-age=86400"})


@router.get("/pages/{page_id}/aligned", response_class=FileResponse)
def page_aligned(page_id: int, request: Request, s: SessionDep, user: AnyUser) -> FileResponse:
    p = _page(s, page_id)
    if not p.aligned_sha256:
        raise ApiError(404, "this page could not be aligned to a form")
    return FileResponse(request.app.state.store.path("aligned", p.aligned_sha256, ".jpg"), media_type="image/jpeg",
                        headers={"Cache-Control": "private, max-age=86400"})


@router.get("/pages/{page_id}/audit")
def page_audit(page_id: int, s: SessionDep, user: AnyUser) -> list[dict[str, Any]]:
    _page(s, page_id)
    rows = s.scalars(select(AuditEntry).where(AuditEntry.page_id == page_id).order_by(AuditEntry.id))
    return [{"at": a.at.isoformat(), "user": a.user, "action": a.action, "field_id": a.field_id, "old": a.old, "new": a.new} for a in rows]
