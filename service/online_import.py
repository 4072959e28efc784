"""Online answers in a paper round: a CSV or XLSX export of an online survey, mapped onto the questionnaire.

Each row becomes one respondent of the round (a page of channel ``online``, read from the imported file,
with a respondent key of its own, ``W<file>-<row>``: it can never be taken for a duplicate of a paper
sheet); its answers count in the indices like paper ones and every figure can be split by channel. The
same file imported twice is recognised by its hash (nothing counted twice). Rows with an error are
refused, each error naming the row (as the spreadsheet numbers it) and the column; the rest are taken.

Mapping: ``{column header: question id}`` (plus the optional special targets ``agency``, the agency's
code, and ``skip``). Without one, the saved mapping of the questionnaire is used, else headers are
matched to question ids, numbers ("5") or texts as printed. Values: the option code or its label
(diacritics and case ignored); multiple choice: codes or labels separated by ";" or ","; code grids:
the digits; free text as is; an empty cell is a blank answer.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from omr.identity import valid_agency
from omr.template import Template
from service.models import Agency, Answer, Batch, ImportMapping, Page, Round, UploadedFile
from service.tables import fold, read_table

SPECIAL = ("agency", "skip")


@dataclass
class ImportReport:
    rows: int = 0
    taken: int = 0
    refused: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)
    batch: int | None = None
    duplicate: bool = False
    columns: list[str] = field(default_factory=list)  # the file's header row, for a page that edits the mapping

    def to_json(self) -> dict[str, Any]:
        return {"rows": self.rows, "taken": self.taken, "refused": self.refused, "errors": self.errors[:1000],
                "mapping": self.mapping, "batch": self.batch, "duplicate": self.duplicate,
                "columns": self.columns}


class ImportError_(ValueError):
    """The file or the mapping as a whole cannot be used (not a row's problem); ``columns``: the file's
    header when it could be read (a page shows it to fix the mapping)."""

    def __init__(self, message: str, columns: list[str] | None = None) -> None:
        super().__init__(message)
        self.columns = columns or []


def _questions(t: Template) -> dict[str, Any]:
    from omr.layout import layout

    return {f.id: f for pg in layout(t).pages for f in pg.fields}


def guess_mapping(header: list[str], t: Template) -> dict[str, str]:
    """Headers matched to question ids, numbers or texts (what an online form's export usually has)."""
    qs = _questions(t)
    by_text: dict[str, str] = {}
    for _, q in t.questions():
        by_text[fold(q.id)] = q.id
        by_text[fold(q.text)] = q.id
        if getattr(q, "number", None):
            by_text[fold(str(q.number))] = q.id
            by_text[fold(f"{q.number}. {q.text}")] = q.id
    for special, names in (("agency", ("agency", "ma don vi", "don vi", "co quan")),):
        for n in names:
            by_text.setdefault(n, special)
    out = {}
    for h in header:
        target = by_text.get(fold(h))
        if target and (target in qs or target in SPECIAL):
            out[h] = target
    return out


def _value(f: Any, raw: str) -> tuple[Any, str]:
    """(value, status) for one cell; raises ValueError naming what the column accepts."""
    raw = raw.strip()
    if raw == "":
        return None, "blank"
    if f.kind in ("single", "multiple"):
        opts = [o for o in f.options if o.digit is None]
        by = {str(o.value): o.value for o in opts} | {fold(o.label): o.value for o in opts if o.label}
        parts = [raw] if f.kind == "single" else [p for p in raw.replace(",", ";").split(";") if p.strip()]
        values = []
        for p in parts:
            v = by.get(p.strip()) if p.strip() in by else by.get(fold(p))
            if v is None:
                shown = ", ".join(f"{o.value} ({o.label})" if o.label else str(o.value) for o in opts)
                raise ValueError(f"{p.strip()[:40]!r} is not an option: {shown[:300]}")
            values.append(v)
        return (values[0], "answered") if f.kind == "single" else (sorted(set(values)), "answered")
    if f.kind == "code":
        if not (raw.isascii() and raw.isdigit() and len(raw) == (f.digits or 1)):
            raise ValueError(f"{raw[:40]!r}: {f.digits} digits")
        return raw, "answered"
    if len(raw) > 4000:
        raise ValueError("text longer than 4000 characters")
    return raw, "answered"


def import_online(s: Session, rnd: Round, t: Template, filename: str, data: bytes, store: Any, user: str, *,
                  mapping: dict[str, str] | None = None, dry_run: bool = False) -> ImportReport:
    """Check every row, take the valid ones (unless ``dry_run``); the caller commits."""
    rows = read_table(data, filename)
    if not rows or not any(rows[0]):
        raise ImportError_(f"{filename[:100]}: the file is empty")
    header = rows[0]
    qs = _questions(t)
    if mapping is None:
        saved = s.scalar(select(ImportMapping).where(ImportMapping.template == t.id, ImportMapping.version == t.version))
        mapping = dict(saved.mapping) if saved is not None else guess_mapping(header, t)
    unknown_cols = [c for c in mapping if c not in header]
    bad_targets = [v for v in mapping.values() if v not in qs and v not in SPECIAL]
    if unknown_cols or bad_targets:
        raise ImportError_("mapping: " + "; ".join(
            ([f"no column {', '.join(map(repr, unknown_cols))[:200]} in the file"] if unknown_cols else [])
            + ([f"not a question of {t.id}: {', '.join(map(repr, bad_targets))[:200]}"] if bad_targets else [])), header)
    if not any(v in qs for v in mapping.values()):
        raise ImportError_(f"mapping: no column is mapped to a question of {t.id} (columns: {', '.join(header)[:300]})", header)
    report = ImportReport(mapping=dict(mapping), columns=[str(h)[:200] for h in header[:500]])
    agencies = {a for (a,) in s.execute(select(Agency.code))}
    col = {h: i for i, h in enumerate(header)}
    taken: list[tuple[int, str | None, dict[str, tuple[Any, str]]]] = []
    for n, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        report.rows += 1
        errs = []
        answers: dict[str, tuple[Any, str]] = {}
        agency = None
        for h, target in mapping.items():
            cell = row[col[h]] if col[h] < len(row) else ""
            if target == "skip":
                continue
            if target == "agency":
                agency = cell.strip() or None
                if agency and (not valid_agency(agency) or (agencies and agency not in agencies)):
                    errs.append({"row": n, "column": h, "error": f"{agency[:40]!r} is not a known agency code"})
                continue
            try:
                answers[target] = _value(qs[target], cell)
            except ValueError as exc:
                errs.append({"row": n, "column": h, "error": str(exc)})
        if errs:
            report.refused += 1
            report.errors.extend(errs)
        else:
            taken.append((n, agency, answers))
    report.taken = len(taken)
    if dry_run or not taken:
        return report
    sha = hashlib.sha256(data).hexdigest()
    if s.scalar(select(UploadedFile.id).where(UploadedFile.round_id == rnd.id, UploadedFile.sha256 == sha,
                                              UploadedFile.status.not_in(("duplicate", "retried"))).limit(1)):
        report.duplicate, report.taken = True, 0
        return report
    store.put_bytes("files", data)
    b = Batch(round_id=rnd.id, agency=None, created_by=user)
    s.add(b)
    s.flush()
    f = UploadedFile(batch_id=b.id, round_id=rnd.id, filename=filename[:400], sha256=sha, size=len(data), status="split")
    s.add(f)
    s.flush()
    report.batch = b.id
    from service.worker import recount

    for n, agency, answers in taken:
        page = Page(batch_id=b.id, round_id=rnd.id, file_id=f.id, index=n - 1, status="done", result_status="ok",
                    template=t.id, version=t.version, sheet=f"W{f.id}-{n}", page_no=1, agency=agency, channel="online",
                    identified_by="import")
        s.add(page)
        s.flush()
        for fid, (value, status) in answers.items():
            s.add(Answer(page_id=page.id, round_id=rnd.id, field_id=fid, value=value,
                         value_int=value if isinstance(value, int) and not isinstance(value, bool) else None,
                         status=status, confidence=1.0, source="online", updated_by=user))
        s.flush()
        recount(s, page)
    return report


def save_mapping(s: Session, t: Template, mapping: dict[str, str], user: str) -> None:
    row = s.scalar(select(ImportMapping).where(ImportMapping.template == t.id, ImportMapping.version == t.version))
    if row is None:
        s.add(ImportMapping(template=t.id, version=t.version, mapping=mapping, updated_by=user))
    else:
        row.mapping, row.updated_by = mapping, user
