"""Checks shared by the routers that write: a closed round takes no uploads and no decisions."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.errors import ApiError
from service.models import Round


def require_open(s: Session, round_id: int) -> Round | None:
    """The round, if it still takes uploads and decisions; 409 once it is closed (its figures are frozen)."""
    r = s.get(Round, round_id)
    if r is not None and r.state == "closed":
        raise ApiError(409, f"round {r.name!r} is closed: its figures are frozen; an admin can reopen it "
                            f"(đợt khảo sát đã khóa)")
    return r


def open_rounds():  # noqa: ANN201
    """The ids of the rounds that take work (a subquery)."""
    return select(Round.id).where(Round.state != "closed")
