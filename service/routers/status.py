"""What the office pages need to know about the service itself: its upload limits and the last backup."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from service.backup import last_backup
from service.deps import Admin, AnyUser

router = APIRouter(prefix="/api", tags=["service"])


@router.get("/limits")
def upload_limits(request: Request, user: AnyUser) -> dict[str, Any]:
    """The limits ``POST /api/batches`` applies (Settings): the upload page checks files against them before
    sending, so a file it lets through is not refused for its size or type."""
    s = request.app.state.settings
    return {"max_file_mb": s.max_file_mb, "max_batch_mb": s.max_batch_mb, "max_files": s.max_files,
            "accepted_types": [x.lstrip(".") for x in s.allowed_suffixes]}


@router.get("/backup")
def backup_status(request: Request, user: Admin) -> dict[str, Any]:
    """The last ``omr backup`` of this data directory: ``{"last": null}`` when there has been none, else
    ``{"last": {"at", "dir", "database", "store_files", "pages", …}}`` (the backup's manifest)."""
    return {"last": last_backup(request.app.state.settings.data_dir)}
