"""One error type for the API and the handlers that render errors; no error echoes more than a short
prefix of what the caller sent."""
from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

ECHO_CHARS = 80  # the most of a caller's input an error message repeats


class ApiError(Exception):
    def __init__(self, status: int, detail: str, *, headers: dict[str, str] | None = None, **extra: object) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers
        self.extra = extra


def brief(value: object, limit: int = ECHO_CHARS) -> str:
    """``repr``-like text of user input, cut to ``limit`` characters (with '…' when cut)."""
    text = value if isinstance(value, str) else _json(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    return repr(text) if isinstance(value, str) else text


def _json(value: object) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


def _short(value: Any, limit: int = ECHO_CHARS) -> Any:
    """Input echoed in a 422, cut to a short prefix; small values keep their JSON type."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit] + "…"
    text = _json(value)
    return value if len(text) <= limit else text[:limit] + "…"


async def handle_api_error(request: Request, exc: ApiError) -> JSONResponse:
    return JSONResponse({"detail": exc.detail, **exc.extra}, status_code=exc.status, headers=exc.headers)


async def handle_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's 422 (a list of ``{"type", "loc", "msg", "input", "ctx"}``), with the echoed input cut short."""
    errors = []
    for e in exc.errors():
        out: dict[str, Any] = {"type": e.get("type"), "loc": list(e.get("loc", ())), "msg": _short(str(e.get("msg", "")), 200)}
        if "input" in e:
            out["input"] = _short(e["input"])
        if e.get("ctx"):
            out["ctx"] = {str(k): _short(v if isinstance(v, bool | int | float | str) or v is None else str(v))
                          for k, v in e["ctx"].items()}
        errors.append(out)
    return JSONResponse({"detail": errors}, status_code=422)
