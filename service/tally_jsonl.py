"""Counting ``omr scan`` JSON lines in Python (no database).

Pages become sheets (one respondent = every page with the same template and
sheet serial); sheets are filtered by agency and respondent group; then
counted into frequencies (every question) and indices (``service.indices``).
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omr.errors import OmrError
from service.indices import IndexResult, IndexSpec, indices_from_sheets, iter_questions, question_options


class ResultsFileError(OmrError):
    """A results file cannot be used: names the file (and line) and the problem. Exit code 2."""

    exit_code = 2


# --------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------
def iter_results(path: str | Path) -> Iterator[dict[str, Any]]:
    """The page dicts of an ``omr scan`` JSONL file; empty lines are skipped.

    Raises :class:`ResultsFileError` naming the file and the line.
    """
    p = Path(path)
    try:
        fh = p.open(encoding="utf-8")
    except FileNotFoundError:
        raise ResultsFileError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise ResultsFileError(f"{p}: is a folder, not a JSON lines file") from None
    except OSError as exc:
        raise ResultsFileError(f"{p}: cannot be read ({exc.strerror})") from None
    with fh:
        lineno = 0
        try:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    d = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ResultsFileError(f"{p}: line {lineno}: not valid JSON ({exc.msg}, column {exc.colno})") from None
                if not isinstance(d, dict):
                    raise ResultsFileError(f"{p}: line {lineno}: expected a JSON object (one scanned page), got {type(d).__name__}")
                if not isinstance(d.get("fields", {}), dict):
                    raise ResultsFileError(f"{p}: line {lineno}: 'fields' must be an object")
                yield d
        except UnicodeDecodeError:
            raise ResultsFileError(f"{p}: line {lineno + 1}: not UTF-8 text") from None


def read_results(path: str | Path) -> list[dict[str, Any]]:
    return list(iter_results(path))


# --------------------------------------------------------------------------
# Pages -> sheets
# --------------------------------------------------------------------------
@dataclass(slots=True)
class Sheet:
    """One respondent: the merged fields of all pages with the same template and serial."""

    template: str
    serial: str
    agency: str | None = None
    version: int | None = None
    pages: list[int] = field(default_factory=list)
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)

    def value(self, qid: str) -> Any:
        """The final value of a field, or None if it is not answered."""
        f = self.fields.get(qid)
        return f.get("value") if f and f.get("status") == "answered" else None

    @property
    def pending(self) -> int:
        return sum(1 for f in self.fields.values() if f.get("status") == "uncertain")


@dataclass(slots=True)
class SheetSet:
    sheets: list[Sheet]
    pages_ok: int = 0
    pages_skipped: int = 0  # unrecognized / error / other template / no serial
    templates: dict[str, int] = field(default_factory=dict)  # template id -> ok pages seen


def group_sheets(pages: Iterable[Mapping[str, Any]], template: str | None = None) -> SheetSet:
    """Group ``ok`` pages into sheets by (template, sheet serial), in first-seen order.

    Pages of another template (when ``template`` is given), pages that are not
    ``ok`` and pages without a serial are skipped and counted. When the same
    field is read twice (a page scanned twice) and the readings disagree, the
    field becomes ``uncertain``: a person decides, nothing is guessed.
    """
    out: dict[tuple[str, str], Sheet] = {}
    ss = SheetSet(sheets=[])
    for d in pages:
        tid, serial = d.get("template"), d.get("sheet")
        if d.get("status") != "ok" or not tid or serial in (None, ""):
            ss.pages_skipped += 1
            continue
        ss.templates[tid] = ss.templates.get(tid, 0) + 1
        if template is not None and tid != template:
            ss.pages_skipped += 1
            continue
        ss.pages_ok += 1
        key = (str(tid), str(serial))
        sh = out.get(key)
        if sh is None:
            sh = out[key] = Sheet(template=str(tid), serial=str(serial), version=d.get("version"))
        if not sh.agency and d.get("agency"):
            sh.agency = str(d["agency"])
        if d.get("page") is not None:
            sh.pages.append(int(d["page"]))
        if d.get("source"):
            sh.sources.append(str(d["source"]))
        for fid, f in (d.get("fields") or {}).items():
            if not isinstance(f, dict):
                continue
            f = {"value": f.get("value"), "status": f.get("status"), "confidence": f.get("confidence")}
            old = sh.fields.get(fid)
            if old is None or old.get("status") == "blank":
                sh.fields[fid] = f
            elif f.get("status") != "blank" and (old.get("status"), old.get("value")) != (f.get("status"), f.get("value")):
                sh.fields[fid] = {"value": None, "status": "uncertain", "confidence": 0.0, "reason": "read twice, readings differ"}
    ss.sheets = list(out.values())
    return ss


def parse_group_filter(spec: str) -> tuple[str, int]:
    """``"gioi_tinh=2"`` -> ``("gioi_tinh", 2)``; raises ValueError."""
    qid, sep, value = spec.partition("=")
    if not sep or not qid.strip() or not value.strip().lstrip("-").isdigit():
        raise ValueError(f"respondent group filter {spec!r}: write QUESTION=VALUE, e.g. gioi_tinh=2")
    return qid.strip(), int(value)


def filter_sheets(
    sheets: Iterable[Sheet],
    *,
    agency: str | Sequence[str] | None = None,
    groups: Mapping[str, int | Sequence[int]] | None = None,
) -> list[Sheet]:
    """Sheets of the given agency (or agencies) whose answered group questions match.

    ``groups={"gioi_tinh": 2, "do_tuoi": [1, 2]}``: a sheet is kept when every
    named question has a final answer among the given values.
    """
    agencies = None if agency is None else ({agency} if isinstance(agency, str) else set(agency))
    out = []
    for sh in sheets:
        if agencies is not None and (sh.agency or "") not in agencies:
            continue
        ok = True
        for qid, want in (groups or {}).items():
            wanted = {want} if isinstance(want, int) else set(want)
            if sh.value(qid) not in wanted:
                ok = False
                break
        if ok:
            out.append(sh)
    return out


def agencies_of(sheets: Iterable[Sheet]) -> list[str]:
    """Agency codes present, sorted ("" for sheets printed without one)."""
    return sorted({sh.agency or "" for sh in sheets})


# --------------------------------------------------------------------------
# Counting
# --------------------------------------------------------------------------
def indices_for(spec: IndexSpec, sheets: Iterable[Sheet]) -> IndexResult:
    return indices_from_sheets(spec, (sh.fields for sh in sheets))


def indices_by_agency(spec: IndexSpec, sheets: Sequence[Sheet]) -> dict[str, IndexResult]:
    return {a: indices_for(spec, [sh for sh in sheets if (sh.agency or "") == a]) for a in agencies_of(sheets)}


@dataclass(slots=True)
class OptionCount:
    value: int
    label: str
    count: int


@dataclass(slots=True)
class QuestionFrequency:
    """Answer counts for one single- or multiple-choice question.

    ``answered`` = sheets with a final answer; for multiple choice an option's
    share is of ``answered`` sheets, so shares may add up to more than 100 %.
    """

    id: str
    text: str
    kind: str
    options: list[OptionCount]
    answered: int = 0
    blank: int = 0
    multiple: int = 0
    pending: int = 0
    number: str | None = None

    def share(self, count: int) -> float | None:
        return 100.0 * count / self.answered if self.answered else None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "text": self.text, "kind": self.kind, "number": self.number,
            "answered": self.answered, "blank": self.blank, "multiple": self.multiple, "pending": self.pending,
            "options": [{"value": o.value, "label": o.label, "count": o.count} for o in self.options],
        }


def frequencies(template: Any, sheets: Iterable[Sheet]) -> list[QuestionFrequency]:
    """Per question (single and multiple choice, template order) and option: how many sheets chose it."""
    qs = [q for q in iter_questions(template) if q.kind in ("single", "multiple")]
    freqs = {
        q.id: QuestionFrequency(
            id=q.id, text=q.text, kind=q.kind, number=getattr(q, "number", None),
            options=[OptionCount(o.value, o.label, 0) for o in question_options(q)],
        )
        for q in qs
    }
    index = {qid: {o.value: o for o in fq.options} for qid, fq in freqs.items()}
    for sh in sheets:
        for qid, fq in freqs.items():
            f = sh.fields.get(qid)
            status = f.get("status") if f else "blank"
            if status == "answered":
                v = f.get("value")  # type: ignore[union-attr]
                values = v if isinstance(v, list) else [v]
                hit = False
                for x in values:
                    oc = index[qid].get(x)
                    if oc is not None:
                        oc.count += 1
                        hit = True
                if hit:
                    fq.answered += 1
                else:
                    fq.blank += 1
            elif status == "uncertain":
                fq.pending += 1
            elif status == "multiple":
                fq.multiple += 1
            else:
                fq.blank += 1
    return list(freqs.values())
