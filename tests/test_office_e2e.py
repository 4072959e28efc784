"""Issue 11's "Done when", end to end in Debian's Chromium: one round run by the pages alone, from an empty
database (one admin account made with `omr user add`, as an office starts), each role in its own browser
context, the tests in order and each doing only its role's part. The API is read only to check what the
pages did. Then the server is killed in the middle of an upload and started again on the same data and
port: the page's "Gửi tiếp" ends with every file in the round exactly once.

Screenshots go to SHOTS (docs/screenshots/ with OMR_UPDATE_SCREENSHOTS=1)."""
from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from test_office_ui import VIEW, _check_figures, _fig, _login_to, _nav_links
from test_review_ui import CHROMIUM, ROOT, SHOTS, _press_and_wait, _req, _shown_id, browser  # noqa: F401  (fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"),
]

ROUND = "Khảo sát 2026"
SHEETS = 30
RUN_AGENCY = "SNV"
AGENCIES = [  # Mã, Tên, Loại, Mã cấp trên, Hoạt động: 12 agencies of one province
    ("TTH", "Tỉnh Thừa Thiên Huế", "Tỉnh", "", "Có"), ("SNV", "Sở Nội vụ", "Sở", "TTH", "Có"),
    ("STP", "Sở Tư pháp", "Sở", "TTH", "Có"), ("SYT", "Sở Y tế", "Sở", "TTH", "Có"),
    ("SGDDT", "Sở Giáo dục và Đào tạo", "Sở", "TTH", "Có"), ("STC", "Sở Tài chính", "Sở", "TTH", "Có"),
    ("SXD", "Sở Xây dựng", "Sở", "TTH", "Có"), ("STNMT", "Sở Tài nguyên và Môi trường", "Sở", "TTH", "Có"),
    ("CA", "Công an tỉnh", "Ngành", "TTH", "Có"), ("H-PD", "Huyện Phong Điền", "Huyện", "TTH", "Có"),
    ("X-PH", "Xã Phong Hiền", "Xã", "H-PD", "Có"), ("H-QD", "Huyện Quảng Điền", "Huyện", "TTH", "Không"),
]
S: dict = {}  # what one role's test hands to the next: tokens given out on the admin page, files, the round


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`omr serve` on one data directory and port, which the restart test stops and starts again."""

    def __init__(self, tmp: Path) -> None:
        self.tmp, self.port = tmp, _free_port()
        self.common = ["--data-dir", str(tmp / "data"), "--database", f"sqlite:///{tmp / 'db.sqlite'}"]
        self.omr = [sys.executable, "-m", "omr.cli"]
        self.env = dict(os.environ, OMR_WORKERS="2")
        self.proc: subprocess.Popen | None = None
        self.base = f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str) -> str:
        return subprocess.run(self.omr + list(args) + self.common, env=self.env, cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()

    def start(self) -> None:
        log = open(self.tmp / "serve.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(self.omr + ["serve", "--port", str(self.port)] + self.common, env=self.env, cwd=ROOT,
                                     start_new_session=True, stdout=log, stderr=subprocess.STDOUT)
        for _ in range(300):
            try:
                urllib.request.urlopen(self.base + "/api/me", timeout=2)
            except urllib.error.HTTPError:
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError((self.tmp / "serve.log").read_text()) from None
                time.sleep(0.2)
        raise RuntimeError("the server did not start")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("office")
    srv = Server(tmp)
    S["boss"] = srv.cli("user", "add", "boss", "--role", "admin")  # the one account made outside the pages
    srv.start()
    try:
        yield srv
    finally:
        srv.kill(signal.SIGTERM)


@pytest.fixture()
def ctx(browser):  # noqa: F811
    """A fresh browser context per role; no page error or dialog may happen in it."""
    c = browser.new_context(viewport=VIEW, locale="vi-VN", accept_downloads=True)
    errors: list[str] = []
    c.on("page", lambda p: p.on("pageerror", lambda e: errors.append(str(e))))
    yield c
    c.close()
    assert not errors, errors


def _api(srv: Server, path: str, who: str = "boss"):  # noqa: ANN202
    st, data = _req(srv.port, "GET", path, S[who])
    assert st == 200, (path, st, data)
    return data


def _agencies_xlsx(path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Mã", "Tên", "Loại", "Mã cấp trên", "Hoạt động"])
    for row in AGENCIES:
        ws.append(list(row))
    wb.save(path)


# ---------------------------------------------------------------------------------------------- admin

def test_admin_sets_up_agencies_accounts_round_and_prints(office, ctx, tmp_path):
    page = ctx.new_page()
    _login_to(page, office.base, "admin.html", "boss", S["boss"])
    assert _nav_links(page) == ["Quản trị", "Thiết kế phiếu", "Tải lên", "Duyệt", "Duyệt theo lưới", "Kiểm tra chất lượng", "Kết quả"]
    line = page.locator("#bk-line")
    assert "chưa có bản sao lưu" in line.inner_text() and "warn" in line.get_attribute("class")
    # 12 agencies from an XLSX, through the file input
    xlsx = tmp_path / "don-vi.xlsx"
    _agencies_xlsx(xlsx)
    page.get_by_label("Tệp danh sách").set_input_files(str(xlsx))
    page.get_by_role("button", name="Nhập danh sách").click()
    page.get_by_text("Đã nhập 12 dòng: 12 cơ quan mới").wait_for()
    ags = {a["code"]: a for a in _api(office, "/api/agencies")}
    assert len(ags) == 12 and ags["X-PH"]["parent"] == "H-PD" and ags["X-PH"]["kind"] == "xa" and not ags["H-QD"]["active"]
    # edit one in the page: a parent that makes a cycle is refused in Vietnamese, then a right edit is saved
    page.get_by_role("button", name="Sửa: H-PD").click()
    edit = page.get_by_role("form", name="Sửa cơ quan")
    edit.get_by_label("Mã cấp trên").fill("X-PH")
    edit.get_by_role("button", name="Lưu thay đổi").click()
    page.locator("#ag-msg.error").filter(has_text="tạo thành vòng").wait_for()
    assert "Dữ liệu không hợp lệ" in page.locator("#ag-msg").inner_text()
    assert {a["code"]: a for a in _api(office, "/api/agencies")}["H-PD"]["parent"] == "TTH"  # nothing changed
    edit.get_by_label("Mã cấp trên").fill("TTH")
    edit.get_by_label("Tên", exact=True).fill("Thị xã Phong Điền")
    edit.get_by_label("Loại").select_option("huyen")
    edit.get_by_label("Hoạt động").uncheck()
    page.screenshot(path=str(SHOTS / "office-admin-agency-edit.png"))
    edit.get_by_role("button", name="Lưu thay đổi").click()
    page.get_by_text("Đã lưu cơ quan H-PD.").wait_for()
    assert edit.is_hidden()
    hpd = {a["code"]: a for a in _api(office, "/api/agencies")}["H-PD"]
    assert (hpd["name"], hpd["kind"], hpd["parent"], hpd["active"]) == ("Thị xã Phong Điền", "huyen", "TTH", False)
    page.get_by_role("button", name="Bật: H-PD").click()  # active again (the table's own switch)
    page.get_by_role("button", name="Tắt: H-PD").wait_for()
    # accounts: each token is shown once on the page; the operator, reviewer and viewer sign in with it later
    uf = page.get_by_role("form", name="Tạo tài khoản")
    for name, role in (("van_hanh", "operator"), ("duyet", "reviewer"), ("xem", "viewer")):
        uf.get_by_label("Tên người dùng").fill(name)
        uf.get_by_label("Vai trò").select_option(role)
        uf.get_by_role("button", name="Tạo tài khoản").click()
        page.get_by_text(f"Mã truy cập của {name} (chỉ hiện một lần").wait_for()
        S[name] = page.locator("#us-token").inner_text().rsplit(" ", 1)[1]
    assert {u["name"]: u["role"] for u in _api(office, "/api/users")} == {"boss": "admin", "van_hanh": "operator", "duyet": "reviewer", "xem": "viewer"}
    # the round, with a target sample
    rf = page.get_by_role("form", name="Tạo đợt khảo sát")
    rf.get_by_label("Tên đợt").fill(ROUND)
    rf.get_by_label("Mẫu phiếu").select_option("sipas-2017")
    rf.get_by_label("Kỳ").fill("2026")
    rf.get_by_label("Mẫu mục tiêu").fill(f"{RUN_AGENCY}=30, STP=20")
    rf.get_by_role("button", name="Tạo đợt").click()
    page.get_by_role("button", name=f"Đóng đợt: {ROUND}").wait_for()
    rnd = next(r for r in _api(office, "/api/rounds") if r["name"] == ROUND)
    S["round"] = rnd["id"]
    assert rnd["targets"] == {RUN_AGENCY: 30, "STP": 20} and rnd["state"] == "open"
    # a print run of 30 sheets for one agency, downloaded
    pf = page.get_by_role("form", name="In phiếu")
    pf.get_by_label("Đợt khảo sát").select_option(label=ROUND)
    pf.get_by_label("Cơ quan").select_option(RUN_AGENCY)
    pf.get_by_label("Số phiếu").fill(str(SHEETS))
    with page.expect_download(timeout=120000) as dl:
        pf.get_by_role("button", name="Tải tệp PDF để in").click()
    pdf = office.tmp / "in-snv.pdf"
    dl.value.save_as(pdf)
    from pypdf import PdfReader

    assert pdf.read_bytes()[:5] == b"%PDF-" and len(PdfReader(pdf).pages) == 2 * SHEETS
    row = page.locator("#pr-table tbody tr", has_text=RUN_AGENCY)
    row.wait_for()
    first, last = row.locator("td").nth(1).inner_text().split("–")  # the serials as the page shows them
    S["pdf"], S["first_serial"] = pdf, int(first)
    runs = _api(office, f"/api/rounds/{rnd['id']}/print-runs")
    assert [(r["agency"], r["count"], r["first_serial"], r["last_serial"]) for r in runs] == [(RUN_AGENCY, SHEETS, first, last)]


# ---------------------------------------------------------------------------------------------- operator

def test_operator_uploads_the_printed_sheets_and_broken_files(office, ctx):
    from samples.generate import fill_print_run

    scans = office.tmp / "scans"
    t0 = time.monotonic()
    paths = fill_print_run(S["pdf"], scans, "sipas-2017", S["first_serial"], RUN_AGENCY, seed=11, dpi=200, clean=True, broken=True)
    print(f"filled {len(paths)} pages in {time.monotonic() - t0:.1f} s")
    assert len(paths) == 2 * SHEETS
    broken = ["hong-cat-ngang.pdf", "ghi-chu-doi-ten.png", "tep-rong.jpg"]
    S["truth"] = [json.loads(x) for x in (scans / "truth.jsonl").read_text(encoding="utf-8").splitlines()]
    page = ctx.new_page()
    _login_to(page, office.base, "upload.html", "van_hanh", S["van_hanh"])
    assert _nav_links(page) == ["Tải lên", "Kết quả"]
    page.get_by_label("Đợt khảo sát").select_option(label=ROUND)
    page.get_by_label("Cơ quan").select_option(RUN_AGENCY)
    page.get_by_text("mỗi tệp tối đa 300 MB").wait_for()  # GET /api/limits, the service's default
    page.locator("#up-files").set_input_files([str(p) for p in paths] + [str(scans / b) for b in broken])
    rows = page.locator("#up-list tbody tr")
    assert rows.count() == 2 * SHEETS + 3
    assert "tệp rỗng" in rows.filter(has_text="tep-rong.jpg").inner_text()  # refused before sending, by name
    page.get_by_role("button", name=f"Gửi {2 * SHEETS + 2} tệp").click()
    page.locator("#up-list tbody tr", has_text="Đã gửi").first.wait_for()
    page.screenshot(path=str(SHOTS / "office-upload-progress.png"))
    page.wait_for_function("n => document.querySelectorAll('#up-list td.st-sent').length === n", arg=2 * SHEETS + 2, timeout=120000)
    print(f"sent at {time.monotonic() - t0:.1f} s")
    # the batches finish, as the live list shows them; the broken files are named there
    rid = S["round"]
    for _ in range(600):
        batches = _api(office, f"/api/batches?round={rid}")
        if len(batches) == 2 * SHEETS + 2 and all(b["status"] in ("done", "failed") for b in batches):
            break
        time.sleep(0.3)
    else:
        raise AssertionError(batches)
    print(f"read at {time.monotonic() - t0:.1f} s")
    live = page.locator("#up-batches")
    for name in broken[:2]:
        live.locator("li.err", has_text=name).wait_for(timeout=15000)
    page.wait_for_function("() => ![...document.querySelectorAll('#up-batches td[class^=st-]')].some((td) => !/st-(done|failed)/.test(td.className))",
                           timeout=15000)
    for b in batches:
        cells = page.locator(f'#up-batches tr[data-batch="{b["id"]}"] td').all_inner_texts()
        assert cells[3] == f"{b['pages_done']}/{b['pages_total']}" and cells[4] == str(b["pages_failed"])
    live.locator("li.err", has_text=broken[0]).scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "office-upload-done.png"))
    # every page of the print run read, of its agency, with the filled answers
    ok = [p for p in _all_pages(office) if p["status"] == "ok"]
    assert sorted((p["sheet"], p["page"]) for p in ok) == sorted((d["sheet"], d["page"]) for d in S["truth"] if "fields" in d)
    assert {p["agency"] for p in ok} == {RUN_AGENCY}
    truth = {(d["sheet"], d["page"]): d for d in S["truth"] if "fields" in d}
    wrong = [(p["sheet"], k) for p in ok for k, f in truth[(p["sheet"], p["page"])]["fields"].items()
             if f["expect"] == "answered" and p["fields"][k]["status"] == "answered" and p["fields"][k]["value"] != f["value"]]
    assert not wrong, wrong
    failed = [b for b in batches if b["pages_failed"]]
    assert sorted(f["name"] for b in failed for f in _api(office, f"/api/batches/{b['id']}")["files"]) == sorted(broken[:2])


def _all_pages(srv: Server) -> list[dict]:
    """Every page the service holds (ids count up from 1 in this database)."""
    out, missing, i = [], 0, 0
    while missing < 20:
        i += 1
        st, p = _req(srv.port, "GET", f"/api/pages/{i}", S["boss"])
        if st == 404:
            missing += 1
            continue
        assert st == 200, (i, st, p)
        out.append(p)
    return out


# ---------------------------------------------------------------------------------------------- reviewer

def test_reviewer_works_the_whole_queue_by_keyboard(office, ctx):
    rid = S["round"]
    pending = sum(b["review_pending"] for b in _api(office, f"/api/batches?round={rid}"))
    assert pending > 0  # handwriting in the free-text box, the broken files' pages
    page = ctx.new_page()
    page.goto(office.base + "/ui/")
    page.wait_for_selector("#login-view:not([hidden])")
    page.keyboard.type("duyet")  # the name field has the focus
    page.keyboard.press("Tab")
    page.keyboard.type(S["duyet"])
    page.keyboard.press("Enter")
    page.wait_for_selector("#choose-view:not([hidden])")
    assert _nav_links(page) == ["Duyệt", "Duyệt theo lưới", "Kiểm tra chất lượng", "Kết quả"]
    page.keyboard.press("Enter")  # the newest round, every batch
    page.wait_for_selector("#item:not([hidden])")
    decided: dict[int, str] = {}
    for _ in range(3 * pending + 10):
        if page.is_visible("#done-view"):
            break
        iid = _shown_id(page)
        st, item = _req(office.port, "GET", f"/api/review/{iid}", S["boss"])
        kind = item["field_kind"]
        if kind == "page":
            key = "n"  # a broken file's page: not a questionnaire
        elif kind in ("text", "code"):
            if item.get("text_suggestion"):
                page.keyboard.press("c")  # take the OCR reading into the box, then save it
                key = "Enter"
            else:
                key = "0"
        elif kind == "multiple" or item["status"] == "multiple":
            key = "1"
        else:
            key = "Enter" if item["value"] is not None else "1"
        _press_and_wait(page, key)
        decided[iid] = key
    else:
        raise AssertionError("the queue did not end")
    page.locator("#done-view").get_by_text("Đã duyệt hết").wait_for()
    assert len(decided) >= pending
    assert sum(b["review_pending"] for b in _api(office, f"/api/batches?round={rid}")) == 0
    for iid in decided:
        st, item = _req(office.port, "GET", f"/api/review/{iid}", S["boss"])
        assert item["state"] != "pending" and item.get("decided_by", "duyet") == "duyet", item


# ---------------------------------------------------------------------------------------------- admin: online answers

def _online_csv(path: Path) -> None:
    head = ["Thời gian", "Giới tính", *[f"c{i:02d}" for i in range(1, 23)], "Mã đơn vị", "Góp ý"]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(head)
        for i in range(20):
            w.writerow([f"2026-03-{1 + i % 28:02d} 09:00", "Nam" if i % 3 else "Nữ", *[str(1 + (i + q) % 5) for q in range(22)],
                        "SNV" if i % 2 else "STP", "Cán bộ nhiệt tình" if i % 4 == 0 else ""])
        w.writerow(["2026-03-21 09:00", "Nam", "4", "4", "9", *["4"] * 19, "SNV", ""])  # row 22: c03 = 9
        w.writerow(["2026-03-22 09:00", "Nữ", *["5"] * 22, "XYZ", ""])  # row 23: an unknown agency


def test_admin_imports_online_answers_and_sees_the_backup(office, ctx, tmp_path):
    page = ctx.new_page()
    _login_to(page, office.base, "admin.html", "boss", S["boss"])
    form = page.get_by_role("form", name="Nhập phiếu trực tuyến")
    form.get_by_label("Đợt khảo sát").select_option(label=ROUND)
    page.get_by_text("Chưa có cách ghép cột đã lưu").wait_for()
    f = tmp_path / "truc-tuyen.csv"
    _online_csv(f)
    form.get_by_label("Tệp câu trả lời").set_input_files(str(f))
    form.get_by_role("button", name="Kiểm tra").click()
    page.get_by_text("Kiểm tra xong (chưa nhập gì): 22 dòng, 20 dòng nhận, 2 dòng bị từ chối.").wait_for()
    mapping = page.get_by_role("table", name="Ghép cột với câu hỏi")
    assert mapping.get_by_label("Câu hỏi: Giới tính").input_value() == "gioi_tinh"
    assert mapping.get_by_label("Câu hỏi: Mã đơn vị").input_value() == "agency"
    assert mapping.get_by_label("Câu hỏi: Góp ý").input_value() == "skip"  # not guessed from its header
    errs = page.get_by_role("list", name="Các dòng bị từ chối").get_by_role("listitem").all_inner_texts()
    assert errs[0].startswith("Dòng 22 · cột c03: «9» không phải một lựa chọn") and errs[1].startswith("Dòng 23 · cột Mã đơn vị: «XYZ» không phải mã cơ quan"), errs
    assert _api(office, f"/api/indices?round={S['round']}&channel=online")["n"] == 0  # a dry run takes nothing
    # the free-text column mapped by hand: the import waits for a new check
    mapping.get_by_label("Câu hỏi: Góp ý").select_option("y_kien_khac")
    assert page.get_by_role("button", name="Nhập", exact=True).is_disabled()
    form.get_by_role("button", name="Kiểm tra").click()
    page.get_by_role("button", name="Nhập", exact=True).wait_for(state="visible")
    page.wait_for_function("() => !document.getElementById('on-import').disabled")
    page.evaluate("document.getElementById('on-form').closest('.card').scrollIntoView(); window.scrollBy(0, -70)")
    page.screenshot(path=str(SHOTS / "office-admin-online.png"))
    page.get_by_role("button", name="Nhập", exact=True).click()
    page.get_by_text("Đã nhập 20 dòng vào đợt; 2 dòng bị từ chối").wait_for()
    assert _api(office, f"/api/indices?round={S['round']}&channel=online")["n"] == 20
    saved = _api(office, "/api/templates/sipas-2017/1/import-mapping")
    assert saved["mapping"]["Góp ý"] == "y_kien_khac" and saved["updated_by"] == "boss"
    page.get_by_text("Cách ghép cột đã lưu cho mẫu phiếu này").wait_for()
    # a backup of the running service: the page shows when
    office.cli("backup", str(office.tmp / "sao-luu-1"))
    page.reload()
    line = page.locator("#bk-line")
    line.filter(has_text="Sao lưu gần nhất:").wait_for()
    assert "chưa có" not in line.inner_text() and "warn" not in line.get_attribute("class")
    assert re.search(r"\d{1,2}:\d{2}", line.inner_text()), line.inner_text()
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / "office-admin-backup.png"))


# ---------------------------------------------------------------------------------------------- viewer

MAGIC = {"CSV": lambda b: b.decode("utf-8-sig").count(",") > 10, "XLSX (Excel)": lambda b: b[:2] == b"PK",
         "SPSS (.sav)": lambda b: b[:4] == b"$FL2", "JSON": lambda b: isinstance(json.loads(b), (dict, list)),
         "Báo cáo (PDF)": lambda b: b[:5] == b"%PDF-"}


def test_viewer_reads_the_results_paper_and_online(office, ctx):
    rid = S["round"]
    page = ctx.new_page()
    _login_to(page, office.base, "results.html", "xem", S["xem"])
    assert _nav_links(page) == ["Kết quả"]
    page.get_by_label("Đợt khảo sát").select_option(str(rid))
    every = _api(office, f"/api/indices?round={rid}&agencies=true", "xem")
    online = _api(office, f"/api/indices?round={rid}&agencies=true&channel=online", "xem")
    paper = _api(office, f"/api/indices?round={rid}&agencies=true&channel=paper", "xem")
    assert online["n"] == 20 and paper["n"] == SHEETS and every["n"] == SHEETS + 20
    page.wait_for_function("v => document.getElementById('rs-overall').textContent === v", arg=_fig(every["overall"]))
    _check_figures(page, every)
    page.get_by_label("Kênh").select_option(label="Trực tuyến")
    page.wait_for_function("v => document.getElementById('rs-overall').textContent === v", arg=_fig(online["overall"]))
    _check_figures(page, online)
    for name, ok in MAGIC.items():
        with page.expect_download(timeout=60000) as dl:
            page.get_by_role("link", name=name, exact=True).click()
        data = Path(dl.value.path()).read_bytes()
        assert len(data) > 50 and ok(data), (name, data[:40])


# ---------------------------------------------------------------------------------------------- the server goes away

def test_upload_resumes_after_the_server_is_killed_and_started_again(office, ctx, tmp_path):
    import numpy as np
    from PIL import Image

    rid = S["round"]
    before = {b["id"] for b in _api(office, f"/api/batches?round={rid}")}
    n = 40
    rng = np.random.default_rng(3)
    files = []
    for i in range(n):  # incompressible pages of about 1.5 MB: the upload takes long enough to be cut
        p = tmp_path / f"trang-{i:03d}.png"
        Image.fromarray(rng.integers(0, 256, (1000, 1500), dtype=np.uint8)).save(p)
        files.append(p)
    page = ctx.new_page()
    _login_to(page, office.base, "upload.html", "van_hanh", S["van_hanh"])
    page.get_by_label("Đợt khảo sát").select_option(label=ROUND)
    page.locator("#up-files").set_input_files([str(p) for p in files])
    page.get_by_role("button", name=f"Gửi {n} tệp").click()
    page.wait_for_function("() => document.querySelectorAll('#up-list td.st-sent').length >= 4", timeout=60000)
    office.kill(signal.SIGKILL)  # mid-upload: requests in flight are cut
    sent_at_kill = page.locator("#up-list td.st-sent").count()
    assert sent_at_kill < n, "every file was sent before the server went away"
    resume = page.get_by_role("button", name=re.compile(r"^Gửi tiếp \d+ tệp chưa xong$"))
    resume.wait_for(timeout=60000)  # the page gave up retrying and keeps what the server never acknowledged
    page.get_by_role("alert").filter(has_text="Mất kết nối tới máy chủ").wait_for()
    page.screenshot(path=str(SHOTS / "office-upload-lost.png"))
    # leaving the page now would lose the list: the browser asks first, and staying keeps it
    asked: list[str] = []
    page.once("dialog", lambda d: (asked.append(d.type), d.dismiss()))
    page.get_by_role("link", name="Kết quả").click(no_wait_after=True)
    page.wait_for_timeout(1000)
    assert asked == ["beforeunload"] and page.url.endswith("/ui/upload.html"), (asked, page.url)
    office.start()  # the same data directory and port
    resume.click()
    page.wait_for_function("n => document.querySelectorAll('#up-list td.st-sent').length === n", arg=n, timeout=120000)
    assert resume.is_hidden()
    page.screenshot(path=str(SHOTS / "office-upload-after-restart.png"))
    # every file in the round exactly once: one live file per name, each with its one page
    for _ in range(600):  # the worker splits each file into its pages (reading them is not this test's business)
        new = [_api(office, f"/api/batches/{b['id']}") for b in _api(office, f"/api/batches?round={rid}") if b["id"] not in before]
        if all(f["status"] != "pending" for b in new for f in b["files"]):
            break
        time.sleep(0.3)
    live = [(f["name"], f["sha256"]) for b in new for f in b["files"] if f["status"] not in ("duplicate", "retried")]
    assert sorted(x[0] for x in live) == sorted(p.name for p in files), live
    assert len({x[1] for x in live}) == n
    assert sum(b["pages_total"] for b in new) == n
