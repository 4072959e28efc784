"""The request guard: a pure ASGI middleware that decides about a write before its body is read.

FastAPI reads (and spools to disk) a request's body before any dependency runs, so a check made in a
dependency comes after a 1 GB upload has been received. The guard runs first:

1. every write (POST, PUT, PATCH, DELETE) is authenticated from its headers alone (``deps.authenticate``:
   the bearer token, or the session cookie with its CSRF token and Origin); a failure is answered
   401/403 at once and the body is never read; the upload route also needs its role here;
   ``/api/login`` needs no credentials but, from a browser, its Origin must be this host;
2. bodies are capped: uploads (``POST /api/batches``) at ``max_batch_mb``, everything else at
   ``max_json_kb``; a Content-Length above the cap is refused before reading, and a body without one
   (chunked) is counted as it arrives and refused as soon as it passes the cap (413).

The upload route itself streams each file into the store and applies the per-file and per-batch
limits with the file's name (``service.uploads``); the guard's count is the backstop.
"""
from __future__ import annotations

import json
import re

import anyio
from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.deps import PRINCIPAL, SAFE_METHODS, authenticate, bearer_token, origin_matches, role_refusal
from service.errors import ApiError

UPLOAD_PATH = "/api/batches"
UPLOAD_ROLES = {"operator", "admin"}
NO_CREDENTIALS = {"/api/login"}  # a write that signs in: checked by its body, not by credentials
OPTIONAL_CREDENTIALS = {"/api/logout"}  # ends the session when there is one; clears the cookie anyway
MULTIPART_SLACK = 1 << 20  # part headers and boundaries on top of the files themselves
# other routes that take a file (a spreadsheet), each with its cap in MB (the route checks it again by name)
FILE_ROUTES = ((re.compile(r"^/api/agencies/import/?$"), 5), (re.compile(r"^/api/rounds/\d+/imports/?$"), 20),
               (re.compile(r"^/api/templates/import/?$"), 2))


class BodyTooLarge(Exception):
    pass


class RequestGuard:
    def __init__(self, app: ASGIApp, *, settings, factory) -> None:  # noqa: ANN001
        self.app = app
        self.settings = settings
        self.factory = factory

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"].upper()
        path = scope["path"]
        headers = Headers(scope=scope)
        is_upload = method == "POST" and path.rstrip("/") == UPLOAD_PATH
        try:
            if method not in SAFE_METHODS:
                await self._admit(scope, method, path, headers, is_upload)
            limit, what = self._limit(is_upload, method, path)
            declared = headers.get("content-length")
            if declared is not None:
                try:
                    size = int(declared)
                except ValueError:
                    raise ApiError(400, "Content-Length is not a number") from None
                if size > limit:
                    raise ApiError(413, self._too_large(what, limit, size))
        except ApiError as exc:
            await _respond(send, exc)
            return

        received = 0
        refused = False
        started = False

        async def counted_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    if not started:
                        await _respond(send, ApiError(413, self._too_large(what, limit, None)))
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 has been sent; whatever the app says after the disconnect is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not refused:
                raise

    async def _admit(self, scope: Scope, method: str, path: str, headers: Headers, is_upload: bool) -> None:
        if path in NO_CREDENTIALS:
            if bearer_token(headers) is None and not origin_matches(headers):
                raise ApiError(403, "cross-site sign-in refused: the Origin header names another site "
                                    "(yêu cầu từ trang khác bị từ chối)")
            return
        cookies = cookie_parser(headers.get("cookie", ""))
        try:
            user = await anyio.to_thread.run_sync(authenticate, self.factory, self.settings, method, headers, cookies)
        except ApiError as exc:
            if path in OPTIONAL_CREDENTIALS and exc.status == 401:
                return
            raise
        if is_upload and user.role not in UPLOAD_ROLES:
            raise ApiError(403, role_refusal(user.role, UPLOAD_ROLES))
        scope.setdefault("state", {})[PRINCIPAL] = user

    def _limit(self, is_upload: bool, method: str = "GET", path: str = "") -> tuple[int, str]:
        if is_upload:
            return (self.settings.max_batch_mb << 20) + MULTIPART_SLACK, "upload"
        if method == "POST":
            for pattern, mb in FILE_ROUTES:
                if pattern.match(path):
                    return (mb << 20) + MULTIPART_SLACK, f"file of {mb} MB"
        return self.settings.max_json_kb << 10, "request body"

    def _too_large(self, what: str, limit: int, size: int | None) -> str:
        if what == "upload":
            cap = f"the limit per batch is {self.settings.max_batch_mb} MB"
            got = f" ({size / (1 << 20):,.0f} MB)" if size is not None else ""
            return f"the upload is too large{got}: {cap}; send the files in several batches (tải lên quá lớn)"
        if what.startswith("file of"):
            return f"the file is too large: the limit is {what.removeprefix('file of ')} (tệp quá lớn)"
        cap = f"{self.settings.max_json_kb} kB"
        got = f" ({size:,} bytes)" if size is not None else ""
        return f"the request body is too large{got}: the limit is {cap} (dữ liệu gửi lên quá lớn)"


async def _respond(send: Send, exc: ApiError) -> None:
    body = json.dumps({"detail": exc.detail, **exc.extra}, ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"connection", b"close")]
    for k, v in (exc.headers or {}).items():
        headers.append((k.lower().encode("latin-1"), v.encode("latin-1")))
    await send({"type": "http.response.start", "status": exc.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
