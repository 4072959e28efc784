"""Pages as read: the answers, the scanned and aligned images, the audit trail."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from sqlalchemy import select

from service.deps import AnyUser, SessionDep
from service.errors import ApiError
from service.models import AuditEntry, Page
from service.openapi import NOT_FOUND, file_response
from service.params import PageId
from service.queries import page_json

router = APIRouter(prefix="/api", tags=["pages"], responses={404: NOT_FOUND})


def _page(s, page_id: int) -> Page:  # noqa: ANN001
    p = s.get(Page, page_id)
    if p is None:
        raise ApiError(404, f"no page {page_id}")
    return p


@router.get("/pages/{page_id}")
def get_page(page_id: PageId, s: SessionDep, user: AnyUser) -> dict[str, Any]:
    """One page as read: its form, sheet, page number, agency, every field's value, status, confidence and source,
    and the URLs of its images."""
    return page_json(s, _page(s, page_id))


@router.get("/pages/{page_id}/image", response_class=FileResponse,
            responses={200: file_response("the page as scanned", "image/png")})
def page_image(page_id: PageId, request: Request, s: SessionDep, user: AnyUser) -> FileResponse:
    """The page as scanned (PNG); 404 when the file could not be read."""
    p = _page(s, page_id)
    if not p.image_sha256:
        raise ApiError(404, "this page has no image (the file could not be read)")
    return FileResponse(request.app.state.store.path("pages", p.image_sha256, ".png"), media_type="image/png",
                        headers={"Cache-Control": "private, max-age=86400"})


@router.get("/pages/{page_id}/aligned", response_class=FileResponse,
            responses={200: file_response("the page aligned to its form, 8 px/mm", "image/jpeg")})
def page_aligned(page_id: PageId, request: Request, s: SessionDep, user: AnyUser) -> FileResponse:
    """The page aligned to its form's geometry (JPEG, 8 px/mm); 404 when it could not be aligned."""
    p = _page(s, page_id)
    if not p.aligned_sha256:
        raise ApiError(404, "this page could not be aligned to a form")
    return FileResponse(request.app.state.store.path("aligned", p.aligned_sha256, ".jpg"), media_type="image/jpeg",
                        headers={"Cache-Control": "private, max-age=86400"})


@router.get("/pages/{page_id}/audit")
def page_audit(page_id: PageId, s: SessionDep, user: AnyUser) -> list[dict[str, Any]]:
    """Every change to the page's answers and placement, oldest first: who, when, what it was and what it became."""
    _page(s, page_id)
    rows = s.scalars(select(AuditEntry).where(AuditEntry.page_id == page_id).order_by(AuditEntry.id))
    return [{"at": a.at.isoformat(), "user": a.user, "action": a.action, "field_id": a.field_id, "old": a.old, "new": a.new} for a in rows]
