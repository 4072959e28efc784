"""Request dependencies: the session, the current user and role checks, in one place.

Who is calling is decided by :func:`authenticate`, once per request: for writes by the request guard
(``service.guard``) before any body is read, for reads by :func:`current_user`.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from service.auth import csrf_for, csrf_matches, session_user, user_for_token
from service.errors import ApiError

SESSION_COOKIE = "omr_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PRINCIPAL = "omr_principal"  # where the guard leaves the caller in the request's state


@dataclass(frozen=True)
class CurrentUser:
    name: str
    role: str
    via: str = "token"  # token (Authorization: Bearer) | session (the browser's cookie)
    csrf: str | None = None  # the session's CSRF token (via == "session")


def get_session(request: Request) -> Iterator[Session]:
    factory = request.app.state.factory
    with factory() as s:
        yield s


SessionDep = Annotated[Session, Depends(get_session)]


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer`` header; '' for another scheme; None without the header."""
    auth = headers.get("authorization")
    if auth is None:
        return None
    scheme, _, value = auth.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def origin_matches(headers: Mapping[str, str]) -> bool:
    """No Origin header, or one naming this very host (scheme aside): a page of this service."""
    origin = headers.get("origin")
    if origin is None:
        return True
    host = (headers.get("host") or "").lower()
    try:
        o = urlsplit(origin.strip().lower())
    except ValueError:
        return False
    if o.scheme not in ("http", "https") or not o.netloc:
        return False  # "null" (sandboxed frames, file:), anything odd

    def norm(netloc: str, scheme: str) -> str:
        default = ":443" if scheme == "https" else ":80"
        return netloc[: -len(default)] if netloc.endswith(default) else netloc

    return norm(o.netloc, o.scheme) == norm(host, o.scheme)


def authenticate(factory: sessionmaker[Session], settings, method: str, headers: Mapping[str, str],  # noqa: ANN001
                 cookies: Mapping[str, str]) -> CurrentUser:
    """The caller of a request, or ApiError 401 (no or bad credentials) / 403 (a cookie write without
    its CSRF token, or from another origin). A bearer token is looked up among the tokens only, the
    cookie among the sessions only; a request with both is taken by its token."""
    token = bearer_token(headers)
    if token is not None:
        if not token:
            raise ApiError(401, "the Authorization header must be 'Bearer TOKEN' (mã truy cập không hợp lệ)")
        with factory() as s:
            user = user_for_token(s, token)
            if user is None:
                raise ApiError(401, "unknown, revoked or disabled token (mã truy cập không hợp lệ)")
            return CurrentUser(user.name, user.role)
    sid = cookies.get(SESSION_COOKIE)
    if not sid:
        raise ApiError(401, "not logged in: send 'Authorization: Bearer TOKEN' or sign in (chưa đăng nhập)")
    with factory() as s:
        found = session_user(s, sid)
        if found is None:
            raise ApiError(401, "the session has ended or expired: sign in again (phiên đăng nhập đã kết thúc)")
        ws, user = found
        if method.upper() not in SAFE_METHODS:
            if not origin_matches(headers):
                raise ApiError(403, "cross-site request refused: the Origin header names another site "
                                    "(yêu cầu từ trang khác bị từ chối)")
            if not csrf_matches(ws, headers.get(CSRF_HEADER.lower())):
                raise ApiError(403, f"missing or wrong {CSRF_HEADER} header: a change made with the session cookie "
                                    f"must send the 'csrf' value of POST /api/login or GET /api/me "
                                    f"(thiếu mã chống giả mạo yêu cầu)")
        return CurrentUser(user.name, user.role, via="session", csrf=csrf_for(sid, settings.session_secret))


def current_user(request: Request) -> CurrentUser:
    got = request.scope.get("state", {}).get(PRINCIPAL)
    if isinstance(got, CurrentUser):
        return got
    return authenticate(request.app.state.factory, request.app.state.settings, request.method,
                        request.headers, request.cookies)


def require(*roles: str):
    allowed = set(roles) | {"admin"}

    def check(user: Annotated[CurrentUser, Depends(current_user)]) -> CurrentUser:
        if user.role not in allowed:
            raise ApiError(403, role_refusal(user.role, allowed))
        return user

    return check


def role_refusal(role: str, allowed: set[str]) -> str:
    return f"role '{role}' may not do this (needs {' or '.join(sorted(allowed))}) (không có quyền)"


AnyUser = Annotated[CurrentUser, Depends(current_user)]
Admin = Annotated[CurrentUser, Depends(require("admin"))]
Operator = Annotated[CurrentUser, Depends(require("operator"))]
Reviewer = Annotated[CurrentUser, Depends(require("reviewer"))]
