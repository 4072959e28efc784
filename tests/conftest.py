"""Shared fixtures: a fresh database per test, on SQLite and on the PostgreSQL of this machine."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_ADMIN_URL = os.environ.get("OMR_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_available() -> str | None:
    try:
        import psycopg

        psycopg.connect(PG_ADMIN_URL, connect_timeout=3).close()
        return None
    except Exception as exc:  # noqa: BLE001
        return str(exc)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'omr.sqlite'}"
        return
    err = _pg_available()
    if err:
        if os.environ.get("OMR_SKIP_POSTGRES") == "1":
            pytest.skip("PostgreSQL skipped on request (OMR_SKIP_POSTGRES=1)")
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {err}. Start it or set OMR_SKIP_POSTGRES=1.")
    import psycopg

    name = f"omr_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def clean_scans(tmp_path_factory) -> Path:
    """A small generated batch of clean pages with ground truth (2 hue-2017 + 2 sipas-2017 sheets)."""
    from samples.generate import generate

    out = tmp_path_factory.mktemp("clean-scans")
    generate(out, ["hue-2017", "sipas-2017"], sheets=2, seed=11, profile="clean", dpi=150, workers=2)
    return out
