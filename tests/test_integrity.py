"""Nothing lost, nothing merged: the data-integrity defects of issue 10, each driven as a user would.

Every test runs on SQLite and on the PostgreSQL of this machine (``db_url``)."""
from __future__ import annotations

import csv
import io
import json
import socket
import threading
import time
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
import uvicorn
from fastapi.testclient import TestClient

from omr.layout import layout
from omr.template import load_template
from service.app import create_app
from service.auth import add_user
from service.settings import Settings

MM = 150 / 25.4  # the generated clean scans are A4 at 150 dpi, unshifted


def _client(tmp_path: Path, db_url: str, **over) -> TestClient:
    return TestClient(create_app(Settings(data_dir=tmp_path / "data", database_url=db_url, workers=2, ocr=False, **over)))


def _tokens(c: TestClient) -> dict[str, str]:
    with c.app.state.factory() as s, s.begin():
        return {name: add_user(s, name, role) for name, role in
                (("admin", "admin"), ("op", "operator"), ("rv1", "reviewer"), ("rv2", "reviewer"), ("viewer", "viewer"))}


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _upload(c, token: str, paths: list[Path], round_ref: str, agency: str | None = None):  # noqa: ANN001
    data = {"round": round_ref, **({"agency": agency} if agency else {})}
    r = c.post("/api/batches", headers=_h(token), files=[("files", (p.name, p.read_bytes())) for p in paths], data=data)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _wait(c, token: str, batch_id: int, timeout: float = 120.0) -> dict:  # noqa: ANN001
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        b = c.get(f"/api/batches/{batch_id}", headers=_h(token)).json()
        if b["status"] in ("done", "failed"):
            return b
        time.sleep(0.2)
    raise AssertionError(f"batch {batch_id} not done: {b}")


def _items(c, token: str, batch_id: int) -> list[dict]:  # noqa: ANN001
    """Every pending item of a batch, claimed by ``token``'s reviewer (left undecided)."""
    out: list[dict] = []
    while True:
        r = c.get(f"/api/review/next?batch={batch_id}&exclude={','.join(str(i['id']) for i in out)}", headers=_h(token))
        if r.status_code == 204:
            return out
        out.append(r.json())


def _box_px(template: str, field_id: str, value: int) -> tuple[int, int, int, int]:
    _, f = layout(load_template(template)).field(field_id)
    o = next(o for o in f.options if o.value == value and o.digit is None)
    x, y, w, h = o.box
    return int(x * MM), int(y * MM), int((x + w) * MM), int((y + h) * MM)


def _cross(img: np.ndarray, box: tuple[int, int, int, int]) -> None:
    """A ballpoint cross drawn by another hand than the sample generator's: slanted, past the corners."""
    x0, y0, x1, y1 = box
    cv2.line(img, (x0 + 1, y0 + 2), (x1 - 2, y1 - 1), 30, 2, cv2.LINE_AA)
    cv2.line(img, (x1 - 1, y0 + 1), (x0 + 2, y1 - 2), 30, 2, cv2.LINE_AA)


@pytest.fixture(scope="module")
def twin_scans(tmp_path_factory) -> Path:
    """Other respondents' sheets printed with the same serials as ``clean_scans`` (a second print run)."""
    from samples.generate import generate

    out = tmp_path_factory.mktemp("twin-scans")
    generate(out, ["hue-2017", "sipas-2017"], sheets=1, seed=12, profile="clean", dpi=150, workers=2)
    return out


def _truth(d: Path) -> dict[str, dict]:
    return {json.loads(x)["source"]: json.loads(x) for x in (d / "truth.jsonl").read_text().splitlines()}


# --- 1. two different sheets that share a serial stay two respondents -------------------------

def test_sheets_settled_as_different_stay_two_respondents_everywhere(tmp_path, db_url, clean_scans, twin_scans):
    first = sorted(p for p in clean_scans.iterdir() if p.name.startswith(("hue-2017-000001", "sipas-2017-100001")))
    twins = sorted(p for p in twin_scans.iterdir() if p.name.startswith(("hue-2017-000001", "sipas-2017-100001")))
    assert len(first) == 3 and len(twins) == 3  # hue: one page; sipas: two pages
    with _client(tmp_path, db_url) as c:
        tok = _tokens(c)
        for name, form in (("hue", "hue-2017"), ("sipas", "sipas-2017")):
            assert c.post("/api/rounds", headers=_h(tok["admin"]), json={"name": name, "template": form}).status_code == 201
        for name in ("hue", "sipas"):
            b1 = _wait(c, tok["op"], _upload(c, tok["op"], [p for p in first if p.name.startswith(name)], name, "SNV"))
            b2 = _wait(c, tok["op"], _upload(c, tok["op"], [p for p in twins if p.name.startswith(name)], name, "SNV"))
            items = _items(c, tok["rv1"], b2["id"])
            dups = [i for i in items if i["reason"] == "duplicate sheet"]
            assert len(dups) == b2["pages_total"]
            for item in dups:
                # the reviewer sees both pages: the earlier one with the same serial, side by side
                other = item["other_page"]
                assert other and other["batch_id"] == b1["id"] and other["sheet"] == item["sheet"]
                assert other["page"] == item["page"] and other["aligned_image_url"]
                assert c.get(other["aligned_image_url"], headers=_h(tok["rv1"])).status_code == 200
                r = c.post(f"/api/review/{item['id']}", headers=_h(tok["rv1"]),
                           json={"value": {"keep": "both"}, "revision": item["revision"]})
                assert r.status_code == 200, r.text
            for item in items:  # the rest as the engine proposes
                if item["field_kind"] != "page":
                    c.post(f"/api/review/{item['id']}", headers=_h(tok["rv1"]),
                           json={"value": item["proposed"], "revision": item["revision"]})
        # hue: two respondents, one page each
        idx = c.get("/api/indices?round=hue", headers=_h(tok["viewer"])).json()
        assert idx["sheets"] == 2
        tallies = c.get("/api/tallies?round=hue", headers=_h(tok["viewer"])).json()
        gender = next(q for q in tallies["questions"] if q["id"] == "gioi_tinh")
        assert sum(o["count"] for o in gender["options"]) + gender["blank"] == 2
        rows = list(csv.DictReader(io.StringIO(c.get("/api/export?round=hue&format=csv", headers=_h(tok["viewer"])).content.decode("utf-8-sig"))))
        assert len(rows) == 2 and len({r["sheet"] for r in rows}) == 2
        # sipas: the twin's two pages are one respondent, not two, and not the first sheet's
        idx = c.get("/api/indices?round=sipas", headers=_h(tok["viewer"])).json()
        assert idx["sheets"] == 2
        rows = list(csv.DictReader(io.StringIO(c.get("/api/export?round=sipas&format=csv", headers=_h(tok["viewer"])).content.decode("utf-8-sig"))))
        assert len(rows) == 2
        for row in rows:  # each row holds one respondent's answers from both pages, none of the other's
            truth = _truth(twin_scans if row["sheet"].endswith("-2") else clean_scans)
            for page in (1, 2):
                t = next(v for k, v in truth.items() if k.startswith(f"sipas-2017-100001-p{page}"))
                for fid, ft in t["fields"].items():
                    if ft["kind"] == "single" and fid in row:
                        assert row[fid] == ("" if ft["value"] is None else str(ft["value"])), (row["sheet"], fid)
        assert {r["sheet"] for r in rows} == {"100001", "100001-2"}


# --- 2. restarts never make a page an error; every error reaches a person ----------------------

def test_a_server_killed_while_a_page_is_read_does_not_count_against_the_page(tmp_path, db_url, clean_scans):
    from service.models import Page
    from service.worker import _new_pool

    page_file = next(p for p in sorted(clean_scans.iterdir()) if p.name.startswith("hue-2017"))
    with _client(tmp_path, db_url, start_workers=False, max_attempts=3) as c:
        tok = _tokens(c)
        c.post("/api/rounds", headers=_h(tok["admin"]), json={"name": "r", "template": "hue-2017"})
        bid = _upload(c, tok["op"], [page_file], "r")
        w = c.app.state.worker
        for restart in range(5):  # five servers die while the page is being read
            w.pool = _new_pool(1)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                w._collect()  # the split (first time round), never the page's reading
                w._submit_splits(2)
                w._submit_pages(1) if not any(k == "page" for k, _ in w.inflight.values()) else None
                if any(k == "page" for k, _ in w.inflight.values()):
                    break
                time.sleep(0.05)
            with c.app.state.factory() as s:
                assert s.query(Page).one().status == "processing"
            w._shutdown_pool(w.pool, grace=0.0)  # the server dies: its readers with it
            w.inflight.clear()
            w.recover()  # the next start
        w.pool = _new_pool(1)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and _wait_once(c, tok, bid) not in ("done", "failed"):
            w.step()
            time.sleep(0.05)
        w._shutdown_pool(w.pool)
        b = c.get(f"/api/batches/{bid}", headers=_h(tok["viewer"])).json()
        assert b["status"] == "done" and b["pages_done"] == 1 and b["pages_failed"] == 0, b


def _wait_once(c, tok, bid) -> str:  # noqa: ANN001
    return c.get(f"/api/batches/{bid}", headers=_h(tok["viewer"])).json()["status"]


def test_a_page_in_error_reaches_a_person_who_can_retry_it(tmp_path, db_url, clean_scans):
    from service.models import Page
    from service.worker import mark_page_error

    broken = tmp_path / "cut.jpg"
    good = next(p for p in sorted(clean_scans.iterdir()) if p.name.startswith("hue-2017") and p.suffix == ".jpg")
    broken.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 3])
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with _client(tmp_path, db_url) as c:
        tok = _tokens(c)
        c.post("/api/rounds", headers=_h(tok["admin"]), json={"name": "r", "template": "hue-2017"})
        b = _wait(c, tok["op"], _upload(c, tok["op"], [broken, empty, good], "r"))
        assert b["pages_total"] == 3 and b["pages_failed"] == 2
        # errors name the file as the operator named it, never a path on the server
        for e in b["errors"]:
            assert e["file"] in ("cut.jpg", "empty.png") and str(tmp_path) not in e["error"] and "/files/" not in e["error"]
        items = _items(c, tok["rv1"], b["id"])
        errs = [i for i in items if i["reason"] == "page could not be read"]
        assert sorted(i["source"] for i in errs) == ["cut.jpg", "empty.png"]
        assert all(str(tmp_path) not in (i["page_error"] or "") for i in errs)
        # the truncated JPEG still decodes partly? then it has an image and can be retried; the empty file cannot
        e_empty = next(i for i in errs if i["source"] == "empty.png")
        r = c.post(f"/api/review/{e_empty['id']}", headers=_h(tok["rv1"]), json={"retry": True, "revision": e_empty["revision"]})
        assert r.status_code == 422 and "upload it again" in r.json()["detail"]
        # a page that failed while it had an image: retried by the reviewer, read, counted
        with c.app.state.factory() as s, s.begin():
            p = s.query(Page).filter(Page.status == "done", Page.result_status == "ok").one()
            mark_page_error(s, p, "reading failed: a reader crashed")
            pid = p.id
        from service.worker import recount

        with c.app.state.factory() as s, s.begin():
            recount(s, s.get(Page, pid))
        assert c.get("/api/indices?round=r", headers=_h(tok["viewer"])).json()["sheets"] == 0
        item = next(i for i in _items(c, tok["rv1"], b["id"]) if i["page_id"] == pid)
        assert item["reason"] == "page could not be read" and item["can_retry"]
        r = c.post(f"/api/review/{item['id']}", headers=_h(tok["rv1"]), json={"retry": True, "revision": item["revision"]})
        assert r.status_code == 200, r.text
        t0 = time.monotonic()
        while c.get(f"/api/pages/{pid}", headers=_h(tok["viewer"])).json()["state"] != "done" and time.monotonic() - t0 < 60:
            time.sleep(0.2)
        assert c.get(f"/api/pages/{pid}", headers=_h(tok["viewer"])).json()["status"] == "ok"
        assert c.get("/api/indices?round=r", headers=_h(tok["viewer"])).json()["sheets"] == 1
        audit = c.get(f"/api/pages/{pid}/audit", headers=_h(tok["viewer"])).json()
        assert [a["action"] for a in audit] == ["retry page"] and audit[0]["user"] == "rv1"


# --- 4. two reviewers deciding one item at once: exactly one wins -----------------------------

class _LiveServer:
    """The app served for real by uvicorn on a free port of 127.0.0.1, in a thread."""

    def __init__(self, app) -> None:  # noqa: ANN001
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"))  # the TestClient runs the lifespan (the worker) once
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        t0 = time.monotonic()
        while not self.server.started and time.monotonic() - t0 < 30:
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc) -> None:  # noqa: ANN002
        self.server.should_exit = True
        self.thread.join(timeout=30)


def test_two_reviewers_deciding_one_item_at_once_exactly_one_wins(tmp_path, db_url, clean_scans):
    scans = sorted(p for p in clean_scans.iterdir() if p.suffix != ".jsonl")
    app = create_app(Settings(data_dir=tmp_path / "data", database_url=db_url, workers=2, ocr=False))
    with TestClient(app) as c:
        tok = _tokens(c)
        c.post("/api/rounds", headers=_h(tok["admin"]), json={"name": "r", "template": "sipas-2017"})
        # every field of every page to review: the items are made by the reviewer placing pages, so mark
        # each page as read by OCR-less identity; simplest: the fields of the round's pages as items
        bid = _upload(c, tok["op"], [p for p in scans if p.name.startswith("sipas")], "r")
        _wait(c, tok["op"], bid)
        from service.models import Answer, Page, ReviewItem

        with app.state.factory() as s, s.begin():  # 25 unclaimed items, as the engine would queue them
            pages = s.query(Page).all()
            answers = s.query(Answer).filter(Answer.field_id.in_([f"c{i:02d}" for i in range(1, 23)])).order_by(Answer.id).limit(25).all()
            for k, a in enumerate(answers):
                p = next(p for p in pages if p.id == a.page_id)
                a.status, a.confidence, a.reason = "uncertain", 0.5, "faint mark"
                s.add(ReviewItem(round_id=p.round_id, batch_id=p.batch_id, page_id=p.id, field_id=a.field_id,
                                 reason="faint mark", confidence=0.5, order_key=k))
        with app.state.factory() as s:
            ids = [i.id for i in s.query(ReviewItem).filter(ReviewItem.state == "pending", ReviewItem.field_id.is_not(None))]
        assert len(ids) >= 25
        with _LiveServer(app) as base:
            wins = losses = double = 0
            for iid in ids[:25]:
                barrier = threading.Barrier(2)
                results: dict[str, httpx.Response] = {}

                def decide(who: str, value: int) -> None:
                    with httpx.Client(base_url=base, timeout=30) as h:
                        barrier.wait()
                        results[who] = h.post(f"/api/review/{iid}", headers=_h(tok[who]), json={"value": value})

                ts = [threading.Thread(target=decide, args=("rv1", 1)), threading.Thread(target=decide, args=("rv2", 5))]
                for t in ts:
                    t.start()
                for t in ts:
                    t.join()
                codes = sorted(r.status_code for r in results.values())
                assert all(code in (200, 409) for code in codes), {w: (r.status_code, r.text) for w, r in results.items()}
                double += codes == [200, 200]
                wins += codes.count(200)
                losses += codes.count(409)
                winner = next(w for w, r in results.items() if r.status_code == 200)
                loser = next((r for r in results.values() if r.status_code == 409), None)
                stands = 1 if winner == "rv1" else 5
                if loser is not None:  # the loser is told what stands
                    assert loser.json()["current"] == stands
                item = c.get(f"/api/review/{iid}", headers=_h(tok["viewer"])).json()
                assert item["state"] == "done" and item["decided_by"] == winner
                page = c.get(f"/api/pages/{item['page_id']}", headers=_h(tok["viewer"])).json()
                assert page["fields"][item["field_id"]]["value"] == stands
        assert double == 0 and wins == 25 and losses == 25
        # a stale revision is refused, a fresh one corrects
        item = c.get(f"/api/review/{ids[0]}", headers=_h(tok["viewer"])).json()
        r = c.post(f"/api/review/{ids[0]}", headers=_h(tok["rv2"]), json={"value": 3, "revision": item["revision"] - 1})
        assert r.status_code == 409 and r.json()["revision"] == item["revision"]
        r = c.post(f"/api/review/{ids[0]}", headers=_h(tok["rv2"]), json={"value": 3, "revision": item["revision"]})
        assert r.status_code == 200 and r.json()["revision"] == item["revision"] + 1


# --- 5. a page no one can place is keyed in by hand ---------------------------------------------

def test_a_page_without_markers_is_keyed_in_by_hand_and_counted(tmp_path, db_url, clean_scans):
    src = next(p for p in sorted(clean_scans.iterdir()) if p.name.startswith("hue-2017-000001"))
    truth = _truth(clean_scans)[src.name]
    img = cv2.imread(str(src), cv2.IMREAD_GRAYSCALE)
    for x, y in ((0, 0), (1, 0), (0, 1), (1, 1)):  # torn corners: no registration marker left
        w, h = img.shape[1], img.shape[0]
        cv2.rectangle(img, (int(x * (w - 110)), int(y * (h - 110))), (int(x * (w - 110)) + 110, int(y * (h - 110)) + 110), 255, -1)
    torn = tmp_path / "torn.png"
    cv2.imwrite(str(torn), img)
    with _client(tmp_path, db_url) as c:
        tok = _tokens(c)
        c.post("/api/rounds", headers=_h(tok["admin"]), json={"name": "r", "template": "hue-2017"})
        b = _wait(c, tok["op"], _upload(c, tok["op"], [torn], "r", "SNV"))
        (item,) = _items(c, tok["rv1"], b["id"])
        assert item["reason"] == "unrecognized page" and item["can_read"] is False
        # the form's fields, as the page shows them to the reviewer
        geo = c.get("/api/templates/hue-2017/1/geometry", headers=_h(tok["rv1"])).json()
        fields = geo["pages"][0]["fields"]
        manual = {f["id"]: truth["fields"][f["id"]]["value"] if f["kind"] != "text" else "Cần thêm chỗ ngồi" for f in fields}
        # placing it (no markers: cannot be read) says why and points to manual entry
        r = c.post(f"/api/review/{item['id']}", headers=_h(tok["rv1"]),
                   json={"template": "hue-2017", "page": 1, "sheet": "000001", "revision": item["revision"]})
        assert r.status_code == 422 and "by hand" in r.json()["detail"]
        missing = dict(manual)
        missing.pop("c02")
        r = c.post(f"/api/review/{item['id']}", headers=_h(tok["rv1"]),
                   json={"template": "hue-2017", "page": 1, "sheet": "000001", "manual": missing, "revision": item["revision"]})
        assert r.status_code == 422 and "c02" in r.json()["detail"]
        r = c.post(f"/api/review/{item['id']}", headers=_h(tok["rv1"]),
                   json={"template": "hue-2017", "page": 1, "sheet": "1", "manual": manual, "revision": item["revision"]})
        assert r.status_code == 200, r.text
        assert r.json()["fields_entered"] == len(fields)
        page = c.get(f"/api/pages/{item['page_id']}", headers=_h(tok["viewer"])).json()
        assert page["status"] == "ok" and page["sheet"] == "000001" and page["identified_by"] == "manual"
        assert {f["source"] for f in page["fields"].values()} == {"manual"}
        for fid, f in page["fields"].items():
            assert f["value"] == (manual[fid].strip() if isinstance(manual[fid], str) else manual[fid])
        # the page view shows labels, not codes
        _, c01 = layout(load_template("hue-2017")).field("c01")
        assert page["fields"]["c01"]["label"] == next(o.label for o in c01.options if o.value == manual["c01"])
        assert page["fields"]["c01"]["kind"] == "single" and "label" not in page["fields"]["y_kien_khac"]
        audit = c.get(f"/api/pages/{item['page_id']}/audit", headers=_h(tok["viewer"])).json()
        assert audit[-1]["action"] == "manual entry" and audit[-1]["user"] == "rv1"
        assert audit[-1]["new"]["fields"]["c01"]["value"] == truth["fields"]["c01"]["value"]
        idx = c.get("/api/indices?round=r", headers=_h(tok["viewer"])).json()
        assert idx["sheets"] == 1
        assert c.get("/api/progress?batch=%d" % b["id"], headers=_h(tok["rv1"])).json()["left"] == 0


# --- 6. two marks are an invalid answer, not a blank one ----------------------------------------

def test_two_marks_are_shown_and_stored_as_invalid_never_as_blank(tmp_path, db_url, clean_scans):
    src = next(p for p in sorted(clean_scans.iterdir()) if p.name.startswith("hue-2017-000001"))
    truth = _truth(clean_scans)[src.name]["fields"]
    chosen = truth["c03"]["value"]
    assert chosen is not None
    other = 1 if chosen != 1 else 2
    img = cv2.imread(str(src), cv2.IMREAD_GRAYSCALE)
    _cross(img, _box_px("hue-2017", "c03", other))
    two = tmp_path / "two-marks.png"
    cv2.imwrite(str(two), img)
    with _client(tmp_path, db_url) as c:
        tok = _tokens(c)
        c.post("/api/rounds", headers=_h(tok["admin"]), json={"name": "r", "template": "hue-2017"})
        b = _wait(c, tok["op"], _upload(c, tok["op"], [two], "r"))
        item = next(i for i in _items(c, tok["rv1"], b["id"]) if i["field_id"] == "c03")
        assert item["status"] == "multiple"
        assert sorted(item["marks"]) == sorted([chosen, other])  # both marked options, for the reviewer to see
        assert item["proposed"] is None  # nothing for Enter to store: not even a blank
        crop = cv2.imdecode(np.frombuffer(c.get(item["image_url"], headers=_h(tok["rv1"])).content, np.uint8), cv2.IMREAD_COLOR)
        _, f = layout(load_template("hue-2017")).field("c03")
        assert crop.shape[0] > (f.row[3] + 8) * 8  # the grid's column headings above the row
        r = c.post(f"/api/review/{item['id']}", headers=_h(tok["rv1"]), json={"invalid": True, "revision": item["revision"]})
        assert r.status_code == 200 and r.json()["status"] == "multiple"
        page = c.get(f"/api/pages/{item['page_id']}", headers=_h(tok["viewer"])).json()
        assert page["fields"]["c03"]["status"] == "multiple" and page["fields"]["c03"]["source"] == "reviewer"
        idx = c.get("/api/indices?round=r", headers=_h(tok["viewer"])).json()
        c03 = next(cr for el in idx["elements"] for cr in el["criteria"] if cr["id"] == "c03")
        assert c03["multiple"] == 1 and c03["blank"] == 0 and c03["pending"] == 0 and c03["n"] == 0
        # a free-text question cannot be "invalid"
        r = c.post(f"/api/review/{item['id']}", headers=_h(tok["rv1"]), json={"value": "x", "revision": r.json()["revision"]})
        assert r.status_code == 422


# --- 7. a page placed on another form is read as that form, or the reviewer is told why not --------

def test_placing_an_unrecognized_page_reads_it_or_says_why_not(tmp_path, db_url, clean_scans):
    src = next(p for p in sorted(clean_scans.iterdir()) if p.name.startswith("hue-2017-000001"))
    truth = _truth(clean_scans)[src.name]["fields"]
    img = cv2.imread(str(src), cv2.IMREAD_GRAYSCALE)
    cv2.rectangle(img, (int(15 * MM), int(262 * MM)), (int(193 * MM), int(293 * MM)), 255, -1)  # QR and serial gone
    noid = tmp_path / "no-identity.png"
    cv2.imwrite(str(noid), img)
    with _client(tmp_path, db_url) as c:
        tok = _tokens(c)
        c.post("/api/rounds", headers=_h(tok["admin"]), json={"name": "r", "template": "hue-2017"})
        b = _wait(c, tok["op"], _upload(c, tok["op"], [noid], "r"))
        (item,) = _items(c, tok["rv1"], b["id"])
        assert item["reason"] == "unrecognized page" and item["can_read"] is True
        for body, why in (({"template": "sipas-2017", "page": 1, "sheet": "7"}, "this round reads hue-2017"),
                          ({"template": "../../etc/passwd", "page": 1, "sheet": "7"}, "unknown template"),
                          ({"template": "hue-2017", "page": 2, "sheet": "7"}, "page must be"),
                          ({"template": "hue-2017", "page": "x", "sheet": "7"}, "page must be"),
                          ({"template": "hue-2017", "page": [1], "sheet": "7"}, "page must be"),
                          ({"template": "hue-2017", "page": 1, "sheet": "abc"}, "sheet must be")):
            r = c.post(f"/api/review/{item['id']}", headers=_h(tok["rv1"]), json={**body, "revision": item["revision"]})
            assert r.status_code == 422 and why in r.json()["detail"], (body, r.text)
            assert c.get(f"/api/review/{item['id']}", headers=_h(tok["rv1"])).json()["state"] == "pending"
        r = c.post(f"/api/review/{item['id']}", headers=_h(tok["rv1"]),
                   json={"template": "hue-2017", "page": 1, "sheet": "000001", "revision": item["revision"]})
        assert r.status_code == 200, r.text
        assert r.json()["fields_read"] == len(truth) and r.json()["status"] == "ok"
        page = c.get(f"/api/pages/{item['page_id']}", headers=_h(tok["viewer"])).json()
        assert page["status"] == "ok" and page["identified_by"] == "reviewer"
        assert page["fields"]["c01"]["value"] == truth["c01"]["value"]
        assert c.get("/api/indices?round=r", headers=_h(tok["viewer"])).json()["sheets"] == 1


def test_progress_counts_items_other_reviewers_hold(tmp_path, db_url, clean_scans):
    src = next(p for p in sorted(clean_scans.iterdir()) if p.name.startswith("hue-2017-000001"))
    img = cv2.imread(str(src), cv2.IMREAD_GRAYSCALE)
    truth = _truth(clean_scans)[src.name]["fields"]
    for fid in ("c01", "c02"):
        v = truth[fid]["value"]
        _cross(img, _box_px("hue-2017", fid, 1 if v != 1 else 2))
    p = tmp_path / "two.png"
    cv2.imwrite(str(p), img)
    with _client(tmp_path, db_url) as c:
        tok = _tokens(c)
        c.post("/api/rounds", headers=_h(tok["admin"]), json={"name": "r", "template": "hue-2017"})
        b = _wait(c, tok["op"], _upload(c, tok["op"], [p], "r"))
        assert c.get(f"/api/review/next?batch={b['id']}", headers=_h(tok["rv2"])).status_code == 200
        mine = _items(c, tok["rv1"], b["id"])
        for it in mine:
            assert c.post(f"/api/review/{it['id']}", headers=_h(tok["rv1"]), json={"invalid": True, "revision": it["revision"]}).status_code == 200
        prog = c.get(f"/api/progress?batch={b['id']}", headers=_h(tok["rv1"])).json()
        assert prog["left"] == 1 and prog["held_by_others"] == 1
        assert c.get(f"/api/progress?batch={b['id']}", headers=_h(tok["rv2"])).json()["held_by_others"] == 0


def test_review_routes_refuse_bad_ids_and_parameters_with_4xx(tmp_path, db_url):
    with _client(tmp_path, db_url, start_workers=False) as c:
        tok = _tokens(c)
        c.post("/api/rounds", headers=_h(tok["admin"]), json={"name": "r", "template": "hue-2017"})
        h = _h(tok["rv1"])
        for url in ("/api/review/2147483648", "/api/review/9223372036854775808", "/api/review/0",
                    "/api/review/2147483648/crop.png", "/api/review/next?batch=2147483648", "/api/progress?batch=99999999999",
                    "/api/review/next?round=r&order=sideways"):
            assert c.get(url, headers=h).status_code == 422, url
        for url in ("/api/review/next?round=r&exclude=³", "/api/review/next?round=r&exclude=99999999999999999999,1"):
            assert c.get(url, headers=h).status_code == 204, url
        assert c.post("/api/review/2147483648", headers=h, json={"value": 1}).status_code == 422
        assert c.post("/api/review/2147483647/undo", headers=h).status_code == 409
        assert c.get("/api/review/2147483647", headers=h).status_code == 404
