"""Exports of a round's answers and indices: CSV, XLSX, SPSS .sav and JSON.

Every function takes the template, the sheets and (where relevant) the index
result, and returns bytes; :func:`write_exports` writes the chosen formats
into a folder. Nothing here reads the database or the scan files, so the API
can stream the same bytes.

Sheets are :class:`service.tally_jsonl.Sheet` objects or plain dicts
``{"sheet": "000123", "agency": "SNV", "fields": {qid: {"value", "status"}}}``.

Layout of the answer table (CSV, XLSX "Phiếu trả lời", .sav), one row per sheet:

* ``sheet`` (serial, text: keeps leading zeros), ``agency``, then one column
  per question in template order, then ``pending`` (fields awaiting review).
* single choice: the option value (code); code grids: the digit string;
  free text: the text typed by a reviewer.
* multiple choice: one 0/1 column per option, named ``<question>_<value>``
  (1 = ticked, 0 = not ticked). This is the "multiple dichotomy" layout that
  SPSS multiple-response sets and Excel pivot tables read directly; a "1;3"
  string would need splitting before any count.
* an empty cell means no final answer: left blank, several marks on a
  single-choice question, or still awaiting review (see ``pending``).
  Only final answers are exported, never a guess.

The labelled variant (``labelled=True``) has Vietnamese headers and writes
option labels instead of codes (multiple choice: "Có" / "Không").
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from service.indices import AgencyRank, IndexResult, index_ci95, iter_questions, question_options
from service.tally_jsonl import QuestionFrequency, frequencies as count_frequencies

FORMATS = ("csv", "xlsx", "sav", "json")

YES, NO = "Có", "Không"


# --------------------------------------------------------------------------
# The answer table
# --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Column:
    name: str  # variable name: sheet, agency, c01, cai_thien_1, pending
    header: str  # Vietnamese header (labelled CSV, XLSX)
    label: str  # SPSS variable label
    kind: str  # "string" | "numeric"
    question: str | None = None
    option: int | None = None  # multiple choice: the option this 0/1 column stands for
    value_labels: Mapping[int, str] = field(default_factory=dict)


def _qheader(q: Any) -> str:
    num = getattr(q, "number", None)
    return f"{num}. {q.text}" if num else q.text


def columns(template: Any) -> list[Column]:
    """The answer table's columns, in order."""
    cols = [
        Column("sheet", "Số phiếu", "Số phiếu", "string"),
        Column("agency", "Đơn vị", "Mã đơn vị", "string"),
    ]
    for q in iter_questions(template):
        if q.kind == "single":
            labels = {o.value: o.label for o in question_options(q)}
            cols.append(Column(q.id, _qheader(q), _qheader(q), "numeric", q.id, value_labels=labels))
        elif q.kind == "multiple":
            for o in question_options(q):
                h = f"{_qheader(q)} – {o.label}"
                cols.append(Column(f"{q.id}_{o.value}", h, h, "numeric", q.id, o.value, {0: "Không chọn", 1: "Có chọn"}))
        else:  # code, text
            cols.append(Column(q.id, _qheader(q), _qheader(q), "string", q.id))
    cols.append(Column("pending", "Số ô chờ duyệt", "Số ô chờ duyệt", "numeric"))
    return cols


def _parts(sheet: Any) -> tuple[str, str, Mapping[str, Mapping[str, Any]]]:
    if isinstance(sheet, Mapping):
        return str(sheet.get("sheet") or sheet.get("serial") or ""), sheet.get("agency") or "", sheet.get("fields") or {}
    return str(sheet.serial), sheet.agency or "", sheet.fields


def _final(fields: Mapping[str, Mapping[str, Any]], qid: str | None) -> Any:
    f = fields.get(qid) if qid else None
    return f.get("value") if f and f.get("status") == "answered" else None


def answer_rows(template: Any, sheets: Iterable[Any], *, labelled: bool = False) -> tuple[list[Column], list[list[Any]]]:
    """``(columns, rows)``: one row per sheet, cells as Python values (None = empty)."""
    cols = columns(template)
    rows = []
    for sh in sheets:
        serial, agency, fields = _parts(sh)
        row: list[Any] = []
        for c in cols:
            if c.name == "sheet":
                row.append(serial)
            elif c.name == "agency":
                row.append(agency)
            elif c.name == "pending" and c.question is None:
                row.append(sum(1 for f in fields.values() if f.get("status") == "uncertain"))
            elif c.option is not None:
                v = _final(fields, c.question)
                if not isinstance(v, list):
                    row.append(None)
                else:
                    ticked = c.option in v
                    row.append((YES if ticked else NO) if labelled else int(ticked))
            else:
                v = _final(fields, c.question)
                if c.kind == "numeric":
                    if not isinstance(v, int) or isinstance(v, bool):
                        row.append(None)
                    else:
                        row.append(c.value_labels.get(v, v) if labelled else v)
                else:
                    row.append(None if v is None else str(v))
        rows.append(row)
    return cols, rows


def csv_bytes(template: Any, sheets: Iterable[Any], *, labelled: bool = False) -> bytes:
    """CSV in UTF-8 with a byte-order mark (so Excel shows the diacritics), comma-separated."""
    cols, rows = answer_rows(template, sheets, labelled=labelled)
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([c.header if labelled else c.name for c in cols])
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    return b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")


# --------------------------------------------------------------------------
# SPSS
# --------------------------------------------------------------------------
_SPSS_RESERVED = {"all", "and", "by", "eq", "ge", "gt", "le", "lt", "ne", "not", "or", "to", "with"}


def spss_name(name: str) -> str:
    """A valid SPSS variable name: starts with a letter, not a reserved word, at most 64 bytes."""
    if not name[:1].isalpha() or name.lower() in _SPSS_RESERVED:
        name = "q" + name
    return name[:64]


def _clip_utf8(text: str, limit: int) -> str:
    """At most ``limit`` UTF-8 bytes, cut on a character boundary (SPSS label limit)."""
    b = text.encode("utf-8")
    if len(b) <= limit:
        return text
    return b[: limit - 3].decode("utf-8", errors="ignore") + "…"


def sav_bytes(template: Any, sheets: Iterable[Any]) -> bytes:
    """SPSS .sav with variable labels (question texts) and value labels (option labels).

    Needs pandas (pyreadstat writes pandas or polars frames).
    """
    import pandas as pd
    import pyreadstat

    cols, rows = answer_rows(template, sheets)
    cols = [replace(c, name=spss_name(c.name), label=_clip_utf8(c.label, 250)) for c in cols]
    data: dict[str, Any] = {}
    for i, c in enumerate(cols):
        vals = [r[i] for r in rows]
        if c.kind == "numeric":
            data[c.name] = pd.Series([math.nan if v is None else float(v) for v in vals], dtype="float64")
        else:
            data[c.name] = pd.Series(["" if v is None else str(v) for v in vals], dtype=object)
    df = pd.DataFrame(data, columns=[c.name for c in cols])
    fd, tmp = tempfile.mkstemp(suffix=".sav")
    os.close(fd)
    try:
        pyreadstat.write_sav(
            df,
            tmp,
            file_label=f"{getattr(template, 'id', '')} v{getattr(template, 'version', '')}"[:64],
            column_labels={c.name: c.label for c in cols},
            variable_value_labels={c.name: {float(k): v for k, v in c.value_labels.items()} for c in cols if c.value_labels},
            variable_measure={c.name: ("ordinal" if c.value_labels and c.option is None else "nominal") for c in cols if c.kind == "numeric" and c.name != "pending"},
        )
        return Path(tmp).read_bytes()
    finally:
        os.unlink(tmp)


# --------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------
def _sheet_json(sheet: Any) -> dict[str, Any]:
    serial, agency, fields = _parts(sheet)
    return {
        "sheet": serial,
        "agency": agency,
        "fields": {k: {"value": f.get("value"), "status": f.get("status")} for k, f in fields.items()},
    }


def json_bytes(
    template: Any,
    sheets: Sequence[Any],
    result: IndexResult,
    *,
    freqs: Sequence[QuestionFrequency] | None = None,
    ranking: Sequence[AgencyRank] | None = None,
    meta: Mapping[str, Any] | None = None,
) -> bytes:
    """Everything in one JSON document: indices, ranking, frequencies and the sheets."""
    freqs = count_frequencies(template, sheets) if freqs is None else freqs
    doc = {
        "template": {"id": template.id, "version": template.version, "title": template.title},
        "generated_at": datetime.now().isoformat(timespec="seconds"),
        **({"meta": dict(meta)} if meta else {}),
        "indices": result.to_json(),
        "ranking": [r.to_json() for r in ranking] if ranking else [],
        "frequencies": [f.to_json() for f in freqs],
        "sheets": [_sheet_json(s) for s in sheets],
    }
    return json.dumps(doc, ensure_ascii=False, indent=1, allow_nan=False).encode("utf-8")


# --------------------------------------------------------------------------
# XLSX
# --------------------------------------------------------------------------
SHEET_ANSWERS = "Phiếu trả lời"
SHEET_FREQ = "Tần suất"
SHEET_INDICES = "Chỉ số hài lòng"
SHEET_RANKING = "Xếp hạng đơn vị"
SHEET_CODES = "Mã trả lời"


def _style_header(ws: Any, ncols: int, height: float = 32) -> None:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    thin = Side(style="thin", color="808080")
    for col in range(1, ncols + 1):
        cell = ws.cell(row=1, column=col)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="D9D9D9")
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        cell.border = Border(bottom=thin)
    ws.row_dimensions[1].height = height
    ws.freeze_panes = "A2"


def _print_setup(ws: Any, landscape: bool = True) -> None:
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.print_title_rows = "1:1"


def _widths(ws: Any, widths: Sequence[float]) -> None:
    from openpyxl.utils import get_column_letter

    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w


def _r2(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


def xlsx_bytes(
    template: Any,
    sheets: Sequence[Any],
    result: IndexResult,
    *,
    freqs: Sequence[QuestionFrequency] | None = None,
    ranking: Sequence[AgencyRank] | None = None,
    title: str | None = None,
) -> bytes:
    """A workbook with "Phiếu trả lời" (codes), "Tần suất", "Chỉ số hài lòng",
    "Xếp hạng đơn vị" (when more than one agency is ranked) and "Mã trả lời" (codebook)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    freqs = count_frequencies(template, sheets) if freqs is None else freqs
    wb = Workbook()
    wrap = Alignment(wrap_text=True, vertical="top")
    bold = Font(bold=True)

    # -- Chỉ số hài lòng (first: what most readers open the file for)
    ws = wb.active
    ws.title = SHEET_INDICES
    lo, hi = result.scale
    scale_labels = _scale_labels(template, result)
    head = ["Mã", "Yếu tố / tiêu chí", "Chỉ số hài lòng (%)", "Điểm trung bình", "Số phiếu hợp lệ (n)", "Chờ duyệt"]
    levels = hi - lo + 1
    head += [f"{v}. {scale_labels.get(v, v)}" for v in range(lo, hi + 1)]
    head += ["KTC 95 % – cận dưới (%)", "KTC 95 % – cận trên (%)"]  # the index's 95% interval from its n (service.indices)
    ws.append(head)
    ws.append(["", "CHỈ SỐ HÀI LÒNG CHUNG", _r2(result.overall), _r2(result.mean), result.n, result.pending_review,
               *[None] * levels, *_ci_cells(result.overall, result.n)])
    for c in ws[2]:
        c.font = bold
    for e in result.elements:
        ws.append([e.id, e.name, _r2(e.index), _r2(e.mean), e.n, e.pending, *[None] * levels, *_ci_cells(e.index, e.n)])
        for c in ws[ws.max_row]:
            c.font = bold
        for cr in e.criteria:
            label = f"{cr.number}. {cr.text}" if cr.number else cr.text
            ws.append([cr.id, label, _r2(cr.index), _r2(cr.mean), cr.n, cr.pending, *[cr.distribution.get(v, 0) for v in range(lo, hi + 1)],
                       *_ci_cells(cr.index, cr.n)])
            ws.cell(row=ws.max_row, column=2).alignment = Alignment(wrap_text=True, vertical="top", indent=1)
    ws.append([])
    ws.append(["", f"Số phiếu đã đọc: {result.sheets}; số phiếu có ít nhất một câu trả lời hợp lệ: {result.n}; số ô chờ duyệt: {result.pending_review}."])
    ws.append(["", "Chỉ số tiêu chí = số trả lời " + " hoặc ".join(f"“{scale_labels.get(v, v)}”" for v in result.satisfied_values)
               + " / số trả lời hợp lệ × 100; chỉ số yếu tố = trung bình các tiêu chí; chỉ số chung = trung bình các yếu tố."])
    for row in ws.iter_rows(min_row=2, min_col=3, max_col=4):
        for c in row:
            c.number_format = "0.00"
    for row in ws.iter_rows(min_row=2, min_col=7 + levels, max_col=8 + levels):
        for c in row:
            c.number_format = "0.00"
    _style_header(ws, len(head), 45)
    _widths(ws, [8, 60, 13, 12, 12, 10, *[12] * levels, 13, 13])
    _print_setup(ws)

    # -- Xếp hạng đơn vị
    if ranking and len(ranking) > 1:
        wr = wb.create_sheet(SHEET_RANKING)
        els = result.elements
        wr.append(["Hạng", "Mã đơn vị", "Tên đơn vị", "Chỉ số hài lòng chung (%)", "Số phiếu (n)", *[f"{e.id}. {e.name} (%)" for e in els],
                   "KTC 95 % – cận dưới (%)", "KTC 95 % – cận trên (%)", "Ghi chú"])
        for r in ranking:
            by_id = {e.id: e for e in r.result.elements}
            wr.append([r.rank if r.rank is not None else "–", r.agency or "(không ghi)", r.name or "", _r2(r.overall), r.result.n,
                       *[_r2(by_id[e.id].index) if e.id in by_id else None for e in els], *_ci_cells(r.overall, r.result.n),
                       "n dưới cỡ mẫu tối thiểu: không xếp hạng" if r.below_min_sample else None])
        for row in wr.iter_rows(min_row=2, min_col=4, max_col=7 + len(els)):
            for c in row:
                if c.column != 5:
                    c.number_format = "0.00"
        _style_header(wr, 8 + len(els), 60)
        _widths(wr, [7, 14, 30, 14, 10, *[16] * len(els), 13, 13, 24])
        _print_setup(wr)

    # -- Tần suất
    wf = wb.create_sheet(SHEET_FREQ)
    wf.append(["Mã câu hỏi", "Câu hỏi", "Mã trả lời", "Phương án trả lời", "Số phiếu", "Tỷ lệ (%)"])
    for f in freqs:
        qtext = f"{f.number}. {f.text}" if f.number else f.text
        first = True
        for o in f.options:
            share = f.share(o.count)
            wf.append([f.id if first else "", qtext if first else "", o.value, o.label, o.count, _r2(share)])
            first = False
        for label, n in (("Số phiếu trả lời hợp lệ", f.answered), ("Để trống", f.blank),
                         ("Đánh dấu nhiều ô", f.multiple), ("Chờ duyệt", f.pending)):
            if n or label.startswith("Số phiếu"):
                wf.append(["", "", "", label, n])
                wf.cell(row=wf.max_row, column=4).font = Font(italic=True)
    top = Alignment(vertical="top")
    for row in wf.iter_rows(min_row=2):
        for c in row:
            if c.column == 2:
                c.alignment = wrap
            elif c.column == 3:
                c.alignment = Alignment(vertical="top", horizontal="center")
            else:
                c.alignment = top
            if c.column == 6:
                c.number_format = "0.00"
    _style_header(wf, 6)
    _widths(wf, [12, 56, 10, 28, 10, 10])
    _print_setup(wf, landscape=False)

    # -- Phiếu trả lời
    wa = wb.create_sheet(SHEET_ANSWERS)
    cols, rows = answer_rows(template, sheets)
    wa.append([f"{c.name}\n{c.header}" if c.question else c.header for c in cols])
    for r in rows:
        wa.append(r)
    _style_header(wa, len(cols), 90)
    _widths(wa, [12, 12, *[16] * (len(cols) - 3), 10])
    for row in wa.iter_rows(min_row=2, max_col=1):
        for c in row:
            c.number_format = "@"
    _print_setup(wa)

    # -- Mã trả lời (codebook)
    wc = wb.create_sheet(SHEET_CODES)
    wc.append(["Biến", "Nội dung", "Mã", "Nhãn"])
    for c in cols:
        wc.append([c.name, c.label])
        for v, lab in c.value_labels.items():
            wc.append(["", "", v, lab])
    _style_header(wc, 4, 20)
    _widths(wc, [14, 70, 8, 28])
    _print_setup(wc, landscape=False)

    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _ci_cells(index: float | None, n: int) -> list[float | None]:
    ci = index_ci95(index, n)
    return [None, None] if ci is None else [_r2(ci[0]), _r2(ci[1])]


def _scale_labels(template: Any, result: IndexResult) -> dict[int, str]:
    """Labels of the scale values, taken from the first criterion's options."""
    for e in result.elements:
        for c in e.criteria:
            try:
                q = next(q for q in iter_questions(template) if q.id == c.id)
            except StopIteration:
                continue
            return {o.value: o.label for o in question_options(q)}
    return {}


# --------------------------------------------------------------------------
# All at once
# --------------------------------------------------------------------------
def write_exports(
    out_dir: str | Path,
    formats: Iterable[str],
    template: Any,
    sheets: Sequence[Any],
    result: IndexResult,
    *,
    ranking: Sequence[AgencyRank] | None = None,
    stem: str | None = None,
    title: str | None = None,
    meta: Mapping[str, Any] | None = None,
) -> dict[str, Path]:
    """Write the chosen formats (csv → two files: codes and labels) into ``out_dir``; returns format → path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = stem or template.id
    freqs = None
    written: dict[str, Path] = {}
    for fmt in formats:
        if fmt == "csv":
            p = out / f"{stem}.csv"
            p.write_bytes(csv_bytes(template, sheets))
            pl = out / f"{stem}-nhan.csv"
            pl.write_bytes(csv_bytes(template, sheets, labelled=True))
            written["csv"], written["csv-labelled"] = p, pl
            continue
        if fmt in ("xlsx", "json") and freqs is None:
            freqs = count_frequencies(template, sheets)
        if fmt == "xlsx":
            data = xlsx_bytes(template, sheets, result, freqs=freqs, ranking=ranking, title=title)
        elif fmt == "sav":
            data = sav_bytes(template, sheets)
        elif fmt == "json":
            data = json_bytes(template, sheets, result, freqs=freqs, ranking=ranking, meta=meta)
        else:
            raise ValueError(f"unknown export format {fmt!r} (known: {', '.join(FORMATS)})")
        p = out / f"{stem}.{fmt}"
        p.write_bytes(data)
        written[fmt] = p
    return written
