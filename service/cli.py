"""`omr serve`, `omr user add|list|disable|enable` and `omr export`: registered into the `omr` command by omr/cli.py.

Everything heavy (FastAPI, SQLAlchemy, the exports) is imported inside the
command functions, so the recognition commands never load it.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from omr.errors import OmrError

EXPORT_FORMATS = ("csv", "csv-labels", "xlsx", "sav", "json")  # kept equal to service.queries.EXPORT_FORMATS (tested)


class ExportError(OmrError):
    """omr export: bad input (unknown round or format, no database, unwritable file); exit code 2."""

    exit_code = 2


def _settings(args: argparse.Namespace):  # noqa: ANN202
    from service.settings import Settings

    return Settings.from_env(database_url=getattr(args, "database", None), data_dir=getattr(args, "data_dir", None),
                             workers=getattr(args, "workers", None))


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from service.app import create_app

    settings = _settings(args)
    app = create_app(settings)
    print(f"omr serve: http://{args.host}:{args.port}/  (API docs: /docs; data: {settings.data_dir.resolve()}; "
          f"database: {settings.db_url.split('@')[-1]})", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def _user_add(args: argparse.Namespace) -> int:
    from service.auth import add_user
    from service.db import make_engine, migrate, session_factory

    settings = _settings(args)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.db_url)
    migrate(engine)
    with session_factory(engine)() as s, s.begin():
        try:
            token = add_user(s, args.name, args.role)
        except ValueError as exc:
            print(f"omr user add: {exc}", file=sys.stderr)
            return 2
    print(token)
    print(f"user {args.name!r} ({args.role}): keep this token; it is shown only once", file=sys.stderr)
    return 0


def _user_db(args: argparse.Namespace):  # noqa: ANN202
    from service.db import make_engine, migrate, session_factory

    settings = _settings(args)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.db_url)
    migrate(engine)
    return engine, session_factory(engine)


def _user_list(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from service.auth import as_utc
    from service.models import User

    engine, factory = _user_db(args)
    try:
        with factory() as s:
            users = s.scalars(select(User).order_by(User.name)).all()
            rows = [(u.name, u.role, "active" if u.active else "disabled",
                     as_utc(u.last_login_at).strftime("%Y-%m-%d %H:%M UTC") if u.last_login_at else "never")
                    for u in users]
    finally:
        engine.dispose()
    head = ("name", "role", "state", "last sign-in")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(4)]
    for r in [head, *rows]:
        print("  ".join(str(v).ljust(w) for v, w in zip(r, widths)).rstrip())
    return 0


def _user_set_active(args: argparse.Namespace, active: bool) -> int:
    from service.auth import set_active

    engine, factory = _user_db(args)
    try:
        with factory() as s, s.begin():
            try:
                set_active(s, args.name, active)
            except ValueError as exc:
                print(f"omr user {'enable' if active else 'disable'}: {exc}", file=sys.stderr)
                return 2
    finally:
        engine.dispose()
    print(f"user {args.name!r}: {'enabled' if active else 'disabled; its token and browser sessions are refused from now on'}",
          file=sys.stderr)
    return 0


def _export(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from service.db import make_engine, migrate, session_factory
    from service.errors import ApiError
    from service.queries import round_export

    if args.format not in EXPORT_FORMATS:  # argparse checks too; this names the problem for direct callers
        raise ExportError(f"--format {args.format!r}: unknown format (known: {', '.join(EXPORT_FORMATS)})")
    out = Path(args.out)
    if out.is_dir():
        raise ExportError(f"--out {out}: is a folder; give the file to write, e.g. {out / ('export.' + args.format.split('-')[0])}")
    if not out.parent.is_dir():
        raise ExportError(f"--out {out}: the folder {out.parent} does not exist")
    settings = _settings(args)
    if not settings.database_url:
        db_file = settings.data_dir / "omr.sqlite"
        if not db_file.is_file():
            raise ExportError(f"no database at {db_file.resolve()}: give --data-dir (the folder `omr serve` uses) "
                              "or --database/DATABASE_URL")
    engine = make_engine(settings.db_url)
    try:
        migrate(engine)  # as `omr serve` does on start; a no-op when the schema is current
        with session_factory(engine)() as s:
            e = round_export(s, args.round, args.format, agency=args.agency)
    except ApiError as exc:
        raise ExportError(exc.detail) from None
    except SQLAlchemyError as exc:
        raise ExportError(f"database {settings.db_url.split('@')[-1]}: {exc.__class__.__name__}: "
                          f"{str(exc.orig if getattr(exc, 'orig', None) else exc).strip().splitlines()[0]}") from None
    finally:
        engine.dispose()
    _write_atomically(out, e.data)
    print(f"omr export: {out} ({len(e.data):,} bytes, {args.format})", file=sys.stderr)
    return 0


def _write_atomically(out: Path, data: bytes) -> None:
    """Write to a temporary file beside ``out`` and rename it: never a half-written export."""
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, out)
    except OSError as exc:
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)
        raise ExportError(f"--out {out}: cannot write: {exc.strerror or exc}") from None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--database", help="database URL (default: SQLite in the data folder; or DATABASE_URL)")
    p.add_argument("--data-dir", help="where page images and the SQLite file live (default ./omr-data; or OMR_DATA_DIR)")


def add_service_parsers(sub) -> None:  # noqa: ANN001
    sv = sub.add_parser("serve", help="run the web service (API and review pages)")
    sv.add_argument("--host", default="127.0.0.1")
    sv.add_argument("--port", type=int, default=8000)
    sv.add_argument("--workers", type=int, help="page-reading processes (default 2)")
    _common(sv)
    sv.set_defaults(func=_serve)
    us = sub.add_parser("user", help="accounts")
    usub = us.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    ua = usub.add_parser("add", help="create a user (or give it a new token); prints the token")
    ua.add_argument("name")
    ua.add_argument("--role", required=True, choices=["admin", "operator", "reviewer", "viewer"])
    _common(ua)
    ua.set_defaults(func=_user_add)
    ul = usub.add_parser("list", help="every user: name, role, active or disabled, last sign-in")
    _common(ul)
    ul.set_defaults(func=_user_list)
    ud = usub.add_parser("disable", help="refuse a user's token and end its browser sessions (the account is kept)")
    ud.add_argument("name")
    _common(ud)
    ud.set_defaults(func=lambda a: _user_set_active(a, False))
    ue = usub.add_parser("enable", help="accept a disabled user's token again")
    ue.add_argument("name")
    _common(ue)
    ue.set_defaults(func=lambda a: _user_set_active(a, True))
    ex = sub.add_parser(
        "export", help="write a round's answers and indices from the service's database (as GET /api/export)",
        description="Xuất kết quả một đợt khảo sát từ cơ sở dữ liệu của dịch vụ: cùng nội dung như GET /api/export.",
    )
    ex.add_argument("--round", required=True, help="round id or name, e.g. 3 or 'Đợt 1/2026'")
    ex.add_argument("--agency", help="only this agency code")
    ex.add_argument("--format", required=True, choices=EXPORT_FORMATS,
                    help="csv (codes), csv-labels (Vietnamese headers and labels), xlsx, sav (SPSS) or json")
    ex.add_argument("--out", required=True, help="the file to write")
    _common(ex)
    ex.set_defaults(func=_export)
