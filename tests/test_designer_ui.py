"""Issue 13's designer page in real headless Chromium (Debian's chromium, Playwright) against a running
`omr serve` (the module fixture of test_review_ui), at 1366×768 in Vietnamese:

1. Thừa Thiên Huế's three-criterion form (form_templates/hue-2017.yaml) built from nothing in the designer by
   keyboard and mouse (respondent questions, the criteria on the shared five-level scale, the index
   definition, respondent groups; a question reordered by Alt+ArrowUp and another by drag; a duplicate id
   shown at its question), saved, printed as 20 sheets through a round's print run, the printed sheets filled
   by the sample generator's pen, uploaded, and the round's indices checked against a hand computation;
2. the same form edited after printing: saving makes version 2, the two versions compare, and the round
   still reads and counts sheets of version 1;
3. an XLSX question list of the SIPAS form (written here with openpyxl from sipas-2017.yaml) imported,
   checked and previewed; the preview PNG is saved beside the shipped sipas-2017 preview to be looked at.

Screenshots go to SHOTS (docs/screenshots/designer-*.png with OMR_UPDATE_SCREENSHOTS=1)."""
from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from test_office_ui import VIEW, _login_to
from test_review_ui import CHROMIUM, ROOT, SHOTS, _req, browser, service, upload_and_wait  # noqa: F401  (fixtures)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"),
]

HUE = yaml.safe_load((ROOT / "form_templates" / "hue-2017.yaml").read_text(encoding="utf-8"))
SIPAS = yaml.safe_load((ROOT / "form_templates" / "sipas-2017.yaml").read_text(encoding="utf-8"))
FORM_ID = "hue-thiet-ke"
ROUND = "Huế thiết kế 2026"


def _new_page(browser):  # noqa: ANN001, ANN202, F811
    ctx = browser.new_context(viewport=VIEW, locale="vi-VN", accept_downloads=True)
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("dialog", lambda d: (errors.append("dialog: " + d.message), d.dismiss()))
    return ctx, pg, errors


def _w(where: str) -> str:
    return f'[data-where="{where}"]'


def _checked(page, timeout: float = 20000) -> str:  # noqa: ANN001
    """Wait until the latest check and preview have answered; the check line's text."""
    page.wait_for_function("() => document.getElementById('ds-preview-wrap').getAttribute('aria-busy') === 'false'"
                           " && !document.getElementById('ds-check-line').textContent.includes('…')", timeout=timeout)
    page.wait_for_timeout(400)  # a debounced refresh may still be due
    page.wait_for_function("() => document.getElementById('ds-preview-wrap').getAttribute('aria-busy') === 'false'", timeout=timeout)
    return page.locator("#ds-check-line").inner_text()


def _options(opts: list[dict]) -> str:
    return "\n".join(o["label"] for o in opts)  # typed without numbers: the page numbers them 1, 2, …


def _add_question(page, p: int, s: int, k: int, qid: str, text: str, number: str | None = None) -> None:  # noqa: ANN001
    """Add a question to section s of page p with the mouse, then type it by keyboard (the text has the focus)."""
    page.locator(f'[data-slot="pages[{p}].sections[{s}]"] > .ds-add-q').click()
    q = f"pages[{p}].sections[{s}].questions[{k}]"
    page.wait_for_function(f"() => document.activeElement && document.activeElement.dataset.where === '{q}.text'")
    page.keyboard.type(text)
    page.locator(_w(f"{q}.id")).fill(qid)
    if number:
        page.locator(_w(f"{q}.number")).fill(number)


def _build_hue(page) -> None:  # noqa: ANN001
    """Thừa Thiên Huế's form, typed into an empty designer."""
    page.get_by_role("button", name="Phiếu mới").click()
    page.locator(_w("id")).wait_for()
    page.keyboard.type(FORM_ID)  # the form id has the focus
    page.locator(_w("title")).fill(HUE["title"])
    page.locator(_w("subtitle")).fill(HUE["subtitle"])
    page.locator(_w("issuer")).fill(HUE["issuer"])
    page.locator(_w("intro")).fill(HUE["intro"])
    page.locator(_w("closing")).fill(HUE["closing"])
    sections = HUE["pages"][0]["sections"]
    # I. respondent questions with typed options; linh_vuc added before do_tuoi, then do_tuoi dragged above it
    page.get_by_role("button", name=re.compile("^Thêm phần")).click()
    page.keyboard.type(sections[0]["title"])
    gt, dt, lv = sections[0]["questions"]
    _add_question(page, 0, 0, 0, gt["id"], gt["text"])
    page.locator(_w("pages[0].sections[0].questions[0].options")).fill(_options(gt["options"]))
    _add_question(page, 0, 0, 1, lv["id"], lv["text"])
    _add_question(page, 0, 0, 2, dt["id"], dt["text"])
    # a duplicate id is shown at its question, then corrected
    page.locator(_w("pages[0].sections[0].questions[2].id")).fill("gioi_tinh")
    _checked(page)
    fp = page.locator('[data-slot="pages[0].sections[0].questions[2]"] .fp', has_text=re.compile(r"\S"))
    fp.first.wait_for()
    fp.first.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "designer-problem.png"))
    assert fp.first.inner_text().startswith("mã câu 'gioi_tinh' bị trùng")  # in Vietnamese, at the question
    assert page.locator("#ds-problems li").count() >= 1
    assert "lỗi" in page.locator("#ds-check-line").inner_text()
    page.locator(_w("pages[0].sections[0].questions[2].id")).fill(dt["id"])
    _checked(page)  # the duplicate is gone (the options still to type are problems); the cards no longer move
    assert "gioi_tinh" not in page.locator('[data-slot="pages[0].sections[0].questions[2]"]').inner_text()
    # do_tuoi dragged by its handle above linh_vuc
    dst = page.locator('[data-slot="pages[0].sections[0].questions[1]"]')
    dst.scroll_into_view_if_needed()
    page.locator('[data-slot="pages[0].sections[0].questions[2]"] .ds-handle').drag_to(dst, target_position={"x": 60, "y": 12})
    assert page.locator(_w("pages[0].sections[0].questions[1].id")).input_value() == dt["id"]
    assert page.locator(_w("pages[0].sections[0].questions[2].id")).input_value() == lv["id"]
    page.locator(_w("pages[0].sections[0].questions[1].options")).fill(_options(dt["options"]))
    page.locator(_w("pages[0].sections[0].questions[2].options")).fill(_options(lv["options"]))
    page.locator(_w("pages[0].sections[0].questions[2].columns")).fill(str(lv["columns"]))
    # II. the criteria on the shared five-level scale; c03 typed before c02, then moved by Alt+ArrowUp
    page.get_by_role("button", name=re.compile("^Thêm phần")).click()
    page.keyboard.type(sections[1]["title"])
    page.locator(_w("pages[0].sections[1].grid")).select_option("likert5")
    c01, c02, c03 = sections[1]["questions"]
    for k, c in enumerate((c01, c03, c02)):
        _add_question(page, 0, 1, k, c["id"], c["text"], c["number"])
    page.locator(_w("pages[0].sections[1].questions[2].text")).focus()
    page.keyboard.press("Alt+ArrowUp")
    assert page.evaluate("document.activeElement.dataset.where") == "pages[0].sections[1].questions[1].text"
    assert [page.locator(_w(f"pages[0].sections[1].questions[{k}].id")).input_value() for k in range(3)] == ["c01", "c02", "c03"]
    # III. free text
    page.get_by_role("button", name=re.compile("^Thêm phần")).click()
    page.keyboard.type(sections[2]["title"])
    yk = sections[2]["questions"][0]
    _add_question(page, 0, 2, 0, yk["id"], yk["text"])
    page.locator(_w("pages[0].sections[2].questions[0].kind")).select_option("text")
    page.locator(_w("pages[0].sections[2].questions[0].lines")).fill(str(yk["lines"]))
    # the index definition: three elements in the side panel, each criterion chosen beside its question
    page.get_by_role("tab", name="Chỉ số và nhóm").click()
    for i, el in enumerate(HUE["indices"]["elements"]):
        page.get_by_role("button", name="Thêm yếu tố").click()
        page.keyboard.type(el["name"])  # the new element's name has the focus
        assert page.locator(_w(f"indices.elements[{i}].id")).input_value() == el["id"]
    for k, el in enumerate(HUE["indices"]["elements"]):
        page.locator(f'[data-slot="pages[0].sections[1].questions[{k}]"] select.ds-el-pick').select_option(label=f"{el['id']} · {el['name']}")
    for qid in HUE["respondent_groups"]:
        page.locator(f'#panel-indices input[data-key="grp-{qid}"]').check()
    for i, el in enumerate(HUE["indices"]["elements"]):
        assert page.locator(f'#panel-indices input[data-key="crit-{i}-{el["criteria"][0]}"]').is_checked()
    page.get_by_role("tab", name="Xem trước").click()


@pytest.fixture(scope="module")
def hue_built(service, browser, tmp_path_factory):  # noqa: F811
    """The form built in the designer and saved, a round on it, 20 sheets printed, filled and read."""
    base, tok, port = service["base"], service["tok"], service["port"]
    ctx, page, errors = _new_page(browser)
    try:
        _login_to(page, base, "designer.html", "admin1", tok["admin1"])
        _build_hue(page)
        assert _checked(page) == "✓ Hợp lệ · 1 trang"
        assert page.locator("#ds-problems li").count() == 0
        assert page.locator("#ds-preview").evaluate("i => i.complete && i.naturalWidth > 500")
        page.screenshot(path=str(SHOTS / "designer-hue.png"))
        page.keyboard.press("Control+s")
        page.locator("#ds-msg", has_text="Đã lưu").wait_for()
        assert page.locator("#ds-msg").inner_text() == f"Đã lưu mẫu phiếu mới {FORM_ID}, phiên bản 1."
    finally:
        ctx.close()
    assert not errors, errors
    st, saved = _req(port, "GET", f"/api/templates/{FORM_ID}/1", tok["admin1"])
    assert st == 200, saved
    # a round on it, an agency, 20 sheets printed through the print run
    assert _req(port, "POST", "/api/agencies", tok["admin1"], {"code": "HUE1", "name": "Sở Nội vụ Huế", "kind": "so", "active": True})[0] == 201
    st, rnd = _req(port, "POST", "/api/rounds", tok["admin1"], {"name": ROUND, "template": FORM_ID, "period": "2026"})
    assert st == 201, rnd
    tmp = tmp_path_factory.mktemp("hue")
    truth = _print_fill_upload(port, tok, rnd["id"], saved["yaml"], 20, seed=13, tmp=tmp)
    return {"round": rnd, "saved": saved, "truth": truth, "tmp": tmp}


def _print_fill_upload(port: int, tok: dict, round_id: int, yaml_text: str, sheets: int, seed: int, tmp: Path) -> list[dict]:
    """Print `sheets` sheets through the round's print run, fill each printed page with the sample generator's
    pen (clean marks), upload them as one batch, wait until read; the filled values per sheet."""
    import cv2
    from pdf2image import convert_from_bytes

    from omr.layout import layout
    from omr.template import load_template
    from samples.generate import Pen, fill_field

    req = __import__("urllib.request").request
    r = req.Request(f"http://127.0.0.1:{port}/api/rounds/{round_id}/print-runs", method="POST",
                    data=json.dumps({"agency": "HUE1", "count": sheets}).encode(),
                    headers={"Authorization": f"Bearer {tok['admin1']}", "Content-Type": "application/json"})
    with req.urlopen(r, timeout=120) as resp:
        pdf = resp.read()
        first, last = (int(x) for x in resp.headers["X-Serials"].split("-"))
    assert last - first + 1 == sheets
    path = tmp / f"{seed}" / f"{FORM_ID}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml_text, encoding="utf-8")
    t = load_template(path)
    geo = layout(t).pages
    dpi = 200
    images = convert_from_bytes(pdf, dpi=dpi)
    assert len(images) == sheets * len(geo)
    rng = np.random.default_rng(seed)
    truth, files = [], []
    for i, pil in enumerate(images):
        g = geo[i % len(geo)]
        img = cv2.cvtColor(np.array(pil), cv2.COLOR_RGB2BGR)
        pen = Pen(img, dpi / 25.4, rng)
        fields = {f.id: fill_field(pen, f, rng, clean=True) for f in g.fields}
        truth.append({"sheet": f"{first + i // len(geo):06d}", "page": g.page, "fields": fields})
        ok, enc = cv2.imencode(".jpg", cv2.cvtColor(pen.img, cv2.COLOR_BGR2GRAY), [cv2.IMWRITE_JPEG_QUALITY, 85])
        files.append((f"hue-{seed}-{i:03d}.jpg", enc.tobytes()))
    st, rounds = _req(port, "GET", "/api/rounds", tok["admin1"])
    name = next(x["name"] for x in rounds if x["id"] == round_id)
    _, info = upload_and_wait(port, tok, name, files)
    assert info["status"] == "done" and info["pages_done"] == len(files) and info["pages_failed"] == 0, info
    return truth


def _hand_indices(truth: list[dict]) -> tuple[dict[str, float], float, dict[str, int]]:
    crit: dict[str, list[int]] = {"c01": [], "c02": [], "c03": []}
    for t in truth:
        for cid in crit:
            v = t["fields"][cid]["value"]
            if v is not None:
                crit[cid].append(v)
    expect = {cid: 100.0 * sum(v in (4, 5) for v in vs) / len(vs) for cid, vs in crit.items() if vs}
    return expect, sum(expect.values()) / len(expect), {f"E{i + 1}": len(crit[c]) for i, c in enumerate(crit)}


def _check_indices(port: int, tok: dict, truth: list[dict]) -> None:
    st, ind = _req(port, "GET", f"/api/indices?round={__import__('urllib.parse').parse.quote(ROUND)}", tok["viewer1"])
    assert st == 200, ind
    expect, overall, n = _hand_indices(truth)
    got = {cr["id"]: cr["index"] for el in ind["elements"] for cr in el["criteria"]}
    assert set(got) == set(expect)
    for cid, e in expect.items():
        assert got[cid] == pytest.approx(e, abs=0.01), cid
    assert ind["overall"] == pytest.approx(overall, abs=0.01)
    assert {el["id"]: el["n"] for el in ind["elements"]} == n
    assert ind["pending_review"] == 0


def test_hue_form_built_in_the_designer_prints_reads_and_counts(service, hue_built):  # noqa: F811
    port, tok = service["port"], service["tok"]
    saved = hue_built["saved"]
    assert saved["version"] == 1 and saved["origin"] == "office"
    d = saved["template"]
    # the form as built is Huế's form: questions, kinds, options, criteria, groups
    want = [(q["id"], q.get("kind", "single"), q["text"]) for s in HUE["pages"][0]["sections"] for q in s["questions"]]
    got = [(q["id"], q.get("kind", "single"), q["text"]) for s in d["pages"][0]["sections"] for q in s["questions"]]
    assert got == want
    sec = d["pages"][0]["sections"]
    assert sec[0]["questions"][1]["options"] == HUE["pages"][0]["sections"][0]["questions"][1]["options"]
    assert sec[1]["grid"] == "likert5" and d["option_sets"]["likert5"] == HUE["option_sets"]["likert5"]
    assert d["indices"]["elements"] == HUE["indices"]["elements"]
    assert d["indices"]["satisfied_values"] == [4, 5] and d["respondent_groups"] == HUE["respondent_groups"]
    # every printed sheet read as the generator filled it, and the indices are the hand computation
    _check_indices(port, tok, hue_built["truth"])


def test_editing_after_printing_makes_version_2_and_version_1_still_counts(service, browser, hue_built):  # noqa: F811
    base, tok, port = service["base"], service["tok"], service["port"]
    ctx, page, errors = _new_page(browser)
    try:
        _login_to(page, base, "designer.html", "admin1", tok["admin1"])
        page.locator("#ds-open-id").select_option(FORM_ID)
        page.locator("#ds-open-version").select_option("1")
        page.get_by_role("button", name="Mở", exact=True).click()
        page.locator("#ds-msg", has_text="tạo phiên bản mới").wait_for()
        assert _checked(page) == "✓ Hợp lệ · 1 trang"
        # change a criterion's wording, add a fourth criterion on the scale
        page.locator(_w("pages[0].sections[1].questions[1].text")).fill("Thái độ phục vụ của công chức")
        _add_question(page, 0, 1, 3, "c04", "Thời gian chờ đợi", "4")
        assert _checked(page) == "✓ Hợp lệ · 1 trang"
        page.get_by_role("button", name="Lưu (Ctrl+S)").click()
        page.locator("#ds-msg", has_text="phiên bản mới 2").wait_for()
        # exported as YAML: the form as saved, loadable as a template file
        with page.expect_download() as dl:
            page.get_by_role("button", name="Xuất YAML").click()
        assert dl.value.suggested_filename == f"{FORM_ID}.yaml"
        exported = yaml.safe_load(dl.value.path().read_text(encoding="utf-8"))
        assert exported["id"] == FORM_ID
        assert [q["id"] for q in exported["pages"][0]["sections"][1]["questions"]] == ["c01", "c02", "c03", "c04"]
        # the versions and their comparison
        page.get_by_role("tab", name="Phiên bản").click()
        page.locator("#ds-cmp-from").select_option("1")
        page.locator("#ds-cmp-to").select_option("2")
        page.get_by_role("button", name="So sánh").click()
        out = page.locator("#ds-cmp-out")
        out.locator("li.cmp-add", has_text="c04").wait_for()
        assert "Thời gian chờ đợi" in out.inner_text()
        assert out.locator("li.cmp-chg", has_text="c02").inner_text().count("Thái độ phục vụ của công chức") == 1
        assert "thêm 1" in out.inner_text() and "sửa 1" in out.inner_text()
        page.screenshot(path=str(SHOTS / "designer-versions.png"))
    finally:
        ctx.close()
    assert not errors, errors
    st, listing = _req(port, "GET", "/api/templates", tok["viewer1"])
    mine = next(x for x in listing if x["id"] == FORM_ID)
    assert mine["version"] == 2 and mine["versions"] == [1, 2]
    st, v1 = _req(port, "GET", f"/api/templates/{FORM_ID}/1", tok["viewer1"])
    assert v1["template"] == hue_built["saved"]["template"]  # version 1 is kept as it was
    # the round still reads version 1: five more of its sheets printed, filled, read and counted with the first 20
    st, rounds = _req(port, "GET", "/api/rounds", tok["viewer1"])
    rnd = next(r for r in rounds if r["id"] == hue_built["round"]["id"])
    assert (rnd["template"], rnd["version"]) == (FORM_ID, 1), rnd
    more = _print_fill_upload(port, tok, rnd["id"], hue_built["saved"]["yaml"], 5, seed=14, tmp=hue_built["tmp"])
    _check_indices(port, tok, hue_built["truth"] + more)


def _sipas_xlsx() -> bytes:
    """SIPAS's question list as an office would type it: one row per question, the sample sheet's headers."""
    from openpyxl import Workbook

    kinds = {"single": "một lựa chọn", "multiple": "nhiều lựa chọn", "text": "văn bản", "code": "mã số"}
    element = {c: e["name"] for e in SIPAS["indices"]["elements"] for c in e["criteria"]}
    wb = Workbook()
    ws = wb.active
    ws.append(["Phần", "Số", "Mã", "Câu hỏi", "Loại", "Bộ lựa chọn", "Các lựa chọn", "Yếu tố"])
    for pg in SIPAS["pages"]:
        for s in pg["sections"]:
            for q in s["questions"]:
                kind = "single" if s.get("grid") else q.get("kind", "single")
                opts = "; ".join(f"{o['value']}={o['label']}" for o in q["options"]) if isinstance(q.get("options"), list) else ""
                ws.append([s["title"], q.get("number", ""), q["id"], q["text"], kinds[kind], s.get("grid", ""), opts, element.get(q["id"], "")])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_sipas_question_list_imports_and_previews_like_the_shipped_form(service, browser):  # noqa: F811
    base, tok, port = service["base"], service["tok"], service["port"]
    ctx, page, errors = _new_page(browser)
    try:
        _login_to(page, base, "designer.html", "admin1", tok["admin1"])
        with page.expect_download() as dl:
            page.get_by_role("link", name="Bảng câu hỏi mẫu (XLSX)").click()
        assert dl.value.path().read_bytes()[:2] == b"PK"  # an xlsx (zip)
        page.locator("#ds-import-file").set_input_files({"name": "sipas-cau-hoi.xlsx", "buffer": _sipas_xlsx(),
                                                          "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})
        page.get_by_role("button", name="Nhập", exact=True).click()
        page.locator("#ds-msg", has_text="Đã nhập sipas-cau-hoi.xlsx").wait_for()
        n_questions = sum(len(s["questions"]) for p in SIPAS["pages"] for s in p["sections"])
        assert f"{n_questions} câu hỏi" in page.locator("#ds-msg").inner_text()
        # the 22 criteria are on the shared scale, each in its element
        grid_ids = page.locator(".ds-section:has(select[data-where$='.grid'] option:checked[value='likert5']) .ds-question input[data-where$='.id']")
        criteria = [c for e in SIPAS["indices"]["elements"] for c in e["criteria"]]
        assert len(criteria) == 22 and set(criteria) <= {x.input_value() for x in grid_ids.all()}
        page.get_by_role("tab", name="Chỉ số và nhóm").click()
        for i, e in enumerate(SIPAS["indices"]["elements"]):  # each criterion in the element the sheet's Yếu tố names
            assert page.locator(_w(f"indices.elements[{i}].name")).input_value() == e["name"]
            assert [c for c in criteria if page.locator(f'#panel-indices input[data-key="crit-{i}-{c}"]').is_checked()] == e["criteria"]
        page.get_by_role("tab", name="Xem trước").click()
        page.locator(_w("id")).fill("sipas-nhap")
        page.locator(_w("title")).fill(SIPAS["title"])
        page.locator(_w("subtitle")).fill(SIPAS["subtitle"])
        page.locator(_w("issuer")).fill(SIPAS["issuer"])
        page.locator(_w("intro")).fill(SIPAS["intro"])
        line = _checked(page)
        assert line.startswith("✓ Hợp lệ"), (line, page.locator("#ds-problems").inner_text())
        # a question list knows no page breaks: the last section may start a third page. The one-question
        # "II.6" section put on the common scale, section III moved up by Alt+ArrowUp, the empty page deleted:
        # the form's two pages, as shipped
        if line != "✓ Hợp lệ · 2 trang":
            where = page.evaluate("""(t) => [...document.querySelectorAll('input[data-where$=".title"]')]
                                     .find((i) => i.value.startsWith(t)).dataset.where.replace(/\\.title$/, '')""", "II.6")
            page.locator(_w(f"{where}.grid")).select_option("likert5")
            last = len(SIPAS["pages"])
            page.locator(_w(f"pages[{last}].sections[0].title")).focus()
            page.keyboard.press("Alt+ArrowUp")
            assert page.evaluate("document.activeElement.dataset.where").startswith(f"pages[{last - 1}].sections[")
            page.get_by_role("button", name=f"Xóa: Trang {last + 1}").click()
            line = _checked(page)
            if line != "✓ Hợp lệ · 2 trang":  # the overflow is shown at its question; the sheet had no columns or lines
                assert "không vừa trang 2" in page.locator("#ds-problems").inner_text()
                for q in SIPAS["pages"][-1]["sections"][-1]["questions"]:
                    at = page.evaluate("""(id) => [...document.querySelectorAll('input[data-where$=".id"]')]
                                          .find((i) => i.value === id).dataset.where.replace(/\\.id$/, '')""", q["id"])
                    for key in ("columns", "lines"):
                        if key in q:
                            page.locator(_w(f"{at}.{key}")).fill(str(q[key]))
                line = _checked(page)
        assert line == "✓ Hợp lệ · 2 trang", (line, page.locator("#ds-problems").inner_text())
        pages = 2
        shots = []
        for n in range(1, pages + 1):
            page.get_by_role("button", name=f"Trang {n}", exact=True).click()
            _checked(page)
            src = page.locator("#ds-preview").get_attribute("src")
            png = page.evaluate("async (u) => Array.from(new Uint8Array(await (await fetch(u)).arrayBuffer()))", src)
            shots.append(bytes(png))
            (SHOTS / f"designer-sipas-import-p{n}.png").write_bytes(bytes(png))
        page.get_by_role("button", name="Trang 1", exact=True).click()
        _checked(page)
        page.screenshot(path=str(SHOTS / "designer-import.png"))
        # in English, and back
        page.get_by_role("button", name="English").click()
        assert page.get_by_role("tab", name="Preview").is_visible() and page.locator("#ds-check-line").inner_text() == "✓ Valid · 2 pages"
        assert page.get_by_role("button", name="Save (Ctrl+S)").is_visible()
        assert page.locator(f'[data-slot="pages[0].sections[0]"] > .ds-add-q').inner_text().startswith("Add question")
        page.get_by_role("button", name="Tiếng Việt").click()
        assert page.locator("#ds-check-line").inner_text() == "✓ Hợp lệ · 2 trang"
    finally:
        ctx.close()
    assert not errors, errors
    # the shipped form's previews saved beside the imported ones to be looked at; page 1 (respondent questions,
    # II.1, II.2) is drawn the same above the footer (which names the form and carries its QR code and id row)
    import cv2

    for n in range(1, pages + 1):
        req = __import__("urllib.request").request
        r = req.Request(f"http://127.0.0.1:{port}/api/templates/sipas-2017/1/preview/{n}.png", headers={"Authorization": f"Bearer {tok['admin1']}"})
        with req.urlopen(r, timeout=60) as resp:
            shipped = resp.read()
        (SHOTS / f"designer-sipas-shipped-p{n}.png").write_bytes(shipped)
        a = cv2.imdecode(np.frombuffer(shots[n - 1], np.uint8), cv2.IMREAD_GRAYSCALE)
        b = cv2.imdecode(np.frombuffer(shipped, np.uint8), cv2.IMREAD_GRAYSCALE)
        assert a.shape == b.shape
        if n == 1:
            body = slice(int(0.05 * a.shape[0]), int(0.9 * a.shape[0]))
            differ = np.mean(np.abs(a[body].astype(int) - b[body].astype(int)) > 64)
            assert differ < 0.002, differ
