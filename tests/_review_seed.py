"""Rounds seeded straight through the worker's own writer (``store_page_result``): pages of sipas-2017 with
answers as the engine would store them, some of them left for review. No images: fast, for API tests."""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from omr.layout import layout
from omr.template import load_template
from service.models import Batch, Page, UploadedFile
from service.worker import store_page_result

TEMPLATE = "sipas-2017"


def page1_fields() -> list[str]:
    return [f.id for f in layout(load_template(TEMPLATE)).pages[0].fields]


def seed_pages(factory, round_id: int, sheets: Mapping[str, Mapping[str, Any]], *, agency: str | None = None,  # noqa: ANN001
               default: int = 4, first_serial: int = 1, aligned_sha: str | None = None) -> list[int]:
    """Page 1 of one sheet per entry of ``sheets`` (serial → {field: value or (value, status, reason)}); every
    other field of the page answered ``default``. A (value, "uncertain", reason) or (None, "multiple", reason)
    field is queued for review as the engine would queue it. ``aligned_sha``: a stored aligned image every page
    shows (for crops). Returns the page ids."""
    ids = []
    with factory() as s, s.begin():
        b = Batch(round_id=round_id, agency=agency, created_by="seed")
        s.add(b)
        s.flush()
        for k, (serial, special) in enumerate(sheets.items()):
            sha = hashlib.sha256(f"{round_id}-{b.id}-{serial}-{k}".encode()).hexdigest()
            f = UploadedFile(batch_id=b.id, round_id=round_id, filename=f"{serial}.jpg", sha256=sha, size=1, status="split")
            s.add(f)
            s.flush()
            p = Page(batch_id=b.id, round_id=round_id, file_id=f.id, index=0, status="processing")
            s.add(p)
            s.flush()
            fields = {}
            for fid in page1_fields():
                v = special.get(fid, default)
                value, status, reason = (v if isinstance(v, tuple) else (v, "answered" if v is not None else "blank", None))
                conf = 0.99 if status in ("answered", "blank") else 0.4
                fields[fid] = {"value": value, "status": status, "confidence": conf, "reason": reason,
                               "marks": [{"value": value, "fill": 0.6, "kind": "marked"}] if value is not None else []}
            store_page_result(s, p, {"status": "ok", "template": TEMPLATE, "version": 1, "page": 1, "sheet": serial,
                                     "agency": agency, "alignment_quality": 1.0, "identified_by": "qr", "fields": fields}, aligned_sha)
            ids.append(p.id)
    return ids
