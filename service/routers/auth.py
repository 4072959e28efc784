from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel

from service.auth import user_for_token
from service.deps import SESSION_COOKIE, AnyUser, SessionDep
from service.errors import ApiError

router = APIRouter(prefix="/api", tags=["accounts"])


class Login(BaseModel):
    name: str
    token: str


@router.post("/login")
def login(body: Login, s: SessionDep, response: Response) -> dict[str, str]:
    user = user_for_token(s, body.token)
    if user is None or user.name != body.name:
        raise ApiError(401, "wrong name or token (sai tên hoặc mã truy cập)")
    response.set_cookie(SESSION_COOKIE, body.token, httponly=True, samesite="strict", max_age=12 * 3600)
    return {"name": user.name, "role": user.role}


@router.post("/logout", status_code=204)
def logout(response: Response) -> Response:
    response.delete_cookie(SESSION_COOKIE)
    response.status_code = 204
    return response


@router.get("/me")
def me(user: AnyUser) -> dict[str, str]:
    return {"name": user.name, "role": user.role}
