"""Scan to folder: ``omr watch DIR --round R [--agency A]`` uploads what office scanners save into a folder.

Office scanners and copiers write their files into a shared folder. This loop, run beside them (against a
running service, with an operator's token), takes every scan once it is completely written (its size and
modification time unchanged for ``settle`` seconds), uploads it as a batch of its own, waits for the
service to read it, then moves it to ``DIR/done/`` or, when nothing in it could be read or the service
refused it, to ``DIR/failed/`` with the reason beside it (``NAME.loi.txt``: what went wrong, in
Vietnamese and English).

Restart safety: a journal (``DIR/.omr-watch.json``, written atomically) records each file's content hash,
state and batch before and after every step. A restarted watcher picks up where it stopped: a file whose
upload was acknowledged is never sent again; one whose upload may or may not have reached the service is
sent again, and the service recognises the same bytes by their hash (the file is then a ``duplicate``:
its pages are not counted twice).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

SUFFIXES = (".pdf", ".tif", ".tiff", ".jpg", ".jpeg", ".png")
JOURNAL = ".omr-watch.json"
DONE, FAILED = "done", "failed"


@dataclass
class Entry:
    """One file's progress: ``uploading`` → ``uploaded`` (batch known) → moved to done/ or failed/."""

    name: str
    sha256: str
    size: int
    state: str = "uploading"
    batch: int | None = None
    attempts: int = 0


@dataclass
class Watcher:
    folder: Path
    base_url: str
    token: str
    round: str
    agency: str | None = None
    settle: float = 5.0
    timeout: float = 600.0
    log: Any = field(default=sys.stderr)
    seen: dict[str, tuple[int, float, float]] = field(default_factory=dict)  # name -> (size, mtime, first seen stable)

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        for sub in (DONE, FAILED):
            (self.folder / sub).mkdir(exist_ok=True)
        self.journal: dict[str, Entry] = self._load()
        self.http = httpx.Client(base_url=self.base_url, timeout=self.timeout,
                                 headers={"Authorization": f"Bearer {self.token}"})

    # --- the journal ------------------------------------------------------------------------------
    def _load(self) -> dict[str, Entry]:
        p = self.folder / JOURNAL
        if not p.exists():
            return {}
        try:
            return {k: Entry(**v) for k, v in json.loads(p.read_text(encoding="utf-8")).items()}
        except (ValueError, TypeError) as exc:
            raise SystemExit(f"omr watch: {p}: the journal is damaged ({exc}); move it away to start afresh "
                             f"(files already uploaded are then recognised by the service as duplicates)") from None

    def _save(self) -> None:
        p = self.folder / JOURNAL
        tmp = p.with_suffix(".tmp")
        tmp.write_text(json.dumps({k: vars(e) for k, e in self.journal.items()}, ensure_ascii=False, indent=1), encoding="utf-8")
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, p)

    def _say(self, text: str) -> None:
        print(f"omr watch: {text}", file=self.log, flush=True)

    # --- one pass -------------------------------------------------------------------------------------
    def ready_files(self, now: float | None = None) -> list[Path]:
        """Scans in the folder whose size and mtime have not changed for ``settle`` seconds."""
        now = time.monotonic() if now is None else now
        out = []
        names = set()
        for p in sorted(self.folder.iterdir()):
            if not p.is_file() or p.name.startswith(".") or p.suffix.lower() not in SUFFIXES:
                continue
            names.add(p.name)
            st = p.stat()
            sig = (st.st_size, st.st_mtime)
            prev = self.seen.get(p.name)
            if prev is None or prev[:2] != sig:
                self.seen[p.name] = (*sig, now)
                continue
            if st.st_size > 0 and now - prev[2] >= self.settle:
                out.append(p)
        for gone in set(self.seen) - names:
            del self.seen[gone]
        return out

    def step(self) -> int:
        """Upload what is ready, settle what the service has read; returns how many files moved."""
        moved = 0
        for p in self.ready_files():
            entry = self.journal.get(p.name)
            sha = _sha256(p)
            if entry is None or entry.sha256 != sha:
                entry = self.journal[p.name] = Entry(p.name, sha, p.stat().st_size)
                self._save()
            if entry.state == "uploading":
                self._upload(p, entry)
        for name, entry in list(self.journal.items()):
            if entry.state == "uploaded" and (self.folder / name).exists():
                moved += self._settle(self.folder / name, entry)
        return moved

    def _upload(self, p: Path, entry: Entry) -> None:
        entry.attempts += 1
        data = {"round": self.round, **({"agency": self.agency} if self.agency else {})}
        try:
            with open(p, "rb") as fh:
                r = self.http.post("/api/batches", data=data, files=[("files", (p.name, fh))])
        except httpx.HTTPError as exc:  # the service is down or the connection dropped: try again next pass
            self._say(f"{p.name}: upload interrupted ({type(exc).__name__}); will retry")
            self._save()
            return
        if r.status_code == 201:
            entry.state, entry.batch = "uploaded", int(r.json()["id"])
            self._save()
            self._say(f"{p.name}: uploaded as batch {entry.batch}")
        elif r.status_code in (401, 403):
            raise SystemExit(f"omr watch: the service refused the token ({r.status_code}): {_detail(r)}")
        elif r.status_code == 404:
            raise SystemExit(f"omr watch: {_detail(r)}")
        elif 400 <= r.status_code < 500 and r.status_code not in (408, 429):
            self._fail(p, entry, f"the service refused the file ({r.status_code}): {_detail(r)}",
                       "máy chủ không nhận tệp này")
        else:
            self._say(f"{p.name}: the service answered {r.status_code}; will retry")
            self._save()

    def _settle(self, p: Path, entry: Entry) -> int:
        try:
            r = self.http.get(f"/api/batches/{entry.batch}")
        except httpx.HTTPError:
            return 0
        if r.status_code != 200:
            return 0
        b = r.json()
        if b["status"] not in ("done", "failed"):
            return 0
        dup = any(f.get("status") == "duplicate" for f in b.get("files", []))
        errors = [e for e in b.get("errors", []) if e.get("file") == p.name and not dup]
        read = b["pages_done"]
        if not dup and read == 0 and (errors or b["status"] == "failed"):
            why = "; ".join(f"trang {e['page']}: {e['error']}" if e.get("page") else e["error"] for e in errors) or "no page could be read"
            self._fail(p, entry, why, "không đọc được trang nào")
            return 1
        self._move(p, DONE)
        del self.journal[p.name]
        self._save()
        self._say(f"{p.name}: {read} page(s) read, {b['pages_failed']} failed" + (" (already uploaded before)" if dup else ""))
        return 1

    def _fail(self, p: Path, entry: Entry, why: str, vi: str) -> None:
        dest = self._move(p, FAILED)
        dest.with_name(dest.name + ".loi.txt").write_text(f"{vi}\n{why}\n", encoding="utf-8")
        self.journal.pop(p.name, None)
        self._save()
        self._say(f"{p.name}: moved to {FAILED}/: {why}")

    def _move(self, p: Path, sub: str) -> Path:
        dest = self.folder / sub / p.name
        k = 1
        while dest.exists():  # a later scan saved under the same name: keep both
            dest = self.folder / sub / f"{p.stem}-{k}{p.suffix}"
            k += 1
        shutil.move(str(p), dest)
        return dest

    def run(self, interval: float = 2.0, once: bool = False) -> int:
        self._say(f"watching {self.folder} for round {self.round!r}" + (f", agency {self.agency}" if self.agency else ""))
        while True:
            self.step()
            if once and not any(e.state in ("uploading", "uploaded") for e in self.journal.values()) and not self._pending_files():
                return 0
            time.sleep(interval)

    def _pending_files(self) -> bool:
        return any(p.is_file() and not p.name.startswith(".") and p.suffix.lower() in SUFFIXES for p in self.folder.iterdir())


def _sha256(p: Path) -> str:
    h = hashlib.sha256()
    with open(p, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _detail(r: httpx.Response) -> str:
    try:
        d = r.json().get("detail")
    except ValueError:
        d = None
    return str(d if d is not None else r.text)[:300]


def cmd_watch(args: argparse.Namespace) -> int:
    token = os.environ.get("OMR_TOKEN", "")
    if args.token_file:
        token = Path(args.token_file).read_text(encoding="utf-8").strip()
    if not token:
        print("omr watch: give an operator's token in OMR_TOKEN or with --token-file FILE", file=sys.stderr)
        return 2
    folder = Path(args.dir)
    if not folder.is_dir():
        print(f"omr watch: {folder}: no such folder", file=sys.stderr)
        return 2
    w = Watcher(folder, args.url, token, args.round, args.agency, settle=args.settle)
    try:
        return w.run(interval=args.interval, once=args.once)
    except KeyboardInterrupt:
        return 130


def add_watch_parser(sub) -> None:  # noqa: ANN001
    wp = sub.add_parser("watch", help="upload every scan saved into a folder (scan to folder), then file it under done/ or failed/")
    wp.add_argument("dir", help="the folder the scanner saves into")
    wp.add_argument("--round", required=True, help="round id or name")
    wp.add_argument("--agency", help="agency code of the scans (when their QR codes carry none)")
    wp.add_argument("--url", default=os.environ.get("OMR_URL", "http://127.0.0.1:8000"), help="the service (default: OMR_URL or http://127.0.0.1:8000)")
    wp.add_argument("--token-file", help="a file holding an operator's token (default: the OMR_TOKEN environment variable)")
    wp.add_argument("--settle", type=float, default=5.0, help="seconds a file must stay unchanged before it is taken (default 5)")
    wp.add_argument("--interval", type=float, default=2.0, help="seconds between looks at the folder (default 2)")
    wp.add_argument("--once", action="store_true", help="stop when the folder is empty and every upload is settled")
    wp.set_defaults(func=cmd_watch)
