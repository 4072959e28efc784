"""The OpenAPI description and the pages that show it, served without internet.

- ``ERRORS``: the error answers every operation can give (401, 403, 422), applied to each router with
  ``app.include_router(router, responses=ERRORS)``.
- ``file_response(...)``: a 200 that is a file (CSV, XLSX, SAV, PDF, PNG, JPEG, ...), typed as binary.
- ``install(app, routers)``: the security schemes (bearer token, session cookie) and the operations that
  need them, the error answers that depend on the operation (404, 409, 413, 415), and the
  ``/docs`` (Swagger UI) and ``/redoc`` pages with their scripts and styles served by the app itself from
  the ``fastapi-offline`` package (it bundles Swagger UI 5 and ReDoc 2), so that the pages work on an
  office network with no internet.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute, APIRouter
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

DESCRIPTION = (
    "Reads returned paper satisfaction questionnaires (SIPAS): survey rounds, batches of scanned pages, the "
    "review queue, tallies, indices and exports. Send `Authorization: Bearer TOKEN` (a token from "
    "`omr user add`) or log in with `POST /api/login` for a session cookie. See docs/api.md."
)
DOCS_ASSETS = "/docs/assets"


class ErrorOut(BaseModel):
    """Every error answer: what went wrong, in words a person can act on (plus fields some errors add)."""

    detail: Any = Field(description="the problem; for a malformed request, a list naming each wrong field")

    model_config = {"extra": "allow"}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "model": ErrorOut}


UNAUTHORIZED = _error("not logged in, or an unknown, revoked or expired token or session")
FORBIDDEN = _error("the caller's role may not do this (or a cookie-authenticated write from another site)")
NOT_FOUND = _error("no such round, batch, page or review item")
CONFLICT = _error("the state changed meanwhile: a name that exists, an item someone else holds, a stale value")
TOO_LARGE = _error("the request is too large (a body, a file or a batch over the limit)")
UNSUPPORTED = _error("a file type that is not accepted")
INVALID = _error("a parameter or a field is missing or malformed; the message names it")

# the answers any operation can give (401/403 also on /api/login and /api/logout: a refused session or
# cross-site write); the ones that depend on the operation are added by install(): 409, 413, 415, 404
ERRORS: dict[int | str, dict[str, Any]] = {401: UNAUTHORIZED, 403: FORBIDDEN, 422: INVALID}
CONFLICT_TAGS = {"rounds", "review"}  # their writes can meet a state changed meanwhile


BINARY = {"type": "string", "format": "binary"}


def file_response(description: str, *media_types: str) -> dict[str, Any]:
    """A 200 answer that is a file of one of ``media_types``."""
    return {"description": description, "content": {m.split(";")[0]: {"schema": BINARY} for m in media_types}}


def _needs_login(route: APIRoute) -> bool:
    """Whether the route depends on the current user (service.deps.current_user), at any depth."""
    from service.deps import current_user

    todo = [route.dependant]
    while todo:
        d = todo.pop()
        if d.call is current_user:
            return True
        todo.extend(d.dependencies)
    return False


def _schema(app: FastAPI, login: set[tuple[str, str]]) -> dict[str, Any]:
    from service.deps import SESSION_COOKIE

    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes,
                         tags=app.openapi_tags)
    schema.setdefault("components", {})["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer",
                   "description": "an API token from `omr user add NAME --role ROLE`"},
        "cookie": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE,
                   "description": "the session cookie set by POST /api/login (web pages)"},
    }
    for path, ops in schema.get("paths", {}).items():
        for method, op in ops.items():
            responses = op.setdefault("responses", {})
            # either credential will do; an empty list: the operation needs none (POST /api/login)
            op["security"] = [{"bearer": []}, {"cookie": []}] if (method.upper(), path) in login else []
            body = op.get("requestBody", {}).get("content", {})
            if body:
                responses.setdefault("413", _ref_error(schema, TOO_LARGE["description"]))
            if "multipart/form-data" in body:
                responses.setdefault("415", _ref_error(schema, UNSUPPORTED["description"]))
            if method == "post" and CONFLICT_TAGS & set(op.get("tags", [])):
                responses.setdefault("409", _ref_error(schema, CONFLICT["description"]))
            if "{" in path:
                responses.setdefault("404", _ref_error(schema, NOT_FOUND["description"]))
    app.openapi_schema = schema
    return schema


def _ref_error(schema: dict[str, Any], description: str) -> dict[str, Any]:
    schema["components"].setdefault("schemas", {}).setdefault("ErrorOut", ErrorOut.model_json_schema())
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}}


def assets_dir() -> Path:
    """Swagger UI's and ReDoc's files, as the fastapi-offline package ships them."""
    import fastapi_offline

    return Path(fastapi_offline.__file__).resolve().parent / "static"


def install(app: FastAPI, routers: Sequence[APIRouter]) -> None:
    """The schema's security and error answers, and the /docs and /redoc pages served from local files.

    ``routers``: the API's routers (their operations that depend on the current user get the security
    requirement). The app must be made with ``docs_url=None, redoc_url=None`` (FastAPI's own pages load
    from a CDN)."""
    login = {(m, r.path) for router in routers for r in router.routes
             if isinstance(r, APIRoute) and _needs_login(r) for m in r.methods}
    app.openapi = lambda: _schema(app, login)  # type: ignore[method-assign]
    app.mount(DOCS_ASSETS, StaticFiles(directory=assets_dir()), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=root + openapi_url, title=f"{app.title}: API",
            swagger_js_url=f"{root}{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png",
            oauth2_redirect_url=None,
            # no online validator badge: it would send the schema's address to a third party
            swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": True},
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(openapi_url=root + openapi_url, title=f"{app.title}: API",
                              redoc_js_url=f"{root}{DOCS_ASSETS}/redoc.standalone.js",
                              redoc_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png", with_google_fonts=False)
