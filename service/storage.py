"""Files on disk, content-addressed by SHA-256: data_dir/{files,pages,aligned}/ab/abcdef…

Uploads arrive into ``tmp/`` (an :class:`Incoming` file, hashed as it is written) and are moved into
place only once the whole request has been accepted, so a refused upload leaves nothing behind.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import time
from pathlib import Path
from typing import BinaryIO


class Incoming:
    """A file being received into the store's ``tmp/``: written and hashed chunk by chunk."""

    def __init__(self, store: "Store") -> None:
        self.store = store
        fd, path = tempfile.mkstemp(dir=store.root / "tmp")
        self.path = Path(path)
        self._out = os.fdopen(fd, "wb")
        self._hash = hashlib.sha256()
        self.size = 0
        self.sha256 = ""
        self.committed = False

    def write(self, data: bytes) -> None:
        self._hash.update(data)
        self._out.write(data)
        self.size += len(data)

    def finish(self) -> str:
        """Flush to disk (fsync); returns the SHA-256 of what was written."""
        self._out.flush()
        os.fsync(self._out.fileno())
        self._out.close()
        self.sha256 = self._hash.hexdigest()
        return self.sha256

    def commit(self, kind: str = "files", suffix: str = "") -> str:
        """Move the finished file to its content address (or drop it when the store has those bytes)."""
        if not self.sha256:
            self.finish()
        dest = self.store.path(kind, self.sha256, suffix)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.exists():
            self.path.unlink(missing_ok=True)
        else:
            os.replace(self.path, dest)
        self.committed = True
        return self.sha256

    def discard(self) -> None:
        """Remove the file from ``tmp/`` (nothing to do once committed)."""
        if not self._out.closed:
            self._out.close()
        if not self.committed:
            self.path.unlink(missing_ok=True)


class Store:
    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()  # absolute: readers in other processes must not depend on the cwd
        for kind in ("files", "pages", "aligned", "tmp"):
            (self.root / kind).mkdir(parents=True, exist_ok=True)

    def path(self, kind: str, sha: str, suffix: str = "") -> Path:
        return self.root / kind / sha[:2] / f"{sha}{suffix}"

    def put_bytes(self, kind: str, data: bytes, suffix: str = "") -> str:
        sha = hashlib.sha256(data).hexdigest()
        dest = self.path(kind, sha, suffix)
        if not dest.exists():
            self._atomic_write(dest, lambda fh: fh.write(data))
        return sha

    def incoming(self) -> Incoming:
        return Incoming(self)

    def sweep_tmp(self, older_than: float = 3600.0) -> int:
        """Remove what uploads broken off by a stopped server left in ``tmp/`` (called when the server starts)."""
        n = 0
        cut = time.time() - older_than
        for p in (self.root / "tmp").iterdir():
            try:
                if p.is_file() and p.stat().st_mtime < cut:
                    p.unlink()
                    n += 1
            except OSError:
                pass
        return n

    def put_stream(self, kind: str, src: BinaryIO, suffix: str = "", *, limit: int | None = None) -> tuple[str, int]:
        """Copy a stream in, hashing as it goes; raises ValueError past ``limit`` bytes."""
        inc = self.incoming()
        try:
            while chunk := src.read(1 << 20):
                if limit is not None and inc.size + len(chunk) > limit:
                    raise ValueError(f"larger than the {limit // (1 << 20)} MB limit")
                inc.write(chunk)
            inc.finish()
            return inc.commit(kind, suffix), inc.size
        except BaseException:
            inc.discard()
            raise

    @staticmethod
    def _atomic_write(dest: Path, write) -> None:  # noqa: ANN001
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent)
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
