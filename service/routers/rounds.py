"""Survey rounds: create, list, close and reopen."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from service.deps import Admin, AnyUser, SessionDep
from service.errors import ApiError
from service.models import Agency, AuditEntry, Round
from service.params import NO_NUL, RequestBody, id_path
from service.templates import known_template

router = APIRouter(prefix="/api", tags=["rounds"])


class RoundCreate(RequestBody):
    """A new survey round: its name, the questionnaire it uses, the period it covers."""

    name: str = Field(min_length=1, max_length=200, pattern=NO_NUL, description="the round's name, unique, up to 200 characters")
    template: str = Field(min_length=1, max_length=80, description="a known template id, as listed by GET /api/templates")
    version: int | None = Field(None, ge=1, le=10_000, description="the template's version (default: its latest)")
    period: str = Field("", max_length=80, pattern=NO_NUL, description="the period the round covers, free text (e.g. '2026')")
    targets: dict[str, int] | None = Field(None, description="the agencies surveyed and the sheets each should return: {\"SNV\": 400}")


class RoundUpdate(RequestBody):
    """What an admin changes about a round: its state (open/closed), name, period or targets."""

    state: str | None = Field(None, pattern="^(open|closed)$", description="closed: no more uploads or decisions, figures frozen")
    name: str | None = Field(None, min_length=1, max_length=200, pattern=NO_NUL)
    period: str | None = Field(None, max_length=80, pattern=NO_NUL)
    targets: dict[str, int] | None = Field(None, description="the agencies surveyed and their target sample")


class RoundOut(BaseModel):
    """A survey round."""

    id: int
    name: str
    template: str = Field(description="the template id")
    version: int = Field(description="the template's version when the round was created")
    period: str
    state: str = Field("open", description="open | closed")
    targets: dict[str, int] | None = None


def _round_json(r: Round) -> dict[str, Any]:
    return {"id": r.id, "name": r.name, "template": r.template, "version": r.version, "period": r.period,
            "state": r.state or "open", "targets": r.targets}


def _targets(s, targets: dict[str, int] | None) -> dict[str, int] | None:  # noqa: ANN001
    if targets is None:
        return None
    known = {a for (a,) in s.execute(select(Agency.code))}
    bad = [a for a in targets if a not in known]
    if bad:
        raise ApiError(422, f"targets: not known agencies: {', '.join(b[:20] for b in bad[:10])} (create them first)")
    if any(not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= 1_000_000 for n in targets.values()):
        raise ApiError(422, "targets: each agency's target is a whole number from 0 to 1,000,000")
    return dict(targets)


@router.post("/rounds", status_code=201, response_model=RoundOut)
def create_round(body: RoundCreate, s: SessionDep, user: Admin) -> dict[str, Any]:
    """Create a survey round on a known template (admin). 409 when the name is taken, 422 for an unknown template."""
    t = known_template(body.template, body.version)
    if s.scalar(select(Round).where(Round.name == body.name)):
        raise ApiError(409, f"a round named {body.name[:80]!r} exists already (đợt khảo sát đã tồn tại)")
    r = Round(name=body.name, template=t.id, version=t.version, period=body.period, targets=_targets(s, body.targets))
    s.add(r)
    try:
        s.commit()
    except IntegrityError:  # the same name created at the same moment by another request
        s.rollback()
        raise ApiError(409, f"a round named {body.name[:80]!r} exists already (đợt khảo sát đã tồn tại)") from None
    return _round_json(r)


@router.patch("/rounds/{round_id}", response_model=RoundOut)
def update_round(round_id: Annotated[int, id_path("round")], body: RoundUpdate, s: SessionDep, user: Admin) -> dict[str, Any]:
    """Close a round (no more uploads or decisions: its figures are frozen), reopen it (audited), or change its
    name, period or targets."""
    r = s.get(Round, round_id)
    if r is None:
        raise ApiError(404, f"no round {round_id}")
    old = _round_json(r)
    if body.name is not None and body.name != r.name:
        if s.scalar(select(Round).where(Round.name == body.name)):
            raise ApiError(409, f"a round named {body.name[:80]!r} exists already (đợt khảo sát đã tồn tại)")
        r.name = body.name
    if body.period is not None:
        r.period = body.period
    if body.targets is not None:
        r.targets = _targets(s, body.targets)
    action = "edit round"
    if body.state is not None and body.state != r.state:
        action = "close round" if body.state == "closed" else "reopen round"
        r.state = body.state
    s.add(AuditEntry(user=user.name, action=action, old=old, new=_round_json(r)))
    try:
        s.commit()
    except IntegrityError:
        s.rollback()
        raise ApiError(409, "a round with that name exists already") from None
    return _round_json(r)


@router.get("/rounds", response_model=list[RoundOut])
def rounds(s: SessionDep, user: AnyUser) -> list[dict[str, Any]]:
    """Every survey round, oldest first."""
    return [_round_json(r) for r in s.scalars(select(Round).order_by(Round.id))]
