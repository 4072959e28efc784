"""Result values of the recognition core: small, plain and JSON-serialisable.

One scanned page in gives one :class:`PageResult` out. These are what
`omr scan` writes as JSON lines and what the service stores; their JSON form
(``to_json``) is a stable contract (see README, "omr scan output").
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

PageStatus = Literal["ok", "unrecognized", "error"]
FieldStatus = Literal["answered", "blank", "multiple", "uncertain"]

# A field's value: an option value (single, code digit string), a sorted list
# of option values (multiple), the code as a digit string (code), text (text,
# always None from the engine: text answers are typed by a reviewer) or None.
FieldValue = int | str | list[int] | None


@dataclass(slots=True)
class MarkReading:
    """What the mark reader saw in one box.

    ``fill`` is the share of the box interior covered by ink, 0..1, after the
    local paper background is removed. ``kind`` is the reader's class for it.
    """

    value: int
    fill: float
    kind: Literal["empty", "marginal", "marked", "filled"]
    digit: int | None = None


@dataclass(slots=True)
class FieldResult:
    value: FieldValue
    status: FieldStatus
    confidence: float
    reason: str | None = None  # why it is unsure: "two marks", "faint mark", ...
    marks: list[MarkReading] = field(default_factory=list)
    text_suggestion: str | None = None  # free text: tesseract's reading
    has_writing: bool | None = None  # free text: anything written at all

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "value": self.value,
            "status": self.status,
            "confidence": round(float(self.confidence), 4),
        }
        if self.reason:
            out["reason"] = self.reason
        if self.marks:
            out["marks"] = [
                {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(m).items() if v is not None}
                for m in self.marks
            ]
        if self.has_writing is not None:
            out["has_writing"] = self.has_writing
        if self.text_suggestion is not None:
            out["text_suggestion"] = self.text_suggestion
        return out


@dataclass(slots=True)
class PageResult:
    source: str
    index: int
    status: PageStatus
    error: str | None = None
    template: str | None = None
    version: int | None = None
    sheet: str | None = None  # the sheet serial, as printed (digits)
    page: int | None = None
    agency: str | None = None
    alignment_quality: float | None = None  # 0..1, 1 = markers fit exactly
    identified_by: str | None = None  # "qr" (either QR decoder) | "marks" (layout 2's identity row) | "ocr" (the printed footer)
    agency_from: str | None = None  # "qr" / "ocr": as printed (null: printed without one) | "serial": not in what was read
    blur_mm: float | None = None  # the page's blur sigma from its markers' edges (omr.blur; a sharp scan ~0.08)
    fields: dict[str, FieldResult] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # about the scan itself (a streak on the glass), for the operator

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.source, "index": self.index, "status": self.status}
        if self.error:
            out["error"] = self.error
        out.update(
            template=self.template,
            version=self.version,
            sheet=self.sheet,
            page=self.page,
            agency=self.agency,
            alignment_quality=None if self.alignment_quality is None else round(self.alignment_quality, 4),
            identified_by=self.identified_by,
            fields={k: v.to_json() for k, v in self.fields.items()},
        )
        if self.agency_from is not None:
            out["agency_from"] = self.agency_from
        if self.blur_mm is not None:
            out["blur_mm"] = round(self.blur_mm, 3)
        if self.warnings:
            out["warnings"] = list(self.warnings)
        return out
