"""Survey rounds and the questionnaire templates a round can use."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from omr.errors import TemplateError
from omr.template import list_templates, load_template
from service.deps import Admin, AnyUser, SessionDep
from service.errors import ApiError
from service.models import Round
from service.params import NO_NUL
from service.templates import known_template

router = APIRouter(prefix="/api", tags=["rounds"])


class RoundCreate(BaseModel):
    """A new survey round: its name, the questionnaire it uses, the period it covers."""

    name: str = Field(min_length=1, max_length=200, pattern=NO_NUL, description="the round's name, unique, up to 200 characters")
    template: str = Field(min_length=1, max_length=80, description="a known template id, as listed by GET /api/templates")
    period: str = Field("", max_length=80, pattern=NO_NUL, description="the period the round covers, free text (e.g. '2026')")


class RoundOut(BaseModel):
    """A survey round."""

    id: int
    name: str
    template: str = Field(description="the template id")
    version: int = Field(description="the template's version when the round was created")
    period: str


class TemplateOut(BaseModel):
    """A questionnaire template the service knows."""

    id: str
    version: int
    title: str
    subtitle: str | None = None
    pages: int = Field(description="printed pages per sheet")


def _round_json(r: Round) -> dict[str, Any]:
    return {"id": r.id, "name": r.name, "template": r.template, "version": r.version, "period": r.period}


@router.post("/rounds", status_code=201, response_model=RoundOut)
def create_round(body: RoundCreate, s: SessionDep, user: Admin) -> dict[str, Any]:
    """Create a survey round on a known template (admin). 409 when the name is taken, 422 for an unknown template."""
    t = known_template(body.template)
    if s.scalar(select(Round).where(Round.name == body.name)):
        raise ApiError(409, f"a round named {body.name[:80]!r} exists already (đợt khảo sát đã tồn tại)")
    r = Round(name=body.name, template=t.id, version=t.version, period=body.period)
    s.add(r)
    try:
        s.commit()
    except IntegrityError:  # the same name created at the same moment by another request
        s.rollback()
        raise ApiError(409, f"a round named {body.name[:80]!r} exists already (đợt khảo sát đã tồn tại)") from None
    return _round_json(r)


@router.get("/rounds", response_model=list[RoundOut])
def rounds(s: SessionDep, user: AnyUser) -> list[dict[str, Any]]:
    """Every survey round, oldest first."""
    return [_round_json(r) for r in s.scalars(select(Round).order_by(Round.id))]


@router.get("/templates", response_model=list[TemplateOut])
def templates(user: AnyUser) -> list[dict[str, Any]]:
    """The questionnaire templates a round can use (the shipped ones and those in OMR_TEMPLATE_PATH); broken ones are left out."""
    out = []
    for name in list_templates():
        try:
            t = load_template(name)
        except TemplateError:
            continue
        out.append({"id": t.id, "version": t.version, "title": t.title, "subtitle": t.subtitle, "pages": t.page_count})
    return out
