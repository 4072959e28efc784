"""Accounts: list, create with a role, disable, issue a new token (shown once)."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import Field
from sqlalchemy import select, update

from service.auth import ROLES, add_user
from service.deps import Admin, SessionDep
from service.errors import ApiError
from service.models import AuditEntry, User, WebSession, utcnow
from service.params import RequestBody

router = APIRouter(prefix="/api", tags=["accounts"])
NamePath = Annotated[str, Path(min_length=1, max_length=80, description="account name")]


class UserCreate(RequestBody):
    name: str = Field(min_length=1, max_length=80, pattern=r"^[^\s\x00/]+$", description="sign-in name, e.g. binh")
    role: str = Field(description="admin | operator | reviewer | viewer")


class UserUpdate(RequestBody):
    role: str | None = None
    active: bool | None = Field(None, description="false: the account can no longer sign in; its sessions end")
    new_token: bool = Field(False, description="issue a new token (the old one stops working); returned once")


def user_json(u: User) -> dict[str, Any]:
    return {"name": u.name, "role": u.role, "active": u.active,
            "last_login_at": u.last_login_at.isoformat() if u.last_login_at else None,
            "created_at": u.created_at.isoformat() if u.created_at else None}


def _end_sessions(s, u: User) -> None:  # noqa: ANN001
    s.execute(update(WebSession).where(WebSession.user_id == u.id, WebSession.ended_at.is_(None)).values(ended_at=utcnow()))


@router.get("/users")
def list_users(s: SessionDep, user: Admin) -> list[dict[str, Any]]:
    """Every account with its role, state and last sign-in."""
    return [user_json(u) for u in s.scalars(select(User).order_by(User.name))]


@router.post("/users", status_code=201)
def create_user(body: UserCreate, s: SessionDep, user: Admin) -> dict[str, Any]:
    """Create an account; the response holds its token, shown this once (only its hash is kept)."""
    if body.role not in ROLES:
        raise ApiError(422, f"role: one of {', '.join(ROLES)}")
    if s.scalar(select(User).where(User.name == body.name)):
        raise ApiError(409, f"an account named {body.name} exists already (tài khoản đã tồn tại)")
    token = add_user(s, body.name, body.role)
    s.flush()
    u = s.scalar(select(User).where(User.name == body.name))
    s.add(AuditEntry(user=user.name, action="create account", new={"name": u.name, "role": u.role}))
    s.commit()
    return {**user_json(u), "token": token}


@router.patch("/users/{name}")
def update_user(name: NamePath, body: UserUpdate, s: SessionDep, user: Admin) -> dict[str, Any]:
    """Change an account's role, disable or enable it, or issue it a new token (returned once)."""
    u = s.scalar(select(User).where(User.name == name))
    if u is None:
        raise ApiError(404, f"no account {name[:80]!r}")
    if u.name == user.name and (body.active is False or (body.role and body.role != "admin")):
        raise ApiError(409, "an admin cannot disable or demote their own account (ask another admin)")
    old = user_json(u)
    out: dict[str, Any] = {}
    if body.role is not None:
        if body.role not in ROLES:
            raise ApiError(422, f"role: one of {', '.join(ROLES)}")
        u.role = body.role
        _end_sessions(s, u)  # a session carries what the role allowed at sign-in
    if body.active is not None:
        u.active = body.active
        if not body.active:
            _end_sessions(s, u)
    if body.new_token:
        out["token"] = add_user(s, u.name, u.role)
        _end_sessions(s, u)
    s.add(AuditEntry(user=user.name, action="edit account", old=old,
                     new={**user_json(u), "new_token": bool(body.new_token)}))
    s.commit()
    return {**user_json(u), **out}
