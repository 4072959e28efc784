"""Database engine, sessions and migrations (SQLite by default, PostgreSQL by URL)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, pool_pre_ping=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")  # readers never wait for the worker's writes
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def migrate(engine: Engine) -> None:
    """Bring the schema up to date (run on every start; a no-op when it is)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def refresh_statistics(engine: Engine, *, min_rows: int = 20_000, growth: float = 1.5) -> bool:
    """SQLite: ``ANALYZE`` once the answers table holds ``min_rows`` rows and again each time it has grown by
    ``growth`` since; returns True when it ran. Without statistics SQLite's planner filters a respondent group by
    scanning every answer of the round (0.75 s for 1.1 million) instead of reading the group's sheets from
    ix_answers_sheet (0.23 s); the run itself reads every index once (2 s for 1.5 million answers), so growth
    steps keep its total cost within a few times the last one. PostgreSQL: nothing (autovacuum analyses)."""
    if engine.dialect.name != "sqlite":
        return False
    with engine.connect() as c:
        rows = c.execute(text("SELECT max(id) FROM answers")).scalar() or 0  # rows are seldom deleted: the newest id
        if rows < min_rows:
            return False
        has_stats = c.execute(text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")).scalar()
        stat = c.execute(text("SELECT stat FROM sqlite_stat1 WHERE tbl = 'answers' LIMIT 1")).scalar() if has_stats else None
        if stat is not None and rows < growth * int(stat.split()[0]):
            return False
        c.execute(text("ANALYZE"))
        c.commit()
    return True


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    with factory() as s:
        with s.begin():
            yield s
