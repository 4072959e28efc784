"""Bad input gets a clear 4xx at the edge, templates are known ids only, downloads keep their Vietnamese
names, and the OpenAPI pages work without internet (issue 10, items 14, 15, 18, 19)."""
from __future__ import annotations

import re
import shutil
import urllib.parse
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from omr.template import TEMPLATES_DIR
from service.app import create_app
from service.auth import add_user
from service.errors import ApiError
from service.settings import Settings

ROUND = "Đợt 1/2026"
BIG = [2**31, 2**63, 10**30]  # past PostgreSQL's INTEGER, past SQLite's INTEGER, past both

OWN_TAGS = {"rounds", "pages", "results"}  # the routers this change owns


@pytest.fixture
def client(tmp_path: Path, db_url: str):
    app = create_app(Settings(data_dir=tmp_path / "data", database_url=db_url, ocr=False, start_workers=False))
    with TestClient(app) as c:
        with c.app.state.factory() as s, s.begin():
            c.tokens = {role: add_user(s, f"{role}1", role) for role in ("admin", "operator", "reviewer", "viewer")}
        yield c


@pytest.fixture
def sqlite_client(tmp_path: Path):
    app = create_app(Settings(data_dir=tmp_path / "data", ocr=False, start_workers=False))
    with TestClient(app) as c:
        with c.app.state.factory() as s, s.begin():
            c.tokens = {role: add_user(s, f"{role}1", role) for role in ("admin", "operator", "reviewer", "viewer")}
        yield c


def _h(c: TestClient, role: str = "admin") -> dict[str, str]:
    return {"Authorization": f"Bearer {c.tokens[role]}"}


def _round(c: TestClient, name: str = ROUND) -> int:
    r = c.post("/api/rounds", headers=_h(c), json={"name": name, "template": "sipas-2017", "period": "2026"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


# --- item 14: templates are looked up by id among the known templates only ---------------------------------

def test_a_round_takes_a_known_template_id_not_a_path(sqlite_client, tmp_path):
    c = sqlite_client
    # a valid template, but outside the template folders: before the fix the server loaded it from the path
    outside = tmp_path / "elsewhere" / "sipas-2017.yaml"
    outside.parent.mkdir()
    shutil.copy(TEMPLATES_DIR / "sipas-2017.yaml", outside)
    for ref in (str(outside), str(TEMPLATES_DIR / "sipas-2017.yaml"), "/etc/passwd", "../form_templates/sipas-2017.yaml",
                "form_templates/sipas-2017.yaml", "sipas-2017.yaml", "nope", "SIPAS-2017", "sipas-2017\x00"):
        r = c.post("/api/rounds", headers=_h(c), json={"name": f"R {ref[-30:]}", "template": ref})
        assert r.status_code == 422, (ref, r.status_code, r.text)
        detail = r.json()["detail"]
        if isinstance(detail, str):  # ours (a NUL is refused by the body's validation, a list)
            assert "unknown template" in detail and "sipas-2017" in detail, detail
            assert "root:" not in detail and len(detail) < 300, detail  # nothing read from the file
            assert str(TEMPLATES_DIR) not in detail or str(TEMPLATES_DIR) in ref, detail  # no server path
    assert c.post("/api/rounds", headers=_h(c), json={"name": "ok", "template": "sipas-2017"}).status_code == 201


def test_known_template_resolves_ids_only(monkeypatch, tmp_path):
    from service.templates import known_template

    assert known_template("sipas-2017").id == "sipas-2017"
    # an office's own folder (OMR_TEMPLATE_PATH) is a known place too
    own = tmp_path / "forms"
    own.mkdir()
    text = (TEMPLATES_DIR / "sipas-2017.yaml").read_text(encoding="utf-8")
    (own / "snv-2026.yaml").write_text(re.sub(r"(?m)^id: .*$", "id: snv-2026", text), encoding="utf-8")
    (own / "broken.yaml").write_text("id: broken\n", encoding="utf-8")
    monkeypatch.setenv("OMR_TEMPLATE_PATH", str(own))
    assert known_template("snv-2026").id == "snv-2026"
    for bad in ("/etc/passwd", str(own / "snv-2026.yaml"), "../forms/snv-2026", "", 7, None, "x" * 5000):
        with pytest.raises(ApiError) as e:
            known_template(bad)
        assert e.value.status == 422 and "unknown template" in e.value.detail and len(e.value.detail) < 400
    with pytest.raises(ApiError) as e:
        known_template("broken")
    assert e.value.status == 422 and str(own) not in e.value.detail  # the problem, not the server's path


# --- item 15: validate at the edge -------------------------------------------------------------------------

OWN_ID_ROUTES = ["/api/pages/{id}", "/api/pages/{id}/image", "/api/pages/{id}/aligned", "/api/pages/{id}/audit",
                 "/api/tallies?round=1&batch={id}", "/api/indices?round=1&batch={id}"]
OTHER_ID_ROUTES = ["/api/batches/{id}", "/api/review/{id}", "/api/review/{id}/crop.png", "/api/review/next?batch={id}",
                   "/api/progress?batch={id}"]


def _bad_ids(c: TestClient, routes: list[str], method: str = "get", role: str = "admin") -> list:
    wrong = []
    for route in routes:
        for n in [*BIG, 0, -1]:
            r = c.request(method, route.format(id=n), headers=_h(c, role), json={"value": None} if method == "post" else None)
            if r.status_code != 422:
                wrong.append((route, n, r.status_code, r.text[:200]))
    return wrong


def test_ids_out_of_range_are_a_422(client):
    """Before: a 500 on PostgreSQL from 2^31 (integer out of range), on SQLite from 2^63 (OverflowError)."""
    _round(client)
    assert not _bad_ids(client, OWN_ID_ROUTES)


def test_ids_out_of_range_are_a_422_elsewhere(client):
    _round(client)
    assert not (_bad_ids(client, OTHER_ID_ROUTES)
                + _bad_ids(client, ["/api/review/{id}", "/api/review/{id}/undo"], "post", "reviewer"))


def test_the_schema_bounds_every_id(sqlite_client):
    schema = sqlite_client.get("/openapi.json").json()
    seen = 0
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            if not set(op.get("tags", [])) & OWN_TAGS:
                continue
            for p in op.get("parameters", []):
                if p["name"] in ("page_id", "batch"):
                    s = p["schema"] if "anyOf" not in p["schema"] else p["schema"]["anyOf"][0]
                    assert s.get("minimum") == 1 and s.get("maximum") == 2**31 - 1, (method, path, p)
                    seen += 1
    assert seen == 6


NUL_ROUTES = ["/api/tallies?round={v}", "/api/indices?round={v}", "/api/export?round={v}", "/api/report?round={v}",
              "/api/tallies?round=1&agency={v}", "/api/export?round=1&agency={v}", "/api/indices?round=1&agency={v}",
              "/api/tallies?round=1&period={v}",
              # these go through service.queries.resolve_round, fixed here for every caller
              "/api/review/next?round={v}", "/api/progress?round={v}", "/api/batches?round={v}"]


def test_a_nul_in_the_query_is_a_422(client):
    """Before: a 500 on PostgreSQL (text cannot hold NUL), a 404 or a 200 on SQLite."""
    _round(client)
    wrong = []
    for route in NUL_ROUTES:
        r = client.get(route.format(v=urllib.parse.quote("a\x00b")), headers=_h(client))
        if r.status_code != 422:
            wrong.append((route, r.status_code, r.text[:200]))
    assert not wrong


def test_a_round_is_refused_what_its_columns_cannot_hold(client):
    """A NUL (PostgreSQL text), a period over its 80-character column (a 500 on PostgreSQL before)."""
    for body in ({"name": "a\x00b", "template": "sipas-2017"}, {"name": "ok", "template": "sipas-2017", "period": "\x00"},
                 {"name": "R", "template": "sipas-2017", "period": "x" * 81}, {"name": "x" * 201, "template": "sipas-2017"}):
        r = client.post("/api/rounds", headers=_h(client), json=body)
        assert r.status_code == 422, (body, r.status_code, r.text[:300])
    assert client.post("/api/rounds", headers=_h(client), json={"name": "R", "template": "sipas-2017",
                                                                "period": "x" * 80}).status_code == 201
    # the round form field of an upload goes through the same resolve_round
    r = client.post("/api/batches", headers=_h(client, "operator"), data={"round": "a\x00b"},
                    files=[("files", ("a.png", b"\x89PNG"))])
    assert r.status_code == 422, (r.status_code, r.text[:300])
    r = client.get(f"/api/tallies?round={'x' * 201}", headers=_h(client))
    assert r.status_code == 422


def test_a_round_ref_that_is_not_an_ascii_id_is_looked_up_as_a_name(client):
    """'³'.isdigit() is true but int('³') fails (a 500 before, on both databases); an id past the column's range
    names no round (a 500 on PostgreSQL before)."""
    _round(client)
    for ref in ("³", "²⁰²⁶", "١", "2147483648", "99999999999", "9" * 40):
        for route in ("/api/tallies", "/api/indices", "/api/export", "/api/report", "/api/progress", "/api/batches",
                      "/api/review/next"):
            r = client.get(f"{route}?round={urllib.parse.quote(ref)}", headers=_h(client))
            assert r.status_code == 404 and "no round" in r.json()["detail"], (ref, route, r.status_code, r.text[:300])
        # a round may be named so, and is then found by its name
        _round(client, ref)
        r = client.get(f"/api/tallies?round={urllib.parse.quote(ref)}", headers=_h(client))
        assert r.status_code == 200 and r.json()["round"] == ref, (ref, r.text[:300])


def test_a_period_at_the_ends_of_the_calendar_is_a_422(client):
    """Before: an OverflowError (a 500) converting 0001-01-01 in Vietnam's time to UTC."""
    _round(client)
    for period in ("0001", "0001-01-01", "0001-01-01..0001-01-03", "9999-12-31", "9999-Q4"):
        for route in ("/api/tallies", "/api/indices"):
            r = client.get(f"{route}?round=1&period={period}", headers=_h(client))
            assert r.status_code == 422 and "period" in r.json()["detail"], (period, route, r.status_code, r.text[:300])


# --- item 19: download names keep their Vietnamese letters --------------------------------------------------

def _disposition(header: str) -> tuple[str, str, str]:
    """(type, the ASCII filename, the decoded filename*)."""
    m = re.fullmatch(r'(attachment|inline); filename="([ -~]*)"; filename\*=UTF-8\'\'([A-Za-z0-9%._~!#$&+^`|-]+)', header)
    assert m, header
    return m[1], m[2], urllib.parse.unquote(m[3], encoding="utf-8", errors="strict")


def test_export_names_keep_vietnamese_letters(sqlite_client):
    """Before: 'attachment; filename="??t 1-2026.csv"'."""
    c = sqlite_client
    _round(c)
    for fmt, suffix in (("csv", ".csv"), ("csv-labels", "-nhan.csv"), ("xlsx", ".xlsx"), ("sav", ".sav"), ("json", ".json")):
        r = c.get(f"/api/export?round={urllib.parse.quote(ROUND)}&format={fmt}", headers=_h(c, "viewer"))
        assert r.status_code == 200, r.text
        assert _disposition(r.headers["content-disposition"]) == ("attachment", "Dot 1-2026" + suffix, "Đợt 1-2026" + suffix)


def test_report_names_keep_vietnamese_letters(sqlite_client):
    c = sqlite_client
    _round(c)
    pdf = c.get(f"/api/report?round={urllib.parse.quote(ROUND)}&format=pdf", headers=_h(c, "viewer"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert _disposition(pdf.headers["content-disposition"]) == ("attachment", "Bao cao Dot 1-2026.pdf", "Báo cáo Đợt 1-2026.pdf")
    html = c.get(f"/api/report?round={urllib.parse.quote(ROUND)}", headers=_h(c, "viewer"))
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert _disposition(html.headers["content-disposition"]) == ("inline", "Bao cao Dot 1-2026.html", "Báo cáo Đợt 1-2026.html")


def test_a_download_name_cannot_break_the_header():
    from service.routers.results import ascii_filename, content_disposition

    assert ascii_filename("Đợt 1 – Sở Nội vụ \"SNV\"\r\n.csv") == 'Dot 1 _ So Noi vu _SNV___.csv'
    v = content_disposition("a\r\nSet-Cookie: x=1.csv")
    assert "\r" not in v and "\n" not in v and v.isascii()


# --- item 18: /docs without internet, a complete schema ---------------------------------------------------

def test_docs_load_only_local_assets(sqlite_client):
    c = sqlite_client
    for page in ("/docs", "/redoc"):
        html = c.get(page)
        assert html.status_code == 200, page
        urls = re.findall(r'(?:src|href)=["\']([^"\']+)["\']', html.text) + re.findall(r"url:\s*'([^']+)'", html.text)
        assert urls and len(urls) >= 2, html.text
        for u in urls:
            assert u.startswith("/") and not u.startswith("//"), (page, u)
            r = c.get(u)
            assert r.status_code == 200 and len(r.content) > 100, (page, u, r.status_code)
        assert not re.search(r"https?://(?!127\.0\.0\.1)", html.text), (page, html.text)


def test_schema_has_security_errors_and_typed_files(sqlite_client):
    schema = sqlite_client.get("/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearer"] == {"type": "http", "scheme": "bearer", "description": schemes["bearer"]["description"]}
    assert schemes["cookie"]["in"] == "cookie" and schemes["cookie"]["name"] == "omr_session"
    ops = {(m.upper(), p): op for p, o in schema["paths"].items() for m, op in o.items()}
    assert ops[("POST", "/api/login")]["security"] == []
    assert ops[("GET", "/api/me")]["security"] == [{"bearer": []}, {"cookie": []}]
    for key, op in ops.items():
        codes = set(op["responses"])
        assert {"401", "403", "422"} <= codes, key
        if "requestBody" in op:
            assert "413" in codes, key
    assert "409" in ops[("POST", "/api/rounds")]["responses"]
    files = {("GET", "/api/export"): {"text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                                      "application/x-spss-sav"},
             ("GET", "/api/report"): {"text/html", "application/pdf"},
             ("GET", "/api/pages/{page_id}/image"): {"image/png"},
             ("GET", "/api/pages/{page_id}/aligned"): {"image/jpeg"}}
    for key, media in files.items():
        content = ops[key]["responses"]["200"]["content"]
        assert media <= set(content), (key, content)
        for m in media:
            assert content[m]["schema"] == {"type": "string", "format": "binary"}, (key, m)


def test_every_operation_has_an_english_description(sqlite_client):
    schema = sqlite_client.get("/openapi.json").json()
    assert schema["info"]["description"] and _english(schema["info"]["description"])
    missing, mixed = [], []
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            if not op.get("description"):
                missing.append(f"{method.upper()} {path}")
            texts = [op.get("description", "")] + [p.get("description", "") for p in op.get("parameters", [])]
            texts += [r.get("description", "") for r in op["responses"].values()]
            mixed += [f"{method.upper()} {path}: {t[:60]}" for t in texts if t and not _english(t)]
    for name in ("RoundCreate", "RoundOut", "TemplateOut", "ErrorOut"):  # the bodies of the routers owned here
        texts = _descriptions(schema["components"]["schemas"][name])
        assert texts, name
        mixed += [f"{name}: {t[:60]}" for t in texts if not _english(t)]
    assert not missing and not mixed, (missing, mixed)


def _descriptions(node: object) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "description" and isinstance(v, str)] + \
               [t for v in node.values() for t in _descriptions(v)]
    if isinstance(node, list):
        return [t for v in node for t in _descriptions(v)]
    return []


def _english(text: str) -> bool:
    """No Vietnamese letters: descriptions are English; Vietnamese belongs in the messages people read."""
    return not re.search(r"[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]", text, re.IGNORECASE)


@pytest.mark.browser
def test_docs_render_in_a_browser_with_no_internet(tmp_path):
    """Chromium opens /docs with every request off 127.0.0.1 refused: the operations are listed."""
    import socket
    import threading

    import uvicorn
    from playwright.sync_api import sync_playwright

    app = create_app(Settings(data_dir=tmp_path / "data", ocr=False, start_workers=False))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    try:
        import time

        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        outside: list[str] = []
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path="/usr/bin/chromium",
                                  args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = b.new_page()

            def route(r):  # noqa: ANN001
                if urllib.parse.urlsplit(r.request.url).hostname == "127.0.0.1":
                    r.continue_()
                else:
                    outside.append(r.request.url)
                    r.abort()

            page.route("**/*", route)
            page.goto(f"http://127.0.0.1:{port}/docs")
            page.get_by_text("/api/rounds", exact=True).first.wait_for(timeout=15000)
            assert page.get_by_role("button", name=re.compile("Authorize")).count() >= 1
            b.close()
        assert not outside, outside
    finally:
        server.should_exit = True
        t.join(timeout=10)


def test_a_nul_anywhere_in_a_json_body_is_a_422(client):
    """Every JSON body is a RequestBody: a NUL in any string, at any depth, is refused before the database
    (before: POST /api/agencies with a NUL in the name was a 500 on PostgreSQL, found by the fuzz run in CI)."""
    rid = _round(client)
    assert client.post("/api/agencies", headers=_h(client), json={"code": "SNV", "name": "Sở Nội vụ"}).status_code == 201
    writes = [("post", "/api/agencies", {"code": "j", "name": "0F\x00"}),
              ("post", "/api/agencies", {"code": "k", "name": "ok", "kind": "so\x00"}),
              ("patch", "/api/agencies/SNV", {"name": "Sở\x00"}),
              ("post", "/api/users", {"name": "lan", "role": "viewer\x00"}),
              ("patch", "/api/users/viewer1", {"role": "\x00"}),
              ("patch", f"/api/rounds/{rid}", {"period": "2026\x00"}),
              ("post", f"/api/rounds/{rid}/print-runs", {"agency": "SNV\x00", "count": 1}),
              ("post", "/api/review/1", {"value": {"q1": ["a\x00"]}}),
              ("post", "/api/login", {"name": "admin1\x00", "token": "x"})]
    wrong = []
    for method, route, body in writes:
        r = getattr(client, method)(route, headers=_h(client), json=body)
        if r.status_code != 422 or "NUL" not in r.text:
            wrong.append((method, route, r.status_code, r.text[:200]))
    assert not wrong
    with client.app.state.factory() as s:
        assert s.execute(text("select count(*) from agencies")).scalar() == 1


def test_a_csv_holding_nul_is_refused_by_name(client):
    r = client.post("/api/agencies/import", headers=_h(client),
                    files={"file": ("co-quan.csv", "code,name\nSNV,Sở\x00Nội vụ\n".encode())})
    assert r.status_code in (400, 422), r.text
    assert "co-quan.csv" in r.text and "NUL" in r.text


def test_an_online_import_mapping_holding_nul_is_a_422(client):
    rid = _round(client)
    r = client.post(f"/api/rounds/{rid}/imports", headers=_h(client),
                    data={"mapping": '{"C\\u00e2u 1\\u0000": "q1"}', "dry_run": "true"},
                    files={"file": ("online.csv", "Câu 1\n5\n".encode())})
    assert r.status_code == 422 and "NUL" in r.text, r.text
