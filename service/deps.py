"""Request dependencies: the session, the current user and role checks, in one place."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from service.auth import user_for_token
from service.errors import ApiError

SESSION_COOKIE = "omr_session"


@dataclass(frozen=True)
class CurrentUser:
    name: str
    role: str


def get_session(request: Request) -> Iterator[Session]:
    factory = request.app.state.factory
    with factory() as s:
        yield s


SessionDep = Annotated[Session, Depends(get_session)]


def _token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.cookies.get(SESSION_COOKIE)


def current_user(request: Request, s: SessionDep) -> CurrentUser:
    token = _token(request)
    if not token:
        raise ApiError(401, "not logged in: send 'Authorization: Bearer TOKEN' (chưa đăng nhập)")
    user = user_for_token(s, token)
    if user is None:
        raise ApiError(401, "unknown or revoked token (mã truy cập không hợp lệ)")
    return CurrentUser(user.name, user.role)


def require(*roles: str):
    allowed = set(roles) | {"admin"}

    def check(user: Annotated[CurrentUser, Depends(current_user)]) -> CurrentUser:
        if user.role not in allowed:
            raise ApiError(403, f"role '{user.role}' may not do this (needs {' or '.join(sorted(allowed))}) (không có quyền)")
        return user

    return check


AnyUser = Annotated[CurrentUser, Depends(current_user)]
Admin = Annotated[CurrentUser, Depends(require("admin"))]
Operator = Annotated[CurrentUser, Depends(require("operator"))]
Reviewer = Annotated[CurrentUser, Depends(require("reviewer"))]
