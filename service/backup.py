"""Backups: ``omr backup DIR`` while the service runs, ``omr restore DIR`` into an empty data directory.

A backup is a folder: the database (SQLite's online backup API: a consistent copy taken while the
service writes; for PostgreSQL ``pg_dump --format=custom``, which reads one snapshot), the page store
(``files/``, ``pages/``, ``aligned/``: content-addressed, written before the rows that name them commit,
so a store copied *after* the database snapshot holds every file the snapshot refers to) and
``manifest.json`` (when, which database, what it holds). The last backup's time is kept in the data
directory (``last-backup.json``) for the admin page.

This is the one module that runs ``pg_dump`` and ``pg_restore``.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from service.settings import Settings

STORE_KINDS = ("files", "pages", "aligned", "forms")  # forms: the questionnaires made in the designer (YAML)
MANIFEST = "manifest.json"
LAST = "last-backup.json"
PG_TIMEOUT = 3600


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


def _pg_url(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1] if url.startswith("postgresql") else url


def _sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def _counts(url: str) -> dict[str, Any]:
    from service.db import make_engine
    from service.models import Answer, AuditEntry, Page, ReviewItem

    engine = make_engine(url)
    try:
        with engine.connect() as c:
            out = {name: c.scalar(select(func.count()).select_from(model))
                   for name, model in (("pages", Page), ("answers", Answer), ("review_items", ReviewItem), ("audit", AuditEntry))}
            out["revision"] = c.scalar(text("SELECT version_num FROM alembic_version"))
        return out
    finally:
        engine.dispose()


def _copy_store(src: Path, dest: Path) -> int:
    n = 0
    for kind in STORE_KINDS:
        root = src / kind
        if not root.is_dir():
            continue
        for dirpath, _dirs, files in os.walk(root):
            rel = Path(dirpath).relative_to(src)
            (dest / rel).mkdir(parents=True, exist_ok=True)
            for f in files:
                if f.startswith("tmp"):  # a write in progress (mkstemp): not part of any row yet
                    continue
                target = dest / rel / f
                if not target.exists():
                    shutil.copy2(Path(dirpath) / f, target)
                    n += 1
    return n


def backup(settings: Settings, dest: Path) -> dict[str, Any]:
    """Write a consistent backup of a (possibly running) service into ``dest`` (new or empty)."""
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest}: the folder is not empty; give a new folder for each backup")
    dest.mkdir(parents=True, exist_ok=True)
    url = settings.db_url
    started = datetime.now(timezone.utc)
    if url.startswith("sqlite"):
        src_path = _sqlite_path(url)
        if not src_path.is_file():
            raise BackupError(f"{src_path}: no database here (is --data-dir right?)")
        src = sqlite3.connect(f"file:{src_path}?mode=ro", uri=True, timeout=30)
        dst = sqlite3.connect(dest / "omr.sqlite")
        try:
            src.backup(dst)  # online: the service may keep writing
        finally:
            dst.close()
            src.close()
        kind, counts_url = "sqlite", f"sqlite:///{dest / 'omr.sqlite'}"
    elif url.startswith("postgresql"):
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={dest / 'omr.pgdump'}", _pg_url(url)], "pg_dump")
        kind, counts_url = "postgresql", url
    else:
        raise BackupError(f"cannot back up a database of this kind: {url.split(':', 1)[0]}")
    copied = _copy_store(Path(settings.data_dir).resolve(), dest)  # after the snapshot: every file it names is there
    manifest = {"created_at": started.isoformat(), "database": kind, "store_files": copied,
                **(_counts(counts_url) if kind == "sqlite" else {})}
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    last = Path(settings.data_dir) / LAST
    last.write_text(json.dumps({"at": started.isoformat(), "dir": str(dest.resolve()), **manifest}, indent=1), encoding="utf-8")
    return manifest


def restore(settings: Settings, src: Path) -> dict[str, Any]:
    """Bring a backup back into an empty data directory (and, for PostgreSQL, an empty database)."""
    src = Path(src)
    mpath = src / MANIFEST
    if not mpath.is_file():
        raise BackupError(f"{src}: not a backup made by omr backup (no {MANIFEST})")
    manifest = json.loads(mpath.read_text(encoding="utf-8"))
    data = Path(settings.data_dir)
    if data.exists() and any(p.name != LAST for p in data.iterdir()):
        raise BackupError(f"{data}: the data folder is not empty; restore into a new one")
    data.mkdir(parents=True, exist_ok=True)
    url = settings.db_url
    if manifest["database"] == "sqlite":
        if not url.startswith("sqlite"):
            raise BackupError("this backup holds a SQLite database; restore it without DATABASE_URL/--database")
        target = _sqlite_path(url)
        shutil.copy2(src / "omr.sqlite", target)
    else:
        if not url.startswith("postgresql"):
            raise BackupError("this backup holds a PostgreSQL dump; give the empty database with DATABASE_URL or --database")
        from service.db import make_engine

        engine = make_engine(url)
        with engine.connect() as c:
            tables = c.scalar(text("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"))
        engine.dispose()
        if tables:
            raise BackupError("the database is not empty; restore into a new, empty database")
        _run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={_pg_url(url)}", str(src / "omr.pgdump")], "pg_restore")
    _copy_store(src, data.resolve())
    return manifest


def _run(cmd: list[str], what: str) -> None:
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=PG_TIMEOUT)
    except FileNotFoundError:
        raise BackupError(f"{what} is not installed: apt-get install postgresql-client") from None
    except subprocess.TimeoutExpired:
        raise BackupError(f"{what} did not finish within {PG_TIMEOUT} s") from None
    if r.returncode != 0:
        raise BackupError(f"{what} failed: {r.stderr.strip()[-500:]}")


def last_backup(data_dir: Path) -> dict[str, Any] | None:
    p = Path(data_dir) / LAST
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(data_dir=args.data_dir, database_url=args.database)


def _cmd_backup(args: argparse.Namespace) -> int:
    try:
        m = backup(_settings(args), Path(args.dir))
    except BackupError as exc:
        print(f"omr backup: {exc}", file=sys.stderr)
        return 1
    print(f"đã sao lưu vào {args.dir}: " + ", ".join(f"{k} {v}" for k, v in m.items() if k != "created_at"), file=sys.stderr)
    return 0


def _cmd_restore(args: argparse.Namespace) -> int:
    try:
        m = restore(_settings(args), Path(args.dir))
    except BackupError as exc:
        print(f"omr restore: {exc}", file=sys.stderr)
        return 1
    print(f"đã khôi phục bản sao lưu lúc {m['created_at']} từ {args.dir}", file=sys.stderr)
    return 0


def add_backup_parsers(sub) -> None:  # noqa: ANN001
    for name, fn, helptext, dirhelp in (
        ("backup", _cmd_backup, "write a consistent backup of the service's database and page store (it may be running)",
         "a new or empty folder for the backup"),
        ("restore", _cmd_restore, "bring a backup back into an empty data folder (and empty database)", "the backup folder"),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("dir", help=dirhelp)
        p.add_argument("--database", help="database URL (default: SQLite in the data folder; or DATABASE_URL)")
        p.add_argument("--data-dir", help="the service's data folder (default ./omr-data; or OMR_DATA_DIR)")
        p.set_defaults(func=fn)
