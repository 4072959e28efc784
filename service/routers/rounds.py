from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select

from omr.errors import TemplateError
from omr.template import list_templates, load_template
from service.deps import Admin, AnyUser, SessionDep
from service.errors import ApiError
from service.models import Round

router = APIRouter(prefix="/api", tags=["rounds"])


class RoundCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    template: str
    period: str = ""


def _round_json(r: Round) -> dict[str, Any]:
    return {"id": r.id, "name": r.name, "template": r.template, "version": r.version, "period": r.period}


@router.post("/rounds", status_code=201)
def create_round(body: RoundCreate, s: SessionDep, user: Admin) -> dict[str, Any]:
    try:
        t = load_template(body.template)
    except TemplateError as exc:
        raise ApiError(422, f"template: {exc.message}") from None
    if s.scalar(select(Round).where(Round.name == body.name)):
        raise ApiError(409, f"a round named {body.name!r} exists already (đợt khảo sát đã tồn tại)")
    r = Round(name=body.name, template=t.id, version=t.version, period=body.period)
    s.add(r)
    s.commit()
    return _round_json(r)


@router.get("/rounds")
def rounds(s: SessionDep, user: AnyUser) -> list[dict[str, Any]]:
    return [_round_json(r) for r in s.scalars(select(Round).order_by(Round.id))]


@router.get("/templates")
def templates(user: AnyUser) -> list[dict[str, Any]]:
    out = []
    for name in list_templates():
        try:
            t = load_template(name)
        except TemplateError:
            continue
        out.append({"id": t.id, "version": t.version, "title": t.title, "subtitle": t.subtitle, "pages": t.page_count})
    return out
