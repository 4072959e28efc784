"""Files on disk, content-addressed by SHA-256: data_dir/{files,pages,aligned}/ab/abcdef…"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO


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

    def put_stream(self, kind: str, src: BinaryIO, suffix: str = "", *, limit: int | None = None) -> tuple[str, int]:
        """Copy a stream in, hashing as it goes; raises ValueError past ``limit`` bytes."""
        h = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(dir=self.root / "tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := src.read(1 << 20):
                    size += len(chunk)
                    if limit is not None and size > limit:
                        raise ValueError(f"larger than the {limit // (1 << 20)} MB limit")
                    h.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha = h.hexdigest()
            dest = self.path(kind, sha, suffix)
            dest.parent.mkdir(parents=True, exist_ok=True)
            if dest.exists():
                os.unlink(tmp)
            else:
                os.replace(tmp, dest)
            return sha, size
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
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
