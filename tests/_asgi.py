"""Drive the real app through the ASGI protocol with a body that arrives in chunks, counting how much
of it the app asked for: a refusal must come before the body is read."""
from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator


def call(app, method: str, path: str, headers: dict[str, str], chunks: Iterator[bytes],  # noqa: ANN001
         client: tuple[str, int] = ("127.0.0.1", 50000)) -> dict:
    """One request; returns {"status", "headers", "body" (parsed JSON when it is), "chunks_read"}.
    A chunk that is None is the client going away (http.disconnect)."""
    out: dict = {"status": None, "headers": {}, "body": b"", "chunks_read": 0}
    it = iter(chunks)
    done = False

    async def receive():  # noqa: ANN202
        nonlocal done
        if done:
            await asyncio.sleep(3600)  # as a server would: nothing more until the client sends
        try:
            chunk = next(it)
        except StopIteration:
            done = True
            return {"type": "http.request", "body": b"", "more_body": False}
        if chunk is None:  # the client goes away
            done = True
            return {"type": "http.disconnect"}
        out["chunks_read"] += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message):  # noqa: ANN001, ANN202
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
            out["headers"] = {k.decode().lower(): v.decode() for k, v in message.get("headers", [])}
        elif message["type"] == "http.response.body":
            out["body"] += message.get("body", b"")

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": client, "server": ("127.0.0.1", 8000), "state": {},
    }

    async def run() -> None:
        task = asyncio.ensure_future(app(scope, receive, send))
        # the app is done when it has answered (it may then wait on a disconnect that never comes)
        for _ in range(6000):
            if task.done() or (out["status"] is not None and out["body"] and _complete(out)):
                break
            await asyncio.sleep(0.005)
        task.cancel()
        try:
            await task
        except BaseException:  # noqa: BLE001
            pass

    asyncio.run(run())
    try:
        out["body"] = json.loads(out["body"])
    except ValueError:
        pass
    return out


def _complete(out: dict) -> bool:
    n = out["headers"].get("content-length")
    return n is not None and len(out["body"]) >= int(n)


def multipart(fields: dict[str, str], files: list[tuple[str, int]], boundary: str = "omrtestboundary",
              chunk: int = 1 << 16) -> Iterator[bytes]:
    """A multipart body, generated as it is sent: fields, then files of the given sizes (zero bytes)."""
    for k, v in fields.items():
        yield f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
    for name, size in files:
        yield (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
               f'Content-Type: application/octet-stream\r\n\r\n').encode()
        left = size
        while left > 0:
            n = min(chunk, left)
            yield b"\0" * n
            left -= n
        yield b"\r\n"
    yield f"--{boundary}--\r\n".encode()


def multipart_headers(token: str | None = None, boundary: str = "omrtestboundary") -> dict[str, str]:
    h = {"content-type": f"multipart/form-data; boundary={boundary}", "host": "127.0.0.1:8000"}
    if token:
        h["authorization"] = f"Bearer {token}"
    return h
