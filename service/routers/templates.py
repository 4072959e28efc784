"""The questionnaires the service knows, by id and version: their geometry, for pages that key answers in."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from omr.layout import geometry
from service.deps import AnyUser
from service.errors import ApiError
from service.templates import known_template

router = APIRouter(prefix="/api", tags=["templates"])


@router.get("/templates/{template_id}/{version}/geometry")
def template_geometry(template_id: Annotated[str, Path(max_length=80)], version: Annotated[int, Path(ge=1, le=10_000)],
                      user: AnyUser) -> dict[str, Any]:
    """Every page, marker, QR slot and field of one version of a questionnaire, in millimetres: the JSON of
    ``omr form geometry`` (fields with their kind, text as printed, options with value and label)."""
    t = known_template(template_id)
    if t.version != version:
        raise ApiError(404, f"{t.id} has version {t.version}, not {version}")
    return geometry(t)
