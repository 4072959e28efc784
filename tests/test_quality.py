"""The blind double check of the engine's accepted answers (service.quality, /api/quality): the Wilson
interval computed by hand, a sample drawn without showing the engine's answer, disagreements settled by a
second reviewer whose reading stands and corrects the answer, and — on a round with a known number of wrong
accepted answers planted (fixed seed) — an interval that contains the true error rate."""
from __future__ import annotations

import math
import random
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.app import create_app
from service.auth import add_user
from service.models import Answer, AuditEntry, QualityCheck
from service.quality import drawn, wilson
from service.settings import Settings
from tests._review_seed import page1_fields, seed_pages

OPTIONS = {"gioi_tinh": [1, 2], "do_tuoi": [1, 2, 3, 4, 5], "trinh_do": [1, 2, 3, 4, 5, 6], "nghe_nghiep": list(range(1, 8))}


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_wilson_interval_by_hand():
    # 2 wrong of 50 checked: p = 0.04, z = 1.959964, z² = 3.841459
    #   d      = 1 + z²/n                     = 1 + 3.841459/50                        = 1.07682918
    #   centre = (p + z²/2n) / d              = (0.04 + 0.03841459) / 1.07682918      = 0.07281990
    #   half   = z·√(p(1−p)/n + z²/4n²) / d   = 1.959964 · √(0.000768 + 0.00038415) / d = 1.959964 · 0.03394327 / d = 0.06178101
    lo, hi = wilson(2, 50)
    assert lo == pytest.approx(0.07281990 - 0.06178101, abs=2e-8) and hi == pytest.approx(0.07281990 + 0.06178101, abs=2e-8)
    assert (round(lo, 4), round(hi, 4)) == (0.0110, 0.1346)
    # none wrong of 200: the interval is [0, z²/(n + z²)] = [0, 3.841459/203.841459]
    assert wilson(0, 200) == (0.0, pytest.approx(3.841459 / 203.841459, abs=1e-8))
    assert wilson(3, 3)[1] == 1.0 and wilson(0, 0) is None
    with pytest.raises(ValueError):
        wilson(4, 3)


def test_the_draw_is_fixed_and_takes_its_share():
    picks = [drawn(7, p, f, 0.005) for p in range(1, 2001) for f in page1_fields()]
    assert picks == [drawn(7, p, f, 0.005) for p in range(1, 2001) for f in page1_fields()]
    share = sum(picks) / len(picks)  # 26,000 answers at 1 in 200: 130 expected
    assert 0.0035 < share < 0.0065
    assert not any(drawn(7, p, "c01", 0) for p in range(1, 500))


def _sheets(n: int, rng: random.Random) -> dict[str, dict[str, int]]:
    return {f"{k:06d}": {f: rng.choice(OPTIONS.get(f, [1, 2, 3, 4, 5])) for f in page1_fields()} for k in range(1, n + 1)}


@contextmanager
def _service(tmp_path: Path, db_url: str, sheets: dict[str, dict[str, int]]):  # noqa: ANN202
    with TestClient(create_app(Settings(data_dir=tmp_path / "data", database_url=db_url, workers=1, ocr=False))) as c:
        with c.app.state.factory() as s, s.begin():
            tok = {n: add_user(s, n, role) for n, role in (("admin1", "admin"), ("rv1", "reviewer"), ("rv2", "reviewer"),
                                                          ("viewer1", "viewer"))}
        r = c.post("/api/rounds", headers=_h(tok["admin1"]), json={"name": "QC", "template": "sipas-2017"})
        assert r.status_code == 201
        seed_pages(c.app.state.factory, r.json()["id"], sheets)
        yield c, tok


def _engine(c, check_id: int):  # noqa: ANN001, ANN202
    with c.app.state.factory() as s:
        qc = s.get(QualityCheck, check_id)
        a = s.scalar(select(Answer).where(Answer.page_id == qc.page_id, Answer.field_id == qc.field_id))
        return qc.engine_value, a


def test_blind_check_second_reviewer_and_the_rate(tmp_path, db_url):
    with _service(tmp_path, db_url, _sheets(60, random.Random(1))) as (c, tok):
        assert c.put("/api/quality/settings?round=QC", headers=_h(tok["rv1"]), json={"rate": 0.1}).status_code == 403
        assert c.put("/api/quality/settings?round=QC", headers=_h(tok["admin1"]), json={"rate": 2}).status_code == 422
        r = c.put("/api/quality/settings?round=QC", headers=_h(tok["admin1"]), json={"rate": 0.05, "limit": 0.01})
        assert r.json() == {"round": "QC", "rate": 0.05, "limit": 0.01, "min_sample": None}
        q = c.get("/api/quality?round=QC", headers=_h(tok["viewer1"])).json()
        assert q["population"] == 60 * 13 and 15 <= q["sampled"] <= 65 and q["checked"] == 0
        assert q["error_rate"] is None and q["ci95"] is None and q["estimated_wrong"] is None and "not measured" in q["warning"]
        assert c.get("/api/quality?round=QC", headers=_h(tok["viewer1"])).json()["sampled"] == q["sampled"]  # drawn once
        assert c.get("/api/quality/next?round=QC", headers=_h(tok["viewer1"])).status_code == 403

        # blind: nothing in what the reviewer gets tells the engine's answer
        one = c.get("/api/quality/next?round=QC", headers=_h(tok["rv1"])).json()
        assert {"value", "proposed", "marks", "status"}.isdisjoint(one) and one["stage"] == "first" and one["options"]
        ev, _ = _engine(c, one["id"])
        r = c.post(f"/api/quality/{one['id']}", headers=_h(tok["rv1"]), json={"value": ev, "revision": one["revision"]})
        assert r.json() == {"id": one["id"], "stage": "done", "revision": 1, "settled": True, "corrected": False}

        # a first reading that differs goes to a second reviewer (never the first one)
        two = c.get("/api/quality/next?round=QC", headers=_h(tok["rv1"])).json()
        ev2, _ = _engine(c, two["id"])
        other = next(o["value"] for o in two["options"] if o["value"] != ev2)
        assert c.post(f"/api/quality/{two['id']}", headers=_h(tok["rv1"]), json={"value": other}).json()["stage"] == "second"
        assert c.post(f"/api/quality/{two['id']}", headers=_h(tok["rv1"]), json={"value": ev2}).status_code == 409
        nxt = c.get("/api/quality/next?round=QC", headers=_h(tok["rv1"])).json()
        assert nxt["id"] != two["id"] and nxt["stage"] == "first"
        got = c.get("/api/quality/next?round=QC", headers=_h(tok["rv2"])).json()
        assert got["id"] == two["id"] and got["stage"] == "second"  # disagreements first
        # the second reads as the engine: the engine was right, the answer stays
        r = c.post(f"/api/quality/{two['id']}", headers=_h(tok["rv2"]), json={"value": ev2}).json()
        assert r["settled"] and not r["corrected"]
        assert _engine(c, two["id"])[1].value == ev2

        # the one rv1 holds now: read differently by both; the engine was wrong and the answer is corrected
        ev3, _ = _engine(c, nxt["id"])
        wrong = next(o["value"] for o in nxt["options"] if o["value"] != ev3)
        c.post(f"/api/quality/{nxt['id']}", headers=_h(tok["rv1"]), json={"value": wrong})
        assert c.get("/api/quality/next?round=QC", headers=_h(tok["rv2"])).json()["id"] == nxt["id"]
        r = c.post(f"/api/quality/{nxt['id']}", headers=_h(tok["rv2"]), json={"value": wrong}).json()
        assert r["corrected"]
        _, a = _engine(c, nxt["id"])
        assert (a.value, a.status, a.source, a.updated_by) == (wrong, "answered", "reviewer", "rv2")
        with c.app.state.factory() as s:
            e = s.scalar(select(AuditEntry).where(AuditEntry.action == "quality correct"))
            assert e.old["value"] == ev3 and e.new == {"value": wrong, "status": "answered", "check": nxt["id"]}
        assert c.post(f"/api/quality/{nxt['id']}", headers=_h(tok["rv2"]), json={"value": wrong}).status_code == 409

        q = c.get("/api/quality?round=QC", headers=_h(tok["viewer1"])).json()
        lo, hi = wilson(1, 3)
        assert (q["checked"], q["disagreements"], q["wrong"]) == (3, 2, 1)
        assert q["error_rate"] == pytest.approx(1 / 3, abs=1e-6) and q["ci95"] == [pytest.approx(lo, abs=1e-6), pytest.approx(hi, abs=1e-6)]
        assert q["estimated_wrong"] == round(q["population"] / 3) and q["population"] == 60 * 13
        assert q["second_readings"] == 2 and q["second_agrees_first"] == 1
        assert q["over_limit"] and "exceed the round's limit of 1.00%" in q["warning"]
        # the reviewers' work: rv1 read three first (two held: the agreed one and the one the second confirmed)
        by = {r["name"]: r for r in c.get("/api/review/stats?round=QC", headers=_h(tok["viewer1"])).json()["reviewers"]}
        assert (by["rv1"]["qc_first"], by["rv1"]["qc_agreement"], by["rv2"]["qc_second"]) == (3, round(2 / 3, 4), 2)


def test_planted_wrong_answers_fall_inside_the_interval(tmp_path):
    """400 sheets (5,200 accepted answers), 1.5% of them planted wrong; a 15% sample read by a reviewer who
    misreads 3% of the time and settled by a second who reads the truth: the Wilson interval holds the true rate."""
    rng = random.Random(20260401)
    truth = _sheets(400, rng)
    fields = page1_fields()
    cells = [(sheet, f) for sheet in truth for f in fields]
    planted = set(rng.sample(cells, k=round(0.015 * len(cells))))
    engine = {sheet: {f: (v if (sheet, f) not in planted else next(o for o in OPTIONS.get(f, [1, 2, 3, 4, 5]) if o != v))
                      for f, v in row.items()} for sheet, row in truth.items()}
    with _service(tmp_path, f"sqlite:///{tmp_path / 'qc.sqlite'}", engine) as (c, tok):
        c.put("/api/quality/settings?round=QC", headers=_h(tok["admin1"]), json={"rate": 0.15})
        with c.app.state.factory() as s:
            from service.models import Page

            sheet_of = {p.id: p.sheet for p in s.scalars(select(Page))}

        def read(check: dict, careless: bool) -> int:
            with c.app.state.factory() as s:
                qc = s.get(QualityCheck, check["id"])
                v = truth[sheet_of[qc.page_id]][qc.field_id]
            if careless and rng.random() < 0.03:
                return rng.choice([o["value"] for o in check["options"] if o["value"] != v])
            return v

        for who, careless in (("rv1", True), ("rv2", False)):
            while (n := c.get("/api/quality/next?round=QC", headers=_h(tok[who]))).status_code == 200:
                check = n.json()
                assert c.post(f"/api/quality/{check['id']}", headers=_h(tok[who]),
                              json={"value": read(check, careless and check["stage"] == "first")}).status_code == 200
        q = c.get("/api/quality?round=QC", headers=_h(tok["viewer1"])).json()
        true_rate = len(planted) / len(cells)
        assert q["population"] == len(cells) and q["pending"] == 0 and q["checked"] == q["sampled"] > 600
        assert q["ci95"][0] <= true_rate <= q["ci95"][1], (q, true_rate)
        assert q["estimated_wrong_ci95"][0] <= len(planted) <= q["estimated_wrong_ci95"][1]
        assert q["over_limit"]  # 1.5% wrong is above the default limit of 0.5%
        # every wrong answer found in the sample is corrected to the truth and no right one was changed; a planted
        # one slips through only when the first reader misread it into the engine's very mistake
        slipped = 0
        with c.app.state.factory() as s:
            for qc in s.scalars(select(QualityCheck)):
                a = s.scalar(select(Answer).where(Answer.page_id == qc.page_id, Answer.field_id == qc.field_id))
                sheet = sheet_of[qc.page_id]
                if qc.wrong:
                    assert (sheet, qc.field_id) in planted and a.value == truth[sheet][qc.field_id]
                elif (sheet, qc.field_id) in planted:
                    assert qc.first_value == qc.engine_value != truth[sheet][qc.field_id]
                    slipped += 1
                else:
                    assert a.value == truth[sheet][qc.field_id]
        assert q["wrong"] >= 5 and slipped <= 1
        assert math.isclose(q["error_rate"], q["wrong"] / q["checked"], abs_tol=1e-6)


def test_a_0004_database_gains_the_quality_tables(tmp_path):
    """Migration 0005 on a database of revision 0004, twice (idempotent like the others)."""
    from sqlalchemy import inspect, text

    from service.db import make_engine, migrate

    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    migrate(engine)
    with engine.begin() as c:  # make it look like a database written at revision 0004
        c.execute(text("DROP TABLE quality_checks"))
        for col in ("qc_rate", "qc_limit", "qc_upto", "min_sample"):
            c.execute(text(f"ALTER TABLE rounds DROP COLUMN {col}"))
        c.execute(text("UPDATE alembic_version SET version_num = '0004'"))
        c.execute(text("INSERT INTO rounds (id, name, template, version, period, created_at, state) "
                       "VALUES (1, 'r', 'sipas-2017', 1, '', '2026-01-01', 'open')"))
    migrate(engine)
    migrate(engine)
    insp = inspect(engine)
    assert "quality_checks" in insp.get_table_names()
    assert {"qc_rate", "qc_limit", "qc_upto", "min_sample"} <= {col["name"] for col in insp.get_columns("rounds")}
    with engine.connect() as c:
        assert c.execute(text("SELECT qc_upto, qc_rate FROM rounds")).one() == (0, None)
        assert c.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0006"
    assert "ix_answers_round_newest" in {ix["name"] for ix in insp.get_indexes("answers")}  # 0006


def test_a_0005_database_gains_the_index_of_a_rounds_newest_answer(tmp_path):
    """Migration 0006 on a database of revision 0005 (twice), and the newest answer of a round read from it."""
    from sqlalchemy import func, inspect, text

    from service.db import make_engine, migrate

    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    migrate(engine)
    with engine.begin() as c:
        c.execute(text("DROP INDEX ix_answers_round_newest"))
        c.execute(text("UPDATE alembic_version SET version_num = '0005'"))
    assert "ix_answers_round_newest" not in {ix["name"] for ix in inspect(engine).get_indexes("answers")}
    migrate(engine)
    migrate(engine)
    assert "ix_answers_round_newest" in {ix["name"] for ix in inspect(engine).get_indexes("answers")}
    with engine.connect() as c:
        sql = str(select(func.max(Answer.id)).where(Answer.round_id == 1).compile(engine, compile_kwargs={"literal_binds": True}))
        plan = " ".join(str(r) for r in c.execute(text("EXPLAIN QUERY PLAN " + sql)))
        assert "ix_answers_round_newest" in plan, plan


def test_population_leaves_out_every_answer_once_queued_for_review(tmp_path, db_url):
    """The population (the answers the engine accepted by itself) is counted from an index and the round's review
    items; it must equal the definition (final engine answers with no review item), queued twice or not."""
    from sqlalchemy import func

    from service.models import Page, ReviewItem, Round
    from service.quality import _accepted, accepted_count, checked_fields

    with _service(tmp_path, db_url, _sheets(20, random.Random(3))) as (c, tok):
        with c.app.state.factory() as s, s.begin():
            r = s.scalar(select(Round).where(Round.name == "QC"))
            fields = checked_fields(r.template, r.version)
            answers = s.scalars(select(Answer).where(Answer.round_id == r.id, Answer.field_id.in_(fields)).order_by(Answer.id)).all()
            before = accepted_count(s, r.id, fields)
            assert before == 20 * 13
            queued = answers[::7]
            for a in queued:
                page = s.get(Page, a.page_id)
                for _ in range(1 + (a.id % 2)):  # some answers were queued twice (decided, then queued again)
                    s.add(ReviewItem(round_id=r.id, batch_id=page.batch_id, page_id=a.page_id, field_id=a.field_id,
                                     reason="faint", state="done"))
            page = s.get(Page, answers[1].page_id)
            s.add(ReviewItem(round_id=r.id, batch_id=page.batch_id, page_id=page.id, field_id=None, kind="page", reason="page"))
            answers[2].source = "reviewer"  # a person's answer is not the engine's
            s.flush()
            by_definition = s.scalar(select(func.count()).select_from(Answer).where(_accepted(r.id, fields)))
            expected = before - len({(a.page_id, a.field_id) for a in queued} | {(answers[2].page_id, answers[2].field_id)})
            assert accepted_count(s, r.id, fields) == by_definition == expected
