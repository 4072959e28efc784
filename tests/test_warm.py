"""Figures computed ahead (service.warm): after pages are stored and the data has been quiet, the round's own
view of the results page is in the cache before anyone asks, so the first reader's request runs no grouped
pass; a change is followed by a new pass."""
from __future__ import annotations

import random
import time

from fastapi.testclient import TestClient

from service import tallies
from service.app import create_app
from service.auth import add_user
from service.settings import Settings
from tests._review_seed import page1_fields, seed_pages


def _wait(cond, timeout: float = 20.0) -> bool:  # noqa: ANN001
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False


def _caught_up(app) -> bool:  # noqa: ANN001
    with app.state.factory() as s:
        return app.state.warmer.done_at == tallies.revision(s)


def test_the_first_view_after_a_batch_is_computed_ahead(tmp_path, db_url, monkeypatch):
    app = create_app(Settings(data_dir=tmp_path / "data", database_url=db_url, workers=1, ocr=False))
    warmer = app.state.warmer
    warmer.quiet, warmer.poll = 0.2, 0.5
    rng = random.Random(5)
    with TestClient(app) as c:
        with app.state.factory() as s, s.begin():
            admin = add_user(s, "admin1", "admin")
        h = {"Authorization": f"Bearer {admin}"}
        rid = c.post("/api/rounds", headers=h, json={"name": "W", "template": "sipas-2017"}).json()["id"]
        runs = warmer.runs
        seed_pages(app.state.factory, rid, {f"{k:06d}": {f: rng.choice([1, 2]) if f == "gioi_tinh" else rng.randint(1, 5)
                                                      for f in page1_fields()} for k in range(1, 13)}, agency="A1")
        assert _wait(lambda: warmer.runs > runs and _caught_up(app)), "no pass after the pages were stored"
        computed = tallies.indices_with_agencies

        def must_not_run(*a, **k):  # noqa: ANN002, ANN003, ANN202
            raise AssertionError("the first view computed its figures itself")

        monkeypatch.setattr(tallies, "indices_with_agencies", must_not_run)
        first = c.get(f"/api/indices?round={rid}&agencies=true", headers=h)
        assert first.status_code == 200, first.text
        assert [a["agency"] for a in first.json()["agencies"]] == ["A1"]
        monkeypatch.setattr(tallies, "indices_with_agencies", computed)
        with app.state.factory() as s:  # the figures are those of the data now
            from omr.template import load_template

            fresh = computed(s, load_template("sipas-2017"), rid)[0].to_json()
        assert first.json()["overall"] == fresh["overall"] and first.json()["sheets"] == fresh["sheets"] == 12

        # more pages: a new pass; the view shows them without computing in the request
        runs = warmer.runs
        seed_pages(app.state.factory, rid, {f"{k:06d}": {f: 5 for f in page1_fields()} for k in range(13, 16)}, agency="A2")
        assert _wait(lambda: warmer.runs > runs and _caught_up(app))
        monkeypatch.setattr(tallies, "indices_with_agencies", must_not_run)
        again = c.get(f"/api/indices?round={rid}&agencies=true", headers=h).json()
        assert again["sheets"] == 15 and {a["agency"] for a in again["agencies"]} == {"A1", "A2"}
        # a filtered view is not computed ahead: it runs its own pass
        monkeypatch.setattr(tallies, "indices_with_agencies", computed)
        assert c.get(f"/api/indices?round={rid}&agencies=true&channel=online", headers=h).json()["sheets"] == 0


def test_sqlite_statistics_follow_the_answers_as_they_grow(tmp_path):
    """SQLite gets planner statistics once the answers reach the threshold and again after they grow by half;
    the planner reads a respondent group from its sheets' index entries with them (measured in benchmarks/README.md)."""
    from sqlalchemy import func, select, text

    from service.db import make_engine, migrate, refresh_statistics
    from service.models import Answer

    app = create_app(Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
                              workers=1, ocr=False))
    with TestClient(app) as c:
        with app.state.factory() as s, s.begin():
            admin = add_user(s, "admin1", "admin")
        rid = c.post("/api/rounds", headers={"Authorization": f"Bearer {admin}"}, json={"name": "S", "template": "sipas-2017"}).json()["id"]
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    migrate(engine)
    factory = app.state.factory
    seed_pages(factory, rid, {f"{k:06d}": {f: 2 if f == "gioi_tinh" and k % 10 == 0 else 1 for f in page1_fields()} for k in range(1, 41)})
    with factory() as s:
        n = s.scalar(select(func.count()).select_from(Answer))
    assert not refresh_statistics(engine, min_rows=n + 1)  # below the threshold: nothing
    assert refresh_statistics(engine, min_rows=n)
    with engine.connect() as c:
        assert int(c.execute(text("SELECT stat FROM sqlite_stat1 WHERE tbl = 'answers'")).scalar().split()[0]) == n
    assert not refresh_statistics(engine, min_rows=n)  # not grown: not again
    seed_pages(factory, rid, {f"{k:06d}": {f: 1 for f in page1_fields()} for k in range(41, 71)})
    assert refresh_statistics(engine, min_rows=n)  # grown by 3/4
    with engine.connect() as c:
        assert int(c.execute(text("SELECT stat FROM sqlite_stat1 WHERE tbl = 'answers'")).scalar().split()[0]) > n
    engine.dispose()


def test_a_round_whose_form_is_gone_does_not_stop_the_others(tmp_path):
    from sqlalchemy import insert

    from service.models import Round
    from service.warm import warm

    app = create_app(Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
                              start_workers=False, ocr=False))
    with app.state.factory() as s, s.begin():
        ok = s.execute(insert(Round).values(name="ok", template="hue-2017", version=1, period="")).inserted_primary_key[0]
        s.execute(insert(Round).values(name="gone", template="mau-da-xoa", version=1, period=""))
        s.execute(insert(Round).values(name="closed", template="hue-2017", version=1, period="", state="closed"))
    with app.state.factory() as s:
        assert warm(s) == [ok]
