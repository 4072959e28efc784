"""Grid review against the one-by-one queue: a scripted reviewer over a queue of like items, in both modes.

    .venv/bin/python benchmarks/bench_review_grid.py [--items 500] [--grid 30] [--look-item 1.0] [--look-crop 0.12] [--screen 1.0]

Builds a sipas-2017 round whose queue holds ``--items`` like items (criterion c07, a faint mark, the engine
proposing 4: the case a national round is full of). One sheet is really scanned (tests/_like_scans.py) and
read by the engine; its aligned image stands behind every seeded page, so each crop is cut and encoded for
real. The pages and answers are written by the worker's own writer (tests/_review_seed.py). Then, through the
service in-process (FastAPI TestClient, SQLite), a scripted reviewer works the whole queue twice, on two
copies of the round:

* single: GET /api/review/next, its crop, POST /api/review/{id} (accept), item after item;
* grid:   GET /api/review/grid (``--grid`` items), every crop (?part=boxes), POST /api/review/bulk (accept).

It prints the service's CPU time per item in each mode (client and server share the process; CPU time, not
wall time, so that other work on the machine does not count), and items per minute for a person, adding the time a
person needs to look: ``--look-item`` seconds per item in the queue (the issue's "one item a second"),
``--look-crop`` seconds per crop glanced at in a grid of like crops plus ``--screen`` seconds per grid (Enter,
eyes back to the top). The person's times are the model's assumptions, printed with the figures; change them
to see how the ratio moves. Benchmarks print; they assert nothing.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def build(tmp: Path, items: int):  # noqa: ANN201
    from fastapi.testclient import TestClient

    from service.app import create_app
    from service.auth import add_user
    from service.settings import Settings
    from tests._like_scans import like_sheets
    from tests._review_seed import seed_pages

    c = TestClient(create_app(Settings(data_dir=tmp / "data", database_url=f"sqlite:///{tmp / 'db.sqlite'}", workers=1, ocr=False)))
    c.__enter__()
    with c.app.state.factory() as s, s.begin():
        tok, adm = add_user(s, "rv", "reviewer"), add_user(s, "admin", "admin")
    h, ha = {"Authorization": f"Bearer {tok}"}, {"Authorization": f"Bearer {adm}"}
    scan = like_sheets(tmp / "scan", 1, first_serial=900000)[0]
    rounds = {}
    for mode in ("single", "grid"):
        rid = c.post("/api/rounds", headers=ha, json={"name": mode, "template": "sipas-2017"}).json()["id"]
        up = c.post("/api/batches", headers=ha, files=[("files", (scan.name, scan.read_bytes()))], data={"round": mode}).json()
        while c.get(f"/api/batches/{up['id']}", headers=h).json()["status"] not in ("done", "failed"):
            time.sleep(0.2)
        from service.models import Page

        with c.app.state.factory() as s:
            sha = s.query(Page.aligned_sha256).filter(Page.round_id == rid, Page.aligned_sha256.is_not(None)).scalar()
        fields = {"gioi_tinh": 1, "do_tuoi": 2, "trinh_do": 3, "nghe_nghiep": 1, "c07": (4, "uncertain", "faint mark")}
        # the real scan's own item(s) stay in the queue: a few more like items, the same in both modes
        seed_pages(c.app.state.factory, rid, {f"{k:06d}": fields for k in range(1, items)}, aligned_sha=sha)
        rounds[mode] = rid
    return c, h, rounds


def run_single(c, h, rid: int) -> tuple[int, float]:  # noqa: ANN001
    done, t0 = 0, time.process_time()
    while (n := c.get(f"/api/review/next?round={rid}", headers=h)).status_code == 200:
        item = n.json()
        assert c.get(item["image_url"], headers=h).status_code == 200
        value = {"not_questionnaire": True} if item["field_kind"] == "page" else item["proposed"]
        body = {"value": value, "revision": item["revision"]}
        if item["status"] == "multiple":
            body = {"invalid": True, "revision": item["revision"]}
        assert c.post(f"/api/review/{item['id']}", headers=h, json=body).status_code == 200
        done += 1
    return done, time.process_time() - t0


def run_grid(c, h, rid: int, size: int) -> tuple[int, int, float]:  # noqa: ANN001
    done, screens, t0 = 0, 0, time.process_time()
    while (g := c.get(f"/api/review/grid?round={rid}&size={size}", headers=h)).status_code == 200:
        items = g.json()["items"]
        for i in items:
            assert c.get(i["image_url"] + "?part=boxes", headers=h).status_code == 200
        r = c.post("/api/review/bulk", headers=h, json={"accept": True, "items": [{"id": i["id"], "revision": i["revision"]} for i in items]})
        assert r.status_code == 200, r.text
        done += len(items)
        screens += 1
    return done, screens, time.process_time() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--items", type=int, default=500)
    ap.add_argument("--grid", type=int, default=30)
    ap.add_argument("--look-item", type=float, default=1.0, help="seconds a person looks at one item in the queue")
    ap.add_argument("--look-crop", type=float, default=0.12, help="seconds a person glances at one crop in a grid of like crops")
    ap.add_argument("--screen", type=float, default=1.0, help="seconds per grid screen (Enter, eyes back to the top)")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-grid-"))
    try:
        c, h, rounds = build(tmp, a.items)
        n1, t1 = run_single(c, h, rounds["single"])
        n2, screens, t2 = run_grid(c, h, rounds["grid"], a.grid)
        c.__exit__(None, None, None)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    m1, m2 = t1 / n1, t2 / n2
    p1 = a.look_item
    p2 = a.look_crop + a.screen * screens / n2
    print(f"queue: {n1} items (single), {n2} items in {screens} grids of up to {a.grid} (grid); SQLite, in-process")
    print(f"service CPU per item:    single {1000 * m1:7.1f} ms   grid {1000 * m2:7.1f} ms   ({m1 / m2:.1f}x)")
    print(f"service alone, items/min: single {60 / m1:7.0f}      grid {60 / m2:7.0f}")
    print(f"person model: {a.look_item:.2f} s per queued item; {a.look_crop:.2f} s per crop + {a.screen:.2f} s per grid")
    s1, s2 = 60 / (m1 + p1), 60 / (m2 + p2)
    print(f"reviewer items/min:       single {s1:7.1f}      grid {s2:7.1f}   (grid = {s2 / s1:.1f}x single)")


if __name__ == "__main__":
    main()
