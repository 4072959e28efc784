"""Scans of many sheets that share one doubt: page 1 of sipas-2017 filled cleanly, except that criterion
``field`` carries a faint dot (or a ring) in the box of ``value`` on every sheet. What a grid is for: the
engine queues the same question, for the same reason, with the same proposal, again and again.
Built with the sample generator's own pen (samples.generate), one JPEG per sheet, and a truth line each."""
from __future__ import annotations

import io
import json
from pathlib import Path

import cv2
import numpy as np
from pdf2image import convert_from_bytes

from omr.layout import layout
from omr.render import render_pdf
from omr.template import load_template
from samples.generate import Pen, fill_field

TEMPLATE = "sipas-2017"


def like_sheets(out: Path, sheets: int, *, field: str = "c07", value: int = 4, style: str = "dot",
                first_serial: int = 1, seed: int = 3, dpi: int = 150) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    t = load_template(TEMPLATE)
    geo = layout(t).pages[0]
    files, truth = [], []
    for k in range(sheets):
        rng = np.random.default_rng(seed * 1000 + k)
        serial = first_serial + k
        buf = io.BytesIO()
        render_pdf(t, buf, sheets=1, first_serial=serial, agency=None)
        pil = convert_from_bytes(buf.getvalue(), dpi=dpi, first_page=1, last_page=1)[0]
        img = cv2.cvtColor(np.array(pil), cv2.COLOR_RGB2BGR)
        pen = Pen(img, dpi / 25.4, rng)
        fields = {}
        for f in geo.fields:
            if f.id == field:
                box = next(o.box for o in f.options if o.value == value)
                pen.mark(style, box, "black")
                fields[f.id] = {"kind": "single", "value": value, "expect": "uncertain", "ambiguous": True}
            else:
                fields[f.id] = fill_field(pen, f, rng, True)
        path = out / f"{TEMPLATE}-{serial:06d}-p1.jpg"
        cv2.imwrite(str(path), cv2.cvtColor(pen.img, cv2.COLOR_BGR2GRAY), [cv2.IMWRITE_JPEG_QUALITY, 85])
        files.append(path)
        truth.append({"source": path.name, "sheet": f"{serial:06d}", "page": 1, "fields": fields})
    (out / "truth.jsonl").write_text("".join(json.dumps(x) + "\n" for x in truth))
    return files
