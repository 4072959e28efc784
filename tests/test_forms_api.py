"""Forms made in the browser (issue 13, the server side): checked like YAML, previewed from the layout that
prints and reads them, saved as versions that freeze once used, compared, imported from a question list, and
read by the engine at every version."""
from __future__ import annotations

import copy
import io
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook
from pdf2image import convert_from_bytes

from omr.layout import layout
from omr.pipeline import ScanOptions, process_page
from omr.render import render_pdf
from omr.template import TEMPLATES_DIR, load_template, use_forms_dir
from service.app import create_app
from service.settings import Settings
from tests.test_integrity import _h, _tokens, _wait

HUE = yaml.safe_load((TEMPLATES_DIR / "hue-2017.yaml").read_text(encoding="utf-8"))
SIPAS = yaml.safe_load((TEMPLATES_DIR / "sipas-2017.yaml").read_text(encoding="utf-8"))


def _draft(form_id: str = "hue-thu") -> dict:
    d = copy.deepcopy(HUE)
    d["id"] = form_id
    d.pop("version", None)
    return d


@pytest.fixture
def client(tmp_path: Path, db_url: str):
    app = create_app(Settings(data_dir=tmp_path / "data", database_url=db_url, workers=1, ocr=False))
    with TestClient(app) as c:
        c.tok = _tokens(c)
        yield c
    use_forms_dir(None)


def _admin(c: TestClient) -> dict[str, str]:
    return _h(c.tok["admin"])


def test_a_draft_is_checked_like_yaml_with_each_problem_at_its_place(client):
    c = client
    ok = c.post("/api/templates/check", headers=_admin(c), json={"template": _draft()}).json()
    assert ok["ok"] and ok["problems"] == [] and ok["pages"] == 1
    assert yaml.safe_load(ok["yaml"])["id"] == "hue-thu"
    bad = _draft()
    bad["pages"][0]["sections"][0]["questions"][0]["options"] = []  # a choice question without options
    bad["pages"][0]["sections"][0]["questions"][1]["text"] = ""     # and an empty text: both reported at once
    r = c.post("/api/templates/check", headers=_admin(c), json={"template": bad}).json()
    where = {p["where"] for p in r["problems"]}
    assert not r["ok"] and {"pages[0].sections[0].questions[0]", "pages[0].sections[0].questions[1].text"} <= where, r
    bad = _draft()
    bad["indices"]["elements"][0]["criteria"].append("khong_co")
    r = c.post("/api/templates/check", headers=_admin(c), json={"template": bad}).json()
    n = len(HUE["indices"]["elements"][0]["criteria"])
    assert r["problems"] == [{"where": f"indices.elements[0].criteria[{n}]",
                              "problem": "criterion 'khong_co' is not a question of this template"}], r
    # a page that overflows names the question where it stops fitting
    big = _draft()
    grid = next(s for s in big["pages"][0]["sections"] if s.get("grid"))
    grid["questions"] = [{"id": f"c{i:02d}", "text": f"Tiêu chí số {i} về thái độ phục vụ của công chức"} for i in range(1, 40)]
    big["indices"]["elements"] = [{"id": "e1", "name": "Chung", "criteria": ["c01"]}]
    r = c.post("/api/templates/check", headers=_admin(c), json={"template": big}).json()
    assert not r["ok"] and "does not fit on page 1" in r["problems"][0]["problem"], r
    assert r["problems"][0]["where"].startswith("pages[0].sections[")
    # YAML text is taken too, and its syntax errors have a line
    r = c.post("/api/templates/check", headers=_admin(c), json={"yaml": "id: x\n  title: [oops"}).status_code
    assert r == 422


def test_the_preview_is_the_printed_page(client):
    c = client
    r = c.post("/api/templates/preview?page=1", headers=_admin(c), json={"template": _draft()})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    img = cv2.imdecode(np.frombuffer(r.content, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert img.shape[0] > img.shape[1] * 1.3  # an A4 page, portrait
    # the printed PDF rasterised at the same resolution has its ink in the same places
    buf = io.BytesIO()
    render_pdf(load_template("hue-2017"), buf, sheets=1, first_serial=0)
    pdf = np.array(convert_from_bytes(buf.getvalue(), dpi=96, grayscale=True)[0])
    h, w = min(img.shape[0], pdf.shape[0]), min(img.shape[1], pdf.shape[1])
    a, b = img[:h, :w] < 128, pdf[:h, :w] < 128
    a, b = cv2.dilate(a.astype(np.uint8), np.ones((5, 5))), cv2.dilate(b.astype(np.uint8), np.ones((5, 5)))
    overlap = (a & b).sum() / max(1, (a | b).sum())
    assert overlap > 0.6, overlap
    assert c.post("/api/templates/preview?page=2", headers=_admin(c), json={"template": _draft()}).status_code == 422
    bad = _draft()
    bad["title"] = ""
    r = c.post("/api/templates/preview", headers=_admin(c), json={"template": bad})
    assert r.status_code == 422 and r.json()["problems"][0]["where"] == "title"


def test_versions_freeze_once_a_round_uses_them(client):
    c = client
    r = c.post("/api/templates", headers=_admin(c), json={"template": _draft()})
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 1 and r.json()["new_version"]
    again = c.post("/api/templates", headers=_admin(c), json={"template": _draft()}).json()
    assert again["version"] == 1  # not used yet: replaced in place
    edited = _draft()
    edited["title"] = "PHIẾU KHẢO SÁT (THỬ)"
    assert c.post("/api/templates", headers=_admin(c), json={"template": edited}).json()["version"] == 1
    listed = {t["id"]: t for t in c.get("/api/templates", headers=_h(c.tok["viewer"])).json()}
    assert listed["hue-thu"]["versions"] == [1] and listed["hue-thu"]["origin"] == "office" and not listed["hue-thu"]["frozen"]
    assert listed["hue-2017"]["origin"] == "shipped" and listed["hue-2017"]["frozen"]
    # a round on version 1 freezes it: the next save is version 2, the round keeps version 1
    rid = c.post("/api/rounds", headers=_admin(c), json={"name": "Thử 2026", "template": "hue-thu"}).json()["id"]
    edited["pages"][0]["sections"][0]["questions"][0]["text"] = "Giới tính của Ông/Bà"
    v2 = c.post("/api/templates", headers=_admin(c), json={"template": edited}).json()
    assert v2["version"] == 2 and v2["new_version"]
    assert c.post("/api/templates", headers=_admin(c), json={"template": edited}).json()["version"] == 2  # v2 is not used yet
    rounds = {r["id"]: r for r in c.get("/api/rounds", headers=_admin(c)).json()}
    assert rounds[rid]["version"] == 1
    listed = {t["id"]: t for t in c.get("/api/templates", headers=_admin(c)).json()}
    assert listed["hue-thu"]["version"] == 2 and listed["hue-thu"]["versions"] == [1, 2]
    v1 = c.get("/api/templates/hue-thu/1", headers=_admin(c)).json()
    assert v1["frozen"] and v1["template"]["title"] == "PHIẾU KHẢO SÁT (THỬ)"
    assert v1["template"]["pages"][0]["sections"][0]["questions"][0]["text"] == "Giới tính"
    assert v1["template"]["option_sets"]["likert5"][0]["label"] == "Rất không hài lòng"
    diff = c.get("/api/templates/hue-thu/compare?from=1&to=2", headers=_admin(c)).json()
    assert diff["added"] == [] and diff["removed"] == [] and not diff["indices_changed"]
    assert diff["changed"] == [{"id": "gioi_tinh", "fields": ["text"], "before": {"text": "Giới tính"}, "after": {"text": "Giới tính của Ông/Bà"}}]
    # a round can still be created on the older version, by name
    r = c.post("/api/rounds", headers=_admin(c), json={"name": "Cũ", "template": "hue-thu", "version": 1})
    assert r.status_code == 201 and r.json()["version"] == 1
    assert c.post("/api/rounds", headers=_admin(c), json={"name": "X", "template": "hue-thu", "version": 7}).status_code == 422
    assert c.get("/api/templates/hue-thu/7", headers=_admin(c)).status_code == 404
    # the files are plain YAML in the data directory, as the format describes
    forms = c.app.state.settings.forms_dir
    assert load_template(forms / "versions" / "hue-thu" / "1.yaml").version == 1
    assert load_template(forms / "hue-thu.yaml").version == 2


def test_editing_a_shipped_form_makes_the_offices_next_version(client):
    c = client
    d = copy.deepcopy(SIPAS)
    d["subtitle"] = "Phiên bản của tỉnh"
    r = c.post("/api/templates", headers=_admin(c), json={"template": d}).json()
    assert r == {"id": "sipas-2017", "version": 2, "new_version": True, "unchanged": False, "origin": "office"}
    listed = {t["id"]: t for t in c.get("/api/templates", headers=_admin(c)).json()}
    assert listed["sipas-2017"]["versions"] == [1, 2] and listed["sipas-2017"]["origin"] == "office"
    assert c.get("/api/templates/sipas-2017/1", headers=_admin(c)).json()["origin"] == "shipped"
    # the same content again makes no new version; a round takes the latest by default
    same = c.post("/api/templates", headers=_admin(c), json={"template": d}).json()
    assert same["version"] == 2 and not same["new_version"]
    assert c.post("/api/rounds", headers=_admin(c), json={"name": "S", "template": "sipas-2017"}).json()["version"] == 2
    # once the round uses version 2, going back to the shipped text is a new version, 3
    back = c.post("/api/templates", headers=_admin(c), json={"template": copy.deepcopy(SIPAS)}).json()
    assert back["version"] == 3 and back["new_version"]


def _filled(t, serial: int, seed: int) -> tuple[list[np.ndarray], list[dict]]:
    """The pages of one sheet of version ``t`` filled by the sample generator's pen, with the truth."""
    from samples.generate import Pen, fill_field

    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    render_pdf(t, buf, sheets=1, first_serial=serial)
    images, truths = [], []
    for geo, pil in zip(layout(t).pages, convert_from_bytes(buf.getvalue(), dpi=200)):
        img = cv2.cvtColor(np.array(pil), cv2.COLOR_RGB2BGR)
        pen = Pen(img, 200 / 25.4, rng)
        truths.append({f.id: fill_field(pen, f, rng, True) for f in geo.fields})
        images.append(cv2.cvtColor(pen.img, cv2.COLOR_BGR2GRAY))
    return images, truths


def test_scans_of_every_version_keep_reading_and_count_in_their_round(client, tmp_path):
    c = client
    c.post("/api/templates", headers=_admin(c), json={"template": _draft()})
    rid = c.post("/api/rounds", headers=_admin(c), json={"name": "Vòng 1", "template": "hue-thu"}).json()["id"]
    v1 = load_template("hue-thu", version=1)
    edited = _draft()
    edited["pages"][0]["sections"][0]["questions"].insert(0, {"id": "lan_dau", "text": "Lần đầu đến cơ quan?",
                                                             "options": [{"value": 1, "label": "Có"}, {"value": 2, "label": "Không"}]})
    assert c.post("/api/templates", headers=_admin(c), json={"template": edited}).json()["version"] == 2
    v2 = load_template("hue-thu")
    assert v2.version == 2 and load_template("hue-thu", version=1) == v1
    # the engine reads each version with its own boxes
    for t in (v1, v2):
        images, truths = _filled(t, 7, seed=t.version)
        out = process_page(images[0], source="x", index=0, options=ScanOptions(ocr=False)).result
        assert out.status == "ok" and out.version == t.version, out.error
        got = {k: f.value for k, f in out.fields.items()}
        want = {k: v["value"] for k, v in truths[0].items() if k in got}
        assert sum(got[k] == want[k] for k in want) >= len(want) - 1, (got, want)
    # and the service counts version-1 sheets in the round made on version 1
    paths = []
    for serial in (1, 2, 3):
        images, _ = _filled(v1, serial, seed=serial)
        p = tmp_path / f"v1-{serial}.png"
        cv2.imwrite(str(p), images[0])
        paths.append(p)
    files = [("files", (p.name, p.read_bytes())) for p in paths]
    bid = c.post("/api/batches", headers=_h(c.tok["op"]), data={"round": str(rid)}, files=files).json()["id"]
    assert _wait(c, c.tok["op"], bid)["status"] == "done"
    ind = c.get(f"/api/indices?round={rid}", headers=_admin(c)).json()
    assert ind["sheets"] == 3, ind
    tallies = {q["id"]: q for q in c.get(f"/api/tallies?round={rid}", headers=_admin(c)).json()["questions"]}
    assert "lan_dau" not in tallies  # the round counts version 1's questions
    g = tallies["gioi_tinh"]
    assert sum(o["count"] for o in g["options"]) + g["blank"] + g["pending"] + g["multiple"] == 3


def _question_sheet(rows: list[list[str]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["Phần", "Số", "Mã", "Câu hỏi", "Loại", "Bộ lựa chọn", "Các lựa chọn", "Yếu tố"])
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_a_question_list_of_the_sipas_criteria_imports_into_a_form(client):
    c = client
    t = load_template("sipas-2017")
    rows = []
    element_of = {cid: el.name for el in t.indices.elements for cid in el.criteria}
    for page in SIPAS["pages"]:
        for sec in page["sections"]:
            for q in sec["questions"]:
                if q["id"] in element_of:
                    rows.append([sec.get("title", ""), q.get("number", ""), q["id"], q["text"], "một lựa chọn", "likert5", "", element_of[q["id"]]])
    assert len(rows) == 22
    rows.insert(0, ["I. THÔNG TIN CHUNG", "", "gioi_tinh", "Giới tính", "một lựa chọn", "", "1=Nam; 2=Nữ", ""])
    r = c.post("/api/templates/import", headers=_admin(c), files={"file": ("sipas-tinh.xlsx", _question_sheet(rows))})
    assert r.status_code == 200, r.text
    draft, problems = r.json()["template"], r.json()["problems"]
    assert problems == [], problems
    assert draft["id"] == "sipas-tinh" and len(draft["pages"]) == 2  # the 22 criteria do not fit one page
    assert [e["name"] for e in draft["indices"]["elements"]] == [e.name for e in t.indices.elements]
    grids = [s for p in draft["pages"] for s in p["sections"] if s.get("grid")]
    assert grids and all(s["grid"] == "likert5" for s in grids)
    assert c.post("/api/templates/preview?page=2", headers=_admin(c), json={"template": draft}).status_code == 200
    # a bad row is named with its column
    bad = _question_sheet([["A", "", "q1", "Câu một", "hai lựa chọn", "", "1=a", ""], ["A", "", "q2", "Câu hai", "", "khong-co", "", ""]])
    out = c.post("/api/templates/import", headers=_admin(c), files={"file": ("x.xlsx", bad)}).json()["problems"]
    assert {"row 2, Loại", "row 3, Bộ lựa chọn"} <= {p["where"] for p in out}, out
    # the sample sheet has the headers the import reads
    sample = c.get("/api/templates/question-list-sample.xlsx", headers=_h(c.tok["viewer"]))
    ws = load_workbook(io.BytesIO(sample.content)).active
    assert [x.value for x in ws[1]] == ["Phần", "Số", "Mã", "Câu hỏi", "Loại", "Bộ lựa chọn", "Các lựa chọn", "Yếu tố"]
    r = c.post("/api/templates/import", headers=_admin(c), files={"file": ("mau.xlsx", sample.content)})
    assert r.status_code == 200 and r.json()["problems"] == []


def test_only_an_admin_designs_and_bad_input_is_refused(client):
    c = client
    for role in ("op", "rv1", "viewer"):
        assert c.post("/api/templates", headers=_h(c.tok[role]), json={"template": _draft()}).status_code == 403
        assert c.post("/api/templates/check", headers=_h(c.tok[role]), json={"template": _draft()}).status_code == 403
    assert c.post("/api/templates", json={"template": _draft()}).status_code == 401
    assert c.get("/api/templates").status_code == 401
    for body in ({}, {"template": _draft(), "yaml": "id: x"}, {"template": {"id": "a\x00b"}}, {"yaml": 5},
                 {"template": [1, 2]}, {"template": {**_draft(), "id": "../../etc"}}, {"template": {**_draft(), "id": "A B"}}):
        r = c.post("/api/templates", headers=_admin(c), json=body)
        assert r.status_code == 422, (body if len(str(body)) < 200 else str(body)[:200], r.status_code, r.text[:200])
    assert c.post("/api/templates", headers=_admin(c), json={"yaml": "x: " + "a" * (2 << 20)}).status_code == 413
    for path in ("/api/templates/..%2f..%2fetc/1", "/api/templates/sipas-2017/0", "/api/templates/sipas-2017/99999999999",
                 "/api/templates/sipas-2017/1/preview/9.png"):
        assert c.get(path, headers=_admin(c)).status_code in (404, 422), path
    r = c.post("/api/templates/import", headers=_admin(c), files={"file": ("a.docx", b"PK\x03\x04")})
    assert r.status_code == 415 and "a.docx" in r.text
    r = c.post("/api/templates/import", headers=_admin(c), files={"file": ("a.xlsx", b"not a workbook")})
    assert r.status_code == 422 and "a.xlsx" in r.text
    assert c.get("/api/templates/hue-2017/1/pdf?sheets=2", headers=_admin(c)).content[:4] == b"%PDF"
    assert c.get("/api/templates/hue-2017/1/pdf?sheets=2", headers=_h(c.tok["viewer"])).status_code == 403


def test_two_admins_saving_at_once_leave_one_whole_version_each_time(client):
    c = client
    c.post("/api/templates", headers=_admin(c), json={"template": _draft()})
    c.post("/api/rounds", headers=_admin(c), json={"name": "R", "template": "hue-thu"})  # v1 frozen
    results: list[dict] = []

    def save(title: str) -> None:
        d = _draft()
        d["title"] = title
        results.append(c.post("/api/templates", headers=_admin(c), json={"template": d}).json())

    threads = [threading.Thread(target=save, args=(f"PHIẾU {i}",)) for i in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert all(r.get("version") == 2 for r in results), results  # v2 is unused: each save replaces it
    t = load_template("hue-thu")
    assert t.version == 2 and t.title in {f"PHIẾU {i}" for i in range(6)}
    assert load_template("hue-thu", version=1).title == "PHIẾU KHẢO SÁT"
