"""Questionnaires made in the browser: saved as YAML in the service's forms folder, one file per version.

The YAML format stays the one source of truth: a form designed in the page is checked exactly as a YAML file
is loaded (``omr.template.template_problems``), stored as ``<forms>/<id>.yaml`` (its latest version) and
``<forms>/versions/<id>/<version>.yaml`` (every version, kept for good), and listed and read with the shipped
forms by the service, ``omr scan`` and ``omr tally`` alike (``OMR_TEMPLATE_PATH=<data dir>/forms``).

Versions: a version that a round uses, or whose pages have been read, is frozen: saving the form again makes
the next version, so sheets already printed keep reading with the boxes they carry and a round's tallies keep
using the version it was created with. A version nobody used yet is replaced in place. Shipped forms are
always frozen (an edited copy becomes the office's next version of that id).
"""
from __future__ import annotations

import contextlib
import fcntl
import io
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import exists, select

from omr.errors import TemplateError
from omr.template import (TEMPLATES_DIR, VERSIONS_DIR, Template, list_templates, load_template, template_dirs,
                          template_problems, template_versions)
from service.models import AuditEntry, Page, Round
from service.tables import TableError, fold, read_table

MAX_TEMPLATE_BYTES = 512 << 10
Problems = list[dict[str, str]]


class FormError(Exception):
    """A form that cannot be saved or read: ``problems`` says where and what."""

    def __init__(self, message: str, problems: Problems | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


def problems_json(items: list[tuple[str, str]]) -> Problems:
    return [{"where": w, "problem": p} for w, p in items]


# --- reading what the client sent ----------------------------------------------------------------

def draft_from_body(template: Any = None, text: str | None = None) -> dict[str, Any]:
    """The draft as a mapping, from a JSON object or from YAML text; a FormError says what is wrong."""
    if text is not None:
        if len(text.encode("utf-8", "surrogatepass")) > MAX_TEMPLATE_BYTES:
            raise FormError(f"the YAML is larger than {MAX_TEMPLATE_BYTES >> 10} kB")
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(YAML)"
            raise FormError("not valid YAML", [{"where": where, "problem": getattr(exc, "problem", None) or "not valid YAML"}]) from None
    else:
        data = template
    if not isinstance(data, dict):
        raise FormError("a form is a mapping with id, title and pages",
                        [{"where": "(top level)", "problem": "a template must be a mapping with id, version, title and pages"}])
    return data


def check(data: dict[str, Any], version: int | None = None) -> tuple[Template | None, Problems]:
    """``template_problems`` of a draft; the version is the server's to set (``version`` or 1 when absent)."""
    draft = dict(data)
    draft["version"] = version or (draft.get("version") if isinstance(draft.get("version"), int) else 1)
    t, problems = template_problems(draft)
    return t, problems_json(problems)


def to_yaml(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=110, default_flow_style=None)


# --- where each version lives ---------------------------------------------------------------------

def version_file(template_id: str, version: int) -> Path | None:
    for d in template_dirs():
        for p in (d / f"{template_id}.yaml", d / VERSIONS_DIR / template_id / f"{version}.yaml"):
            if p.is_file():
                try:
                    if load_template(p).version == version:
                        return p
                except TemplateError:
                    continue
    return None


def origin(path: Path | None) -> str:
    if path is not None and path.resolve().is_relative_to(TEMPLATES_DIR.resolve()):
        return "shipped"
    return "office"


def is_frozen(s, template_id: str, version: int) -> bool:  # noqa: ANN001
    """Printed for a round (a round uses it) or read from scans, or shipped: editing makes a new version."""
    if origin(version_file(template_id, version)) == "shipped":
        return True
    used = s.scalar(select(exists().where(Round.template == template_id, Round.version == version)))
    read = s.scalar(select(exists().where(Page.template == template_id, Page.version == version)))
    return bool(used or read)


def catalogue(s) -> list[dict[str, Any]]:  # noqa: ANN001
    """Every known form with its versions, origin and whether its latest version is frozen; broken ones left out."""
    out = []
    for name in list_templates():
        try:
            t = load_template(name)
        except TemplateError:
            continue
        out.append({"id": t.id, "version": t.version, "title": t.title, "subtitle": t.subtitle, "pages": t.page_count,
                    "versions": template_versions(t.id), "origin": origin(version_file(t.id, t.version)),
                    "frozen": is_frozen(s, t.id, t.version)})
    return out


def raw(template_id: str, version: int) -> tuple[dict[str, Any], str, Path]:
    """A stored version as it was written (option sets by name), its YAML text and its file."""
    p = version_file(template_id, version)
    if p is None:
        have = ", ".join(map(str, template_versions(template_id))) or "none"
        raise FormError(f"no version {version} of {template_id!r} (versions: {have})")
    text = p.read_text(encoding="utf-8")
    return yaml.safe_load(text), text, p


# --- saving ------------------------------------------------------------------------------------------

@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One save at a time per forms folder (two admins saving the same form get two versions, never a mix)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="tmp", suffix=".part")  # "tmp…": a backup skips it
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def save(s, folder: Path, data: dict[str, Any], user: str) -> dict[str, Any]:  # noqa: ANN001
    """Check and store a draft; returns ``{id, version, new_version, origin}``. A FormError lists its problems."""
    template_id = data.get("id")
    if not isinstance(template_id, str) or not re.fullmatch(r"[a-z0-9-]{1,60}", template_id):
        raise FormError("the form needs an id", [{"where": "id", "problem": "an id of 1 to 60 characters: a-z, 0-9 and '-' (e.g. hue-2026)"}])
    with _locked(folder):
        versions = template_versions(template_id)
        latest = versions[-1] if versions else 0
        if latest and not is_frozen(s, template_id, latest) and origin(version_file(template_id, latest)) == "office":
            version = latest
        else:
            version = latest + 1
        draft = {k: v for k, v in data.items() if k != "version"}
        draft = {"id": template_id, "version": version, **{k: v for k, v in draft.items() if k != "id"}}
        t, problems = template_problems(draft)
        if t is None:
            raise FormError("the form has problems", problems_json(problems))
        if latest and version == latest + 1:
            before = load_template(template_id, version=latest)
            if t.model_dump(exclude={"version"}) == before.model_dump(exclude={"version"}):
                return {"id": template_id, "version": latest, "new_version": False, "unchanged": True,
                        "origin": origin(version_file(template_id, latest))}
        text = to_yaml(draft)
        _write(folder / VERSIONS_DIR / template_id / f"{version}.yaml", text)
        _write(folder / f"{template_id}.yaml", text)
        s.add(AuditEntry(user=user, action="save form", new={"template": template_id, "version": version,
                                                             "new_version": version != latest}))
        s.commit()
    return {"id": template_id, "version": version, "new_version": version != latest, "unchanged": False, "origin": "office"}


# --- comparing two versions ----------------------------------------------------------------------------

_COMPARED = ("text", "kind", "number", "options", "columns", "digits", "lines")


def compare(a: Template, b: Template) -> dict[str, Any]:
    """Questions added, removed and changed from ``a`` to ``b`` (by id), and whether the index definition changed."""
    qa = {q.id: (p, q) for p, q in a.questions()}
    qb = {q.id: (p, q) for p, q in b.questions()}
    added = [{"id": i, "text": q.text, "page": p} for i, (p, q) in qb.items() if i not in qa]
    removed = [{"id": i, "text": q.text, "page": p} for i, (p, q) in qa.items() if i not in qb]
    changed = []
    for i, (pa, q1) in qa.items():
        if i not in qb:
            continue
        pb, q2 = qb[i]
        d1, d2 = q1.model_dump(include=set(_COMPARED)), q2.model_dump(include=set(_COMPARED))
        fields = [f for f in _COMPARED if d1.get(f) != d2.get(f)] + (["page"] if pa != pb else [])
        if fields:
            before = {f: d1[f] for f in fields if f in d1} | ({"page": pa} if pa != pb else {})
            after = {f: d2[f] for f in fields if f in d2} | ({"page": pb} if pa != pb else {})
            changed.append({"id": i, "fields": fields, "before": before, "after": after})
    ia = a.indices.model_dump() if a.indices else None
    ib = b.indices.model_dump() if b.indices else None
    return {"from": a.version, "to": b.version, "added": added, "removed": removed, "changed": changed,
            "indices_changed": ia != ib}


# --- a question list from a spreadsheet ------------------------------------------------------------------

HEADERS = {"section": "Phần", "number": "Số", "id": "Mã", "text": "Câu hỏi", "kind": "Loại",
           "set": "Bộ lựa chọn", "options": "Các lựa chọn", "element": "Yếu tố"}
KINDS = {"mot lua chon": "single", "single": "single", "nhieu lua chon": "multiple", "multiple": "multiple",
         "van ban": "text", "text": "text", "ma so": "code", "code": "code"}


def shared_option_sets() -> dict[str, list[dict[str, Any]]]:
    """The option sets of the known forms by name (the first form that defines a name gives it)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for name in list_templates():
        try:
            t = load_template(name)
        except TemplateError:
            continue
        for set_name, opts in t.option_sets.items():
            out.setdefault(set_name, [o.model_dump() for o in opts])
    return out


def sample_sheet() -> bytes:
    """The question-list sheet to fill in, with its Vietnamese headers and a few example rows."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Câu hỏi"
    ws.append(list(HEADERS.values()))
    for c in ws[1]:
        c.font = Font(bold=True)
    ws.append(["I. THÔNG TIN CHUNG", "", "gioi_tinh", "Giới tính", "một lựa chọn", "", "1=Nam; 2=Nữ", ""])
    ws.append(["I. THÔNG TIN CHUNG", "", "do_tuoi", "Độ tuổi", "một lựa chọn", "", "1=18–24; 2=25–34; 3=35–49; 4=50–60; 5=Trên 60", ""])
    ws.append(["II. ĐÁNH GIÁ", "1", "c01", "Cán bộ hướng dẫn tận tình, chu đáo", "một lựa chọn", "likert5", "", "Công chức giải quyết TTHC"])
    ws.append(["II. ĐÁNH GIÁ", "2", "c02", "Thời gian giải quyết đúng hẹn", "một lựa chọn", "likert5", "", "Kết quả giải quyết TTHC"])
    ws.append(["III. GÓP Ý", "", "gop_y", "Ý kiến khác của Ông/Bà", "văn bản", "", "", ""])
    for col, width in zip("ABCDEFGH", (24, 6, 12, 60, 16, 14, 40, 30)):
        ws.column_dimensions[col].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", fold(text)).strip("_")[:40] or "q"


def _parse_options(cell: str, row: int) -> list[dict[str, Any]]:
    opts = []
    for k, part in enumerate(p.strip() for p in re.split(r"[;\n]", cell) if p.strip()):
        m = re.fullmatch(r"(\d+)\s*[=:.)-]\s*(.+)", part)
        value, label = (int(m.group(1)), m.group(2).strip()) if m else (k + 1, part)
        opts.append({"value": value, "label": label})
    if not opts:
        raise FormError("", [{"where": f"row {row}", "problem": "no options"}])
    return opts


def draft_from_sheet(data: bytes, filename: str) -> tuple[dict[str, Any], Problems]:
    """A draft form from a question list (one row per question, the sample sheet's headers), laid out on as
    many pages as it needs; problems name the row and column. The draft is not saved."""
    try:
        rows = read_table(data, filename, max_rows=2000)
    except TableError as exc:
        raise FormError(str(exc)) from None
    if not rows:
        raise FormError(f"{filename[:100]}: the sheet is empty")
    want = {fold(v): k for k, v in HEADERS.items()}
    cols: dict[str, int] = {}
    for i, h in enumerate(rows[0]):
        key = want.get(fold(h))
        if key and key not in cols:
            cols[key] = i
    if "text" not in cols:
        raise FormError(f"{filename[:100]}: no column 'Câu hỏi' in the first row (headers: {', '.join(HEADERS.values())})")
    shared = shared_option_sets()
    problems: Problems = []
    sections: list[dict[str, Any]] = []
    option_sets: dict[str, list[dict[str, Any]]] = {}
    elements: dict[str, list[str]] = {}
    ids: set[str] = set()

    def cell(r: list[str], key: str) -> str:
        i = cols.get(key)
        return r[i].strip() if i is not None and i < len(r) and r[i] else ""

    for n, r in enumerate(rows[1:], start=2):
        text = cell(r, "text")
        if not text:
            if any(c.strip() for c in r):
                problems.append({"where": f"row {n}, {HEADERS['text']}", "problem": "no question text"})
            continue
        kind = KINDS.get(fold(cell(r, "kind")) or "mot lua chon")
        if kind is None:
            problems.append({"where": f"row {n}, {HEADERS['kind']}",
                             "problem": f"'{cell(r, 'kind')[:30]}': one of một lựa chọn, nhiều lựa chọn, văn bản, mã số"})
            continue
        qid = cell(r, "id") or _slug(text)
        if not re.fullmatch(r"[a-z0-9_]+", qid):
            qid = _slug(qid)
        base, k = qid, 2
        while qid in ids:
            qid, k = f"{base}_{k}", k + 1
        ids.add(qid)
        q: dict[str, Any] = {"id": qid, "kind": kind, "text": text}
        if cell(r, "number"):
            q["number"] = cell(r, "number")
        set_name = cell(r, "set")
        if kind in ("single", "multiple"):
            if set_name:
                if set_name not in shared and set_name not in option_sets:
                    problems.append({"where": f"row {n}, {HEADERS['set']}",
                                     "problem": f"unknown option set '{set_name[:30]}' (known: {', '.join(shared) or 'none'})"})
                    continue
                option_sets.setdefault(set_name, shared.get(set_name, []))
                q["options"] = set_name
            else:
                try:
                    q["options"] = _parse_options(cell(r, "options"), n)
                except FormError:
                    problems.append({"where": f"row {n}, {HEADERS['options']}", "problem": "a choice question needs options ('1=Nam; 2=Nữ') or an option set"})
                    continue
        elif kind == "code":
            q["digits"] = 6
        title = cell(r, "section") or (sections[-1]["title"] if sections else "")
        if not sections or sections[-1]["title"] != title:
            sections.append({"title": title, "questions": []})
        sections[-1]["questions"].append(q)
        if cell(r, "element"):
            elements.setdefault(cell(r, "element"), []).append(qid)
    out_sections = []
    for sec in sections:
        qs = sec["questions"]
        sets = {q.get("options") for q in qs if isinstance(q.get("options"), str)}
        grid = len(qs) > 1 and len(sets) == 1 and all(isinstance(q.get("options"), str) and q["kind"] == "single" for q in qs)
        entry: dict[str, Any] = {"title": sec["title"]} if sec["title"] else {}
        if grid:
            entry["grid"] = sets.pop()
            entry["questions"] = [{k: v for k, v in q.items() if k not in ("options", "kind")} for q in qs]
        else:
            entry["questions"] = qs
        out_sections.append(entry)
    stem = _slug(Path(filename).stem).replace("_", "-")
    draft: dict[str, Any] = {"id": stem if re.fullmatch(r"[a-z0-9-]+", stem) else "phieu-moi", "version": 1,
                             "title": "PHIẾU KHẢO SÁT", "option_sets": option_sets, "pages": [{"sections": out_sections or []}]}
    if elements:
        satisfied = [4, 5]
        draft["indices"] = {"satisfied_values": satisfied, "scale": [1, 5],
                            "elements": [{"id": f"e{i}", "name": name, "criteria": crit} for i, (name, crit) in enumerate(elements.items(), 1)]}
    draft["pages"] = paginate(draft)
    return draft, problems


def paginate(draft: dict[str, Any], max_pages: int = 8) -> list[dict[str, Any]]:
    """Sections spread over as few pages as hold them: a section that does not fit starts the next page."""
    sections = [sec for page in draft.get("pages") or [] for sec in page.get("sections") or []]
    if not sections:
        return draft.get("pages") or [{"sections": []}]
    pages: list[list[dict[str, Any]]] = [sections]
    for _ in range(max_pages):
        trial = {**draft, "pages": [{"sections": p} for p in pages]}
        _, problems = template_problems(trial)
        overflow = next((w for w, p in problems if "does not fit on page" in p), None)
        if overflow is None:
            break
        m = re.match(r"pages\[(\d+)\]\.sections\[(\d+)\]", overflow)
        if not m:
            break
        pi, si = int(m.group(1)), int(m.group(2))
        if si == 0 or pi >= max_pages - 1:
            break  # one section alone overflows a page: the designer shows the problem at it
        pages = pages[:pi] + [pages[pi][:si], pages[pi][si:]] + pages[pi + 1:]
        if pi + 2 < len(pages):  # what came after goes on with the moved sections
            pages = pages[:pi + 1] + [pages[pi + 1] + [s for p in pages[pi + 2:] for s in p]]
    return [{"sections": p} for p in pages]
