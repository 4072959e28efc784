"""`omr serve` and `omr user add`: registered into the `omr` command by omr/cli.py."""
from __future__ import annotations

import argparse
import sys


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
