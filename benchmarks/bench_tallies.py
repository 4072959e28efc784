"""Tallies and indices for a round of 50,000 sheets, computed in the database.

    python benchmarks/bench_tallies.py [--sheets 50000] [--database URL]

Fills a fresh database with a round of synthetic final answers (every
sipas-2017 field of both pages for each sheet; 3% of criteria pending review),
then times `service.tallies.indices` (the SQL behind GET /api/indices) and
`service.tallies.counts` (GET /api/tallies), three runs each, best and worst.
Default: a SQLite file and the PostgreSQL at 127.0.0.1:5432.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert  # noqa: E402

from omr.layout import layout  # noqa: E402
from omr.template import load_template  # noqa: E402
from service import tallies  # noqa: E402
from service.db import make_engine, migrate, session_factory  # noqa: E402
from service.models import Answer, Batch, Page, Round, UploadedFile  # noqa: E402


def fill(url: str, n_sheets: int) -> tuple[int, float]:
    engine = make_engine(url)
    migrate(engine)
    t = load_template("sipas-2017")
    pages = layout(t).pages
    rng = random.Random(1)
    t0 = time.perf_counter()
    with engine.begin() as c:
        rid = c.execute(insert(Round).values(name="bench", template=t.id, version=t.version, period="")).inserted_primary_key[0]
        bid = c.execute(insert(Batch).values(round_id=rid, created_by="bench", agency="A")).inserted_primary_key[0]
        fid = c.execute(insert(UploadedFile).values(batch_id=bid, round_id=rid, filename="x", sha256="0" * 64, size=0, status="split")).inserted_primary_key[0]
    page_rows, answer_rows = [], []
    pid = 0
    agencies = [f"A{k}" for k in range(12)]
    for sh in range(n_sheets):
        ag = agencies[sh % len(agencies)]
        for p in pages:
            pid += 1
            page_rows.append(dict(id=pid, batch_id=bid, round_id=rid, file_id=fid, index=pid, status="done", result_status="ok",
                                  template=t.id, version=t.version, sheet=f"{sh:06d}", page_no=p.page, agency=ag, attempts=1))
            for f in p.fields:
                if f.kind == "single":
                    v = rng.choices([1, 2, 3, 4, 5], [4, 6, 15, 45, 30])[0]
                    status = "uncertain" if rng.random() < 0.03 else "answered"
                    answer_rows.append(dict(page_id=pid, round_id=rid, field_id=f.id, value=v, value_int=v, status=status,
                                            confidence=1.0, source="engine", counted=True, sheet=f"{sh:06d}", agency=ag))
                else:
                    answer_rows.append(dict(page_id=pid, round_id=rid, field_id=f.id, value=None, value_int=None,
                                            status="blank", confidence=1.0, source="engine", counted=True, sheet=f"{sh:06d}", agency=ag))
        if len(answer_rows) > 50_000:
            _flush(engine, page_rows, answer_rows)
    _flush(engine, page_rows, answer_rows)
    with session_factory(engine)() as s, s.begin():
        tallies.rebuild_summaries(s, rid)  # what the service keeps in step page by page
    return rid, time.perf_counter() - t0


def _flush(engine, page_rows, answer_rows) -> None:  # noqa: ANN001
    with engine.begin() as c:  # noqa: SIM117
        if page_rows:
            c.execute(insert(Page), page_rows)
        if answer_rows:
            c.execute(insert(Answer), answer_rows)
    page_rows.clear()
    answer_rows.clear()


def bench(url: str, n: int, label: str) -> None:
    rid, t_fill = fill(url, n)
    engine = make_engine(url)
    factory = session_factory(engine)
    t = load_template("sipas-2017")
    times_i, times_c = [], []
    for _ in range(3):
        with factory() as s:
            t0 = time.perf_counter()
            res = tallies.indices(s, t, rid)
            times_i.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            tallies.counts(s, rid)
            times_c.append(time.perf_counter() - t0)
    with factory() as s:
        t0 = time.perf_counter()
        tallies.indices(s, t, rid, agency="A3")
        t_ag = time.perf_counter() - t0
        t0 = time.perf_counter()
        per = tallies.indices_by_agency(s, t, rid)
        t_rank = time.perf_counter() - t0
    print(f"{label}: {n} sheets ({n * 2} pages) filled in {t_fill:.0f} s; overall index {res.overall:.2f}%, "
          f"n={res.to_json().get('n')}, pending {res.to_json().get('pending_review')}")
    print(f"  indices (GET /api/indices): best {min(times_i):.3f} s, worst {max(times_i):.3f} s")
    print(f"  tallies (GET /api/tallies): best {min(times_c):.3f} s, worst {max(times_c):.3f} s")
    print(f"  indices for one agency of 12: {t_ag:.3f} s")
    print(f"  indices of all {len(per)} agencies for the ranking (GET /api/indices adds it): {t_rank:.3f} s")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sheets", type=int, default=50_000)
    ap.add_argument("--database", action="append", help="database URL (repeatable)")
    a = ap.parse_args()
    urls = a.database or []
    if not urls:
        tmp = Path(tempfile.mkdtemp())
        urls.append(f"sqlite:///{tmp / 'bench.sqlite'}")
        import psycopg

        name = f"omr_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        urls.append(f"postgresql://postgres@127.0.0.1:5432/{name}")
    for url in urls:
        bench(url, a.sheets, url.split("://")[0])
        if "omr_bench_" in url:
            import psycopg

            with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
