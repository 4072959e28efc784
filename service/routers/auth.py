from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import Field

from service.auth import end_session, purge_sessions, start_session, user_for_token
from service.deps import SESSION_COOKIE, AnyUser, SessionDep
from service.errors import ApiError
from service.params import RequestBody

router = APIRouter(prefix="/api", tags=["accounts"])


class Login(RequestBody):
    name: str = Field(max_length=200)
    token: str = Field(max_length=400)


@router.post("/login")
def login(body: Login, request: Request, s: SessionDep, response: Response) -> dict[str, str]:
    """Sign a browser in: a session of its own in an HttpOnly cookie (never the token itself), and the
    session's CSRF token (``csrf``), which every change made with the cookie must send as ``X-CSRF-Token``.
    Wrong logins are throttled per address and per name (429 with Retry-After)."""
    settings = request.app.state.settings
    throttle = request.app.state.login_throttle
    address = request.client.host if request.client else "unknown"
    wait = throttle.retry_after(body.name, address)
    if wait:
        raise ApiError(429, f"too many wrong logins: try again in {wait} s (đăng nhập sai quá nhiều lần, "
                            f"thử lại sau {wait} giây)", headers={"Retry-After": str(wait)}, retry_after=wait)
    user = user_for_token(s, body.token)
    if user is None or user.name != body.name:
        throttle.failed(body.name, address)
        raise ApiError(401, "wrong name or token, or the account is disabled (sai tên hoặc mã truy cập)")
    throttle.succeeded(body.name)
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        end_session(s, old)  # this browser's previous sign-in
    purge_sessions(s)
    sid, csrf = start_session(s, user, hours=settings.session_hours, secret=settings.session_secret)
    s.commit()
    response.set_cookie(SESSION_COOKIE, sid, max_age=int(settings.session_hours * 3600), path="/", httponly=True,
                        samesite="strict", secure=settings.cookie_secure)
    return {"name": user.name, "role": user.role, "csrf": csrf}


@router.post("/logout", status_code=204)
def logout(request: Request, s: SessionDep) -> Response:
    """End the browser's session on the server (its cookie is refused from then on) and clear the cookie."""
    sid = request.cookies.get(SESSION_COOKIE)
    if sid and request.headers.get("authorization") is None:
        end_session(s, sid)
        s.commit()
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=request.app.state.settings.cookie_secure)
    return response


@router.get("/me")
def me(user: AnyUser) -> dict[str, str]:
    """Who is signed in; ``csrf`` (the session's CSRF token) when the caller uses the session cookie."""
    out = {"name": user.name, "role": user.role}
    if user.via == "session" and user.csrf:
        out["csrf"] = user.csrf
    return out
