"""Receiving an upload: the multipart body is parsed as it streams in (python-multipart's streaming
parser) and each file part goes straight into the store's ``tmp/``, hashed on the way; nothing is
held in memory beyond about a megabyte per request, and nothing reaches ``files/`` until the whole
request has been accepted.

Limits are applied while the bytes arrive, whatever Content-Length says (or when there is none):
a file type that is not accepted is refused at its part's headers (415), a file past
``max_file_mb`` or an upload past ``max_batch_mb`` as soon as it passes (413), each error naming the
file as the user named it (cut to a short prefix).
"""
from __future__ import annotations

import codecs
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import anyio
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from service.errors import ApiError, brief
from service.settings import Settings
from service.storage import Incoming, Store

FLUSH_BYTES = 1 << 20  # file data handed to a thread to be written and hashed, this much at a time
MAX_FIELD_BYTES = 64 << 10  # a form field that is not a file (round, agency)
MAX_FIELDS = 50
MAX_FILENAME = 400  # files.filename


@dataclass
class ReceivedFile:
    filename: str
    store: Store
    incoming: Incoming | None = None  # made by the writing thread: creating a file can wait on the disk
    ended: bool = False

    def open(self) -> Incoming:
        if self.incoming is None:
            self.incoming = self.store.incoming()
        return self.incoming

    @property
    def sha256(self) -> str:
        return self.open().sha256

    @property
    def size(self) -> int:
        return self.incoming.size if self.incoming is not None else 0


@dataclass
class _Part:
    name: str = ""
    file: ReceivedFile | None = None
    data: bytearray = field(default_factory=bytearray)
    received: int = 0  # bytes of a file part seen so far (written or waiting to be)


class UploadReceiver:
    """Parses one multipart upload into form fields and files in the store's ``tmp/``.

    ``on_field(name, value)`` is awaited for each form field that arrives before the first file,
    so that a wrong round or agency is refused before any file is received.
    """

    def __init__(self, store: Store, settings: Settings,
                 on_field: Callable[[str, str], Awaitable[None]] | None = None) -> None:
        self.store, self.settings, self.on_field = store, settings, on_field
        self.fields: dict[str, str] = {}
        self.files: list[ReceivedFile] = []
        self._part = _Part()
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._disposition = b""
        self._charset = "utf-8"
        self._pending: list[tuple[ReceivedFile, bytes]] = []
        self._pending_bytes = 0
        self._to_finish: list[ReceivedFile] = []
        self._early: list[tuple[str, str]] = []
        self._total = 0  # bytes of the body
        self._file_bytes = 0  # bytes of its files
        self._nfields = 0

    # ---------------------------------------------------------------- the parser's callbacks

    def _on_part_begin(self) -> None:
        self._part = _Part()
        self._disposition = b""

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        if bytes(self._header_name).lower() == b"content-disposition":
            self._disposition = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def _on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        if b"name" not in options:
            raise ApiError(400, "a part of the upload has no name in its Content-Disposition header")
        self._part.name = self._decode(options[b"name"])
        if b"filename" not in options:
            self._nfields += 1
            if self._nfields > MAX_FIELDS:
                raise ApiError(413, f"more than {MAX_FIELDS} form fields in one upload")
            return
        filename = self._decode(options[b"filename"])
        if self._part.name != "files":
            raise ApiError(422, f"form field {brief(self._part.name)} holds a file: send the scans as 'files'")
        if len(self.files) >= self.settings.max_files:
            raise ApiError(413, f"more than {self.settings.max_files} files in one upload; the limit is "
                                f"{self.settings.max_files}: send them in several batches")
        if len(filename) > MAX_FILENAME:
            raise ApiError(422, f"{brief(filename)}: a file name of {len(filename)} characters; the limit is {MAX_FILENAME}")
        if any(ord(c) < 32 for c in filename):
            raise ApiError(422, f"{brief(filename)}: a file name may not hold control characters")
        suffix = os.path.splitext(filename)[1].lower()
        if suffix not in self.settings.allowed_suffixes:
            raise ApiError(415, f"{brief(filename)}: file type {brief(suffix) if suffix else '(none)'} is not accepted; "
                                f"send {', '.join(self.settings.allowed_suffixes)}")
        f = ReceivedFile(filename, self.store)
        self.files.append(f)
        self._part.file = f

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        n = end - start
        part = self._part
        if part.file is None:
            if len(part.data) + n > MAX_FIELD_BYTES:
                raise ApiError(413, f"form field {brief(part.name)}: longer than {MAX_FIELD_BYTES >> 10} kB")
            part.data += data[start:end]
            return
        part.received += n
        self._file_bytes += n
        if part.received > self.settings.max_file_mb << 20:
            raise ApiError(413, f"{brief(part.file.filename)}: larger than the {self.settings.max_file_mb} MB limit "
                                f"per file (tệp quá lớn)")
        if self._file_bytes > self.settings.max_batch_mb << 20:
            raise ApiError(413, self._batch_message())
        self._pending.append((part.file, data[start:end]))
        self._pending_bytes += n

    def _on_part_end(self) -> None:
        part = self._part
        if part.file is None:
            value = self._decode(bytes(part.data))
            if "\x00" in value:
                raise ApiError(422, f"form field {brief(part.name)}: holds a NUL character")
            self.fields[part.name] = value
            if not self.files:
                self._early.append((part.name, value))
        else:
            part.file.ended = True
            self._to_finish.append(part.file)

    def _decode(self, raw: bytes) -> str:
        try:
            return raw.decode(self._charset)
        except (UnicodeDecodeError, LookupError):
            return raw.decode("latin-1")

    # ---------------------------------------------------------------- driving it

    async def receive(self, request: Request) -> tuple[dict[str, str], list[ReceivedFile]]:
        ctype, params = parse_options_header(request.headers.get("content-type", ""))
        if ctype != b"multipart/form-data" or b"boundary" not in params:
            # 422 as FastAPI gave when the form had no files (a urlencoded form cannot hold any)
            raise ApiError(422, "no files in the upload (không có tệp nào): send them as multipart/form-data "
                                "with the fields files (repeatable), round, agency")
        charset = params.get(b"charset", b"utf-8").decode("latin-1")
        try:
            self._charset = codecs.lookup(charset).name
        except LookupError:
            self._charset = "utf-8"
        try:
            parser = MultipartParser(params[b"boundary"], {
                "on_part_begin": self._on_part_begin, "on_part_data": self._on_part_data,
                "on_part_end": self._on_part_end, "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value, "on_header_end": self._on_header_end,
                "on_headers_finished": self._on_headers_finished,
            })
        except FormParserError:
            raise ApiError(400, "the upload's multipart boundary is not valid") from None
        batch_limit = self.settings.max_batch_mb << 20
        try:
            async for chunk in request.stream():
                self._total += len(chunk)
                if self._total > batch_limit + (1 << 20):  # files plus the parts' headers
                    raise ApiError(413, self._batch_message())
                parser.write(chunk)
                await self._after_chunk()
            parser.finalize()
            await self._after_chunk(force=True)
        except FormParserError:
            raise ApiError(400, "the upload is not valid multipart/form-data") from None
        if any(not f.ended for f in self.files):
            raise ApiError(400, "the upload ended in the middle of a file")
        return self.fields, self.files

    def _batch_message(self) -> str:
        current = self._part.file.filename if self._part.file is not None else (self.files[-1].filename if self.files else None)
        at = f"{brief(current)}: " if current else ""
        return (f"{at}the upload passes the {self.settings.max_batch_mb} MB limit per batch with this file; "
                f"send the files in several batches (lô tải lên quá lớn)")

    async def _after_chunk(self, force: bool = False) -> None:
        for name, value in self._early:
            if self.on_field is not None:
                await self.on_field(name, value)
        self._early.clear()
        if self._to_finish or self._pending_bytes >= FLUSH_BYTES or (force and self._pending):
            pending, finish = self._pending, self._to_finish
            self._pending, self._to_finish, self._pending_bytes = [], [], 0
            await anyio.to_thread.run_sync(_write, pending, finish)

    def discard(self) -> None:
        """Remove whatever is still in ``tmp/`` (every file, unless committed). Call it in a thread:
        removing a large file can take a while."""
        for f in self.files:
            if f.incoming is not None:
                f.incoming.discard()


def _write(pending: list[tuple[ReceivedFile, bytes]], finish: list[ReceivedFile]) -> None:
    for f, data in pending:
        f.open().write(data)
    for f in finish:
        f.open().finish()
