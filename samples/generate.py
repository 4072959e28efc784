"""Synthetic returned questionnaires with ground truth: fill printed forms, then scan them badly.

    python -m samples.generate --out DIR [--template sipas-2017 ...] [--sheets N]
                               [--seed S] [--profile demo|bench|clean] [--dpi D] [--workers N]
    python -m samples.generate --out DIR --print-run RUN.pdf --template T --first-serial N
                               [--agency A] [--broken] [--seed S] [--dpi D]

The second form fills the sheets of a PDF the service printed (``POST /api/rounds/{id}/print-runs``
or ``omr form render``): every page of RUN.pdf, sheet after sheet from serial N, marked by a respondent
and written as a JPEG scan (``T-SERIAL-pP.jpg``) with its truth; ``--broken`` adds the files an
office's scanner folder also holds: a truncated PDF, a text file named .png and an empty file.

Each sheet is printed with its own serial (``omr.render``), rasterised with
poppler, marked by a synthetic respondent (crosses, ticks, slashes, partial and
full fills, corrections, two marks, faint dots, rings, stray strokes; black,
blue ballpoint and pencil, drawn as jittered strokes), then degraded like a
scanner or a phone would (skew, rotation, noise, blur, JPEG, 1-bit G4 TIFF,
multi-page PDF and TIFF, perspective photos, a stain over a marker). The truth
for every page goes to ``truth.jsonl`` beside the files:

    {"source", "index", "template", "version", "sheet", "page", "agency",
     "degradations": [...], "fields": {ID: {"kind", "value", "expect",
     "ambiguous", "marks": {VALUE: [STYLE, INK]}}}}

``expect`` is what a careful engine says: answered, blank, multiple (two
marks) or uncertain (a lone dot or ring: a person must look). Bad inputs
(empty, truncated, not a form, blank) have ``{"source", "index", "expect_status"}``.
"""
from __future__ import annotations

import argparse
import io
import json
import math
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from pdf2image import convert_from_bytes
from PIL import Image

from omr.layout import FieldGeometry, layout
from omr.render import render_pdf
from omr.template import load_template

INKS = {
    "black": (35, 35, 40),
    "blue": (150, 65, 25),  # BGR: ballpoint blue
    "pencil": (120, 120, 120),
}
SINGLE_STYLES = [("cross", 30), ("tick", 16), ("slash", 10), ("fill_partial", 10), ("big_cross", 8), ("fill_full", 7), ("cross_small", 6)]
# scenario, weight (per single-choice field)
SCENARIOS = [
    ("clean", 86.0),
    ("blank", 3.5),
    ("correction", 3.0),
    ("answer_stray", 2.5),
    ("two_marks", 1.6),
    ("dot_alone", 1.0),
    ("circle_alone", 0.6),
    ("answer_dot", 1.8),
]
DEGRADE_BENCH = [
    ("none", 10), ("skew", 16), ("rot180", 8), ("rot90", 5), ("noise", 8), ("blur", 6), ("jpeg_low", 8),
    ("g4_tiff", 10), ("gray_tiff", 4), ("pdf", 8), ("photo", 8), ("stain_marker", 5), ("dpi150", 4),
]


def _pick(rng: np.random.Generator, choices: list[tuple[str, float]]) -> str:
    names = [c[0] for c in choices]
    w = np.array([c[1] for c in choices], float)
    return str(rng.choice(names, p=w / w.sum()))


# --- drawing -------------------------------------------------------------------------------

@dataclass
class Pen:
    img: np.ndarray  # BGR
    ppm: float  # pixels per mm
    rng: np.random.Generator

    def px(self, x: float, y: float) -> tuple[float, float]:
        return x * self.ppm, y * self.ppm

    def stroke(self, pts_mm: list[tuple[float, float]], ink: str, width_mm: float) -> None:
        """A hand stroke through the points: resampled, wobbling, uneven pressure."""
        pts = np.array([self.px(*p) for p in pts_mm], float)
        dense = []
        for a, b in zip(pts[:-1], pts[1:]):
            n = max(2, int(np.linalg.norm(b - a) / 3))
            for t in np.linspace(0, 1, n, endpoint=False):
                dense.append(a + (b - a) * t)
        dense.append(pts[-1])
        dense = np.array(dense)
        wobble = self.rng.normal(0, 0.08 * self.ppm, dense.shape)
        wobble = cv2.GaussianBlur(wobble.reshape(-1, 1, 2).astype(np.float32), (1, 5), 0).reshape(-1, 2)
        dense = dense + wobble
        color = np.array(INKS[ink], float)
        base_w = max(1, int(round(width_mm * self.ppm)))
        # only the stroke's neighbourhood is copied and blended (the same pixels as blending the whole page:
        # elsewhere the overlay equals the page), which makes a sheet several times faster to fill
        H, W = self.img.shape[:2]
        pad = base_w + 4
        x0, y0 = max(0, int(dense[:, 0].min()) - pad), max(0, int(dense[:, 1].min()) - pad)
        x1, y1 = min(W, int(dense[:, 0].max()) + pad + 1), min(H, int(dense[:, 1].max()) + pad + 1)
        if x1 <= x0 or y1 <= y0:
            x0, y0, x1, y1 = 0, 0, W, H
        page = self.img[y0:y1, x0:x1]
        overlay = page.copy()
        for a, b in zip(dense[:-1], dense[1:]):
            w = max(1, base_w + int(self.rng.integers(-1, 2)))
            c = color + self.rng.normal(0, 8, 3)
            cv2.line(overlay, (int(a[0]) - x0, int(a[1]) - y0), (int(b[0]) - x0, int(b[1]) - y0), tuple(float(v) for v in np.clip(c, 0, 255)), w, cv2.LINE_AA)
        alpha = {"black": 0.95, "blue": 0.85, "pencil": 0.7}[ink]
        if ink == "pencil":  # graphite: grainy (drawn for the whole page, so the random stream is as before)
            grain = (self.rng.random(self.img.shape[:2]) < 0.25)[y0:y1, x0:x1]
            overlay[grain] = page[grain]
        cv2.addWeighted(overlay, alpha, page, 1 - alpha, 0, dst=page)

    def fill(self, box: tuple[float, float, float, float], ink: str, share: float) -> None:
        x, y, w, h = box
        # scribble back and forth covering `share` of the height
        m = 0.3
        rows = int(max(3, share * 10))
        ys = np.linspace(y + m, y + m + (h - 2 * m) * share, rows)
        pts = []
        for i, yy in enumerate(ys):
            xa, xb = (x + m, x + w - m) if i % 2 == 0 else (x + w - m, x + m)
            pts += [(xa + self.rng.normal(0, 0.2), yy), (xb + self.rng.normal(0, 0.2), yy + self.rng.normal(0, 0.2))]
        self.stroke(pts, ink, 0.9 if share > 0.9 else 0.6)
        if share > 0.9:  # solid: a second pass across
            xs = np.linspace(x + m, x + w - m, rows)
            pts = [(xx, y + m if i % 2 == 0 else y + h - m) for i, xx in enumerate(xs)]
            self.stroke(pts, ink, 0.9)

    def mark(self, style: str, box: tuple[float, float, float, float], ink: str) -> None:
        x, y, w, h = box
        cx, cy = x + w / 2 + self.rng.normal(0, 0.35), y + h / 2 + self.rng.normal(0, 0.35)
        size = w * self.rng.uniform(0.75, 1.2)
        wid = {"black": 0.45, "blue": 0.4, "pencil": 0.5}[ink] * self.rng.uniform(0.7, 1.4)
        ang = self.rng.normal(0, 0.15)

        def rot(dx: float, dy: float) -> tuple[float, float]:
            return cx + dx * math.cos(ang) - dy * math.sin(ang), cy + dx * math.sin(ang) + dy * math.cos(ang)

        if style in ("cross", "big_cross", "cross_small"):
            s = size / 2 * {"cross": 1.0, "big_cross": self.rng.uniform(1.6, 2.4), "cross_small": 0.6}[style]
            self.stroke([rot(-s, -s), rot(0, 0), rot(s, s)], ink, wid)
            self.stroke([rot(s, -s), rot(0, 0), rot(-s, s)], ink, wid)
        elif style == "tick":
            s = size / 2
            self.stroke([rot(-s * 0.8, 0), rot(-s * 0.2, s * 0.7), rot(s * 1.1, -s * 1.1)], ink, wid)
        elif style == "slash":
            s = size / 2
            self.stroke([rot(s * 0.9, -s), rot(-s * 0.9, s)], ink, wid)
        elif style == "fill_partial":
            self.fill(box, ink, self.rng.uniform(0.45, 0.75))
        elif style == "fill_full":
            self.fill(box, ink, 1.0)
        elif style == "dot":
            r = self.rng.uniform(0.3, 0.55)
            self.stroke([rot(-r, 0), rot(r, 0.1), rot(0, r)], ink, r)
        elif style == "circle":
            rx, ry = w * self.rng.uniform(0.8, 0.95), h * self.rng.uniform(0.8, 0.95)
            pts = [(cx + rx * math.cos(t), cy + ry * math.sin(t)) for t in np.linspace(0, 2 * math.pi * 1.05, 30)]
            self.stroke(pts, ink, wid)
        elif style == "stray":
            # a short stroke that starts outside and just touches the box
            sx, sy = x - 1.8, y + h * self.rng.uniform(0.2, 0.8)
            self.stroke([(sx, sy), (x + 0.9, sy + self.rng.normal(0, 0.5))], ink, wid)
        else:
            raise ValueError(style)

    def write(self, text: str, area: tuple[float, float, float, float], ink: str) -> None:
        x, y, w, h = area
        px, py = self.px(x + 3, y + 6)
        scale = 1.4 * self.ppm / 8  # ~4 mm tall letters
        cv2.putText(self.img, text, (int(px), int(py)), cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, scale, INKS[ink], max(1, int(self.ppm / 5)), cv2.LINE_AA)


# --- respondents ----------------------------------------------------------------------------

def _likert_value(rng: np.random.Generator, values: list[int]) -> int:
    if values == [1, 2, 3, 4, 5]:
        return int(rng.choice(values, p=[0.04, 0.06, 0.15, 0.45, 0.30]))
    return int(rng.choice(values))


def fill_field(pen: Pen, f: FieldGeometry, rng: np.random.Generator, clean: bool) -> dict[str, Any]:
    ink = str(rng.choice(list(INKS), p=[0.5, 0.35, 0.15]))
    by_value = {o.value: o for o in f.options}
    if f.kind == "text":
        if rng.random() < 0.3:
            text = str(rng.choice(["Thu tuc nhanh", "Can them ghe ngoi", "Tot", "Phuc vu chu dao", "Cho doi lau"]))
            pen.write(text, f.area, ink)
            return {"kind": "text", "value": text, "expect": "uncertain", "ambiguous": False, "marks": {}}
        return {"kind": "text", "value": None, "expect": "blank", "ambiguous": False, "marks": {}}
    if f.kind == "code":
        digits = []
        marks = {}
        for d in range(f.digits or 1):
            v = int(rng.integers(0, 10))
            box = next(o.box for o in f.options if o.digit == d and o.value == v)
            pen.mark("cross", box, ink)
            digits.append(str(v))
            marks[f"{d}:{v}"] = ["cross", ink]
        return {"kind": "code", "value": "".join(digits), "expect": "answered", "ambiguous": False, "marks": marks}
    values = list(by_value)
    if f.kind == "multiple":
        if rng.random() < 0.06:
            return {"kind": "multiple", "value": None, "expect": "blank", "ambiguous": False, "marks": {}}
        k = int(rng.integers(1, min(3, len(values)) + 1))
        chosen = sorted(int(v) for v in rng.choice(values, size=k, replace=False))
        style = "cross" if clean else _pick(rng, [("cross", 5), ("tick", 3), ("slash", 1)])
        for v in chosen:
            pen.mark(style, by_value[v].box, ink)
        return {"kind": "multiple", "value": chosen, "expect": "answered", "ambiguous": False, "marks": {v: [style, ink] for v in chosen}}
    # single choice
    scenario = "clean" if clean else _pick(rng, SCENARIOS)
    v = _likert_value(rng, values)
    others = [o for o in values if o != v]
    marks: dict[int, list[str]] = {}
    if scenario == "blank":
        return {"kind": "single", "value": None, "expect": "blank", "ambiguous": False, "marks": {}}
    style = "cross" if clean else _pick(rng, SINGLE_STYLES)
    if scenario in ("clean", "answer_stray", "answer_dot"):
        pen.mark(style, by_value[v].box, ink)
        marks[v] = [style, ink]
        if scenario != "clean":
            o = int(rng.choice(others))
            extra = "stray" if scenario == "answer_stray" else "dot"
            pen.mark(extra, by_value[o].box, ink)
            marks[o] = [extra, ink]
        return {"kind": "single", "value": v, "expect": "answered", "ambiguous": False, "marks": marks}
    if scenario == "correction":
        o = int(rng.choice(others))
        pen.mark("fill_full", by_value[o].box, ink)
        pen.mark("cross", by_value[v].box, ink)
        return {"kind": "single", "value": v, "expect": "answered", "ambiguous": False,
                "marks": {o: ["fill_full", ink], v: ["cross", ink]}}
    if scenario == "two_marks":
        o = int(rng.choice(others))
        pen.mark("cross", by_value[v].box, ink)
        pen.mark("cross", by_value[o].box, ink)
        return {"kind": "single", "value": None, "expect": "multiple", "ambiguous": True,
                "marks": {v: ["cross", ink], o: ["cross", ink]}}
    if scenario == "dot_alone":
        pen.mark("dot", by_value[v].box, ink)
        return {"kind": "single", "value": None, "expect": "uncertain", "ambiguous": True, "marks": {v: ["dot", ink]}}
    if scenario == "circle_alone":
        pen.mark("circle", by_value[v].box, ink)
        return {"kind": "single", "value": None, "expect": "uncertain", "ambiguous": True, "marks": {v: ["circle", ink]}}
    raise ValueError(scenario)


# --- degradation ----------------------------------------------------------------------------

def degrade(img: np.ndarray, kind: str, rng: np.random.Generator, ppm: float) -> np.ndarray:
    h, w = img.shape[:2]
    if kind == "skew":
        # the scanner's bed is a little larger than the sheet, which lies crooked on it
        pad = int(0.03 * w)
        bed = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(235, 235, 235))
        bh, bw = bed.shape[:2]
        m = cv2.getRotationMatrix2D((bw / 2, bh / 2), float(rng.uniform(-3, 3)), float(rng.uniform(0.98, 1.02)))
        m[:, 2] += rng.uniform(-0.4, 0.4, 2) * pad
        return cv2.warpAffine(bed, m, (bw, bh), borderValue=(235, 235, 235))
    if kind == "rot180":
        return cv2.rotate(img, cv2.ROTATE_180)
    if kind == "rot90":
        return cv2.rotate(img, cv2.ROTATE_90_CLOCKWISE if rng.random() < 0.5 else cv2.ROTATE_90_COUNTERCLOCKWISE)
    if kind == "noise":
        return np.clip(img.astype(np.int16) + rng.normal(0, 14, img.shape), 0, 255).astype(np.uint8)
    if kind == "blur":
        k = int(rng.choice([3, 5]))
        return cv2.GaussianBlur(img, (k, k), 0)
    if kind == "stain_marker":
        corner = int(rng.integers(0, 4))
        cx = int(16 * ppm) if corner in (0, 3) else w - int(16 * ppm)
        cy = int(16 * ppm) if corner in (0, 1) else h - int(16 * ppm)
        out = img.copy()
        cv2.circle(out, (cx, cy), int(13 * ppm), (200, 190, 170), -1)  # a coffee stain over the marker
        return out
    if kind == "dpi150":
        f = 150 / (ppm * 25.4)
        return cv2.resize(img, (int(w * f), int(h * f)), interpolation=cv2.INTER_AREA)
    if kind == "photo":
        W, H = int(w * 1.25), int(h * 1.2)
        src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        j = lambda: rng.uniform(-0.06, 0.06) * w  # noqa: E731
        dst = np.float32([[0.1 * w + j(), 0.08 * h + j()], [1.15 * w + j(), 0.07 * h + j()],
                          [1.17 * w + j(), 1.12 * h + j()], [0.08 * w + j(), 1.13 * h + j()]])
        photo = cv2.warpPerspective(img, cv2.getPerspectiveTransform(src, dst), (W, H), borderValue=(60, 70, 80))
        yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
        gx, gy = rng.uniform(0.3, 0.7, 2)
        light = 0.6 + 0.4 * np.exp(-(((xx / W - gx) ** 2) + ((yy / H - gy) ** 2)) * 2.5)
        photo = np.clip(photo * light[..., None] + rng.normal(0, 4, photo.shape), 0, 255).astype(np.uint8)
        return cv2.GaussianBlur(photo, (3, 3), 0)
    return img


# --- a sheet --------------------------------------------------------------------------------

def make_sheet(args: tuple[str, int, int, str | None, int, bool, int]) -> list[tuple[dict[str, Any], np.ndarray, str]]:
    """One respondent's sheet: [(truth, BGR page image, degradation)]."""
    template_id, serial, seed, agency, dpi, clean, sheet_index = args
    rng = np.random.default_rng(seed)
    t = load_template(template_id)
    buf = io.BytesIO()
    render_pdf(t, buf, sheets=1, first_serial=serial, agency=agency)
    pages = convert_from_bytes(buf.getvalue(), dpi=dpi)
    ppm = dpi / 25.4
    out = []
    for page_geo, pil in zip(layout(t).pages, pages):
        img = cv2.cvtColor(np.array(pil), cv2.COLOR_RGB2BGR)
        pen = Pen(img, ppm, rng)
        fields = {f.id: fill_field(pen, f, rng, clean) for f in page_geo.fields}
        deg = "none" if clean else _pick(rng, DEGRADE_BENCH)
        truth = {"template": t.id, "version": t.version, "sheet": f"{serial:06d}", "page": page_geo.page,
                 "agency": agency, "degradations": [deg], "fields": fields}
        img = degrade(pen.img, deg, rng, ppm)
        out.append((truth, img, deg))
    return out


def _save_single(img: np.ndarray, path: Path, deg: str, rng: np.random.Generator, dpi: int, compact: bool = False) -> Path:
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    if deg == "g4_tiff":
        path = path.with_suffix(".tif")
        _, bw = cv2.threshold(gray, 160, 255, cv2.THRESH_BINARY)  # a scanner's 1-bit "text" threshold
        Image.fromarray(bw).convert("1").save(path, compression="group4", dpi=(dpi, dpi))
    elif deg == "gray_tiff":
        path = path.with_suffix(".tif")
        Image.fromarray(gray).save(path, compression="tiff_lzw", dpi=(dpi, dpi))
    elif deg in ("jpeg_low",):
        path = path.with_suffix(".jpg")
        cv2.imwrite(str(path), gray, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(35, 55))])
    elif deg == "photo":
        path = path.with_suffix(".jpg")
        cv2.imwrite(str(path), img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(70, 90))])
    elif not compact and rng.random() < 0.3:
        path = path.with_suffix(".png")
        cv2.imwrite(str(path), gray)
    else:
        path = path.with_suffix(".jpg")
        q = int(rng.integers(60, 75)) if compact else int(rng.integers(70, 92))
        cv2.imwrite(str(path), img if rng.random() < 0.3 else gray, [cv2.IMWRITE_JPEG_QUALITY, q])
    return path


def bad_inputs(out: Path, rng: np.random.Generator) -> list[dict[str, Any]]:
    (out / "bad-empty.pdf").write_bytes(b"")
    ok, enc = cv2.imencode(".jpg", np.full((1200, 900), 230, np.uint8) + rng.integers(0, 20, (1200, 900), dtype=np.uint8))
    data = enc.tobytes()
    (out / "bad-truncated.jpg").write_bytes(data[: len(data) // 3])
    junk = np.full((1400, 1000, 3), 240, np.uint8)
    for _ in range(30):
        c = tuple(int(v) for v in rng.integers(0, 200, 3))
        cv2.circle(junk, tuple(int(v) for v in rng.integers(0, 1000, 2)), int(rng.integers(10, 150)), c, -1)
    cv2.imwrite(str(out / "bad-not-a-form.png"), junk)
    cv2.imwrite(str(out / "bad-blank-page.png"), np.full((1400, 1000), 250, np.uint8))
    return [
        {"source": "bad-empty.pdf", "index": 0, "expect_status": "error"},
        {"source": "bad-truncated.jpg", "index": 0, "expect_status": "error"},
        {"source": "bad-not-a-form.png", "index": 0, "expect_status": "unrecognized"},
        {"source": "bad-blank-page.png", "index": 0, "expect_status": "unrecognized"},
    ]


def broken_files(out: Path) -> list[dict[str, Any]]:
    """Files that are not scans, as they turn up in a scanner's folder: cut short, misnamed, empty."""
    buf = io.BytesIO()
    Image.fromarray(np.full((800, 600), 240, np.uint8)).save(buf, "PDF", resolution=100)
    (out / "hong-cat-ngang.pdf").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    (out / "ghi-chu-doi-ten.png").write_text("Đây là ghi chú, không phải ảnh quét.\n", encoding="utf-8")
    (out / "tep-rong.jpg").write_bytes(b"")
    return [{"source": n, "index": 0, "expect_status": "error"} for n in ("hong-cat-ngang.pdf", "ghi-chu-doi-ten.png", "tep-rong.jpg")]


def fill_print_run(pdf: Path, out: Path, template_id: str, first_serial: int, agency: str | None, *, seed: int = 1,
                   dpi: int = 200, clean: bool = True, broken: bool = False) -> list[Path]:
    """Fill every sheet of a printed PDF (the pages of one sheet after the other, serials from
    ``first_serial``): one JPEG per page into ``out`` with ``truth.jsonl``; returns the scan paths in order.
    No degradation but the JPEG itself: the sheets as a flatbed scanner returns them."""
    out.mkdir(parents=True, exist_ok=True)
    t = load_template(template_id)
    geo = layout(t).pages
    pages = convert_from_bytes(Path(pdf).read_bytes(), dpi=dpi)
    if len(pages) % len(geo):
        raise ValueError(f"{pdf}: {len(pages)} pages is not a whole number of {len(geo)}-page sheets of {t.id}")
    rng = np.random.default_rng(seed)
    ppm = dpi / 25.4
    truth_lines: list[dict[str, Any]] = []
    paths: list[Path] = []
    for k, pil in enumerate(pages):
        serial, page_geo = first_serial + k // len(geo), geo[k % len(geo)]
        img = cv2.cvtColor(np.array(pil), cv2.COLOR_RGB2BGR)
        pen = Pen(img, ppm, rng)
        fields = {f.id: fill_field(pen, f, rng, clean) for f in page_geo.fields}
        path = out / f"{t.id}-{serial:06d}-p{page_geo.page}.jpg"
        cv2.imwrite(str(path), cv2.cvtColor(pen.img, cv2.COLOR_BGR2GRAY), [cv2.IMWRITE_JPEG_QUALITY, 80])
        paths.append(path)
        truth_lines.append({"source": path.name, "index": 0, "template": t.id, "version": t.version, "sheet": f"{serial:06d}",
                            "page": page_geo.page, "agency": agency, "degradations": ["none"], "fields": fields})
    if broken:
        truth_lines += broken_files(out)
    with open(out / "truth.jsonl", "w", encoding="utf-8") as fh:
        for d in truth_lines:
            fh.write(json.dumps(d, ensure_ascii=False) + "\n")
    return paths


def generate(out: Path, templates: list[str], sheets: int, seed: int, profile: str, dpi: int, workers: int) -> int:
    out.mkdir(parents=True, exist_ok=True)
    clean = profile == "clean"
    rng = np.random.default_rng(seed)
    jobs = []
    for ti, tid in enumerate(templates):
        for s in range(sheets):
            agency = None if rng.random() < 0.5 else str(rng.choice(["SNV", "STP", "UBND-H1"]))
            jobs.append((tid, 1 + s + ti * 100_000, int(rng.integers(0, 2**31)), agency, dpi, clean, s))
    truth_lines: list[dict[str, Any]] = []
    group_pdf: list[tuple[dict[str, Any], np.ndarray]] = []
    group_tiff: list[tuple[dict[str, Any], np.ndarray]] = []
    n_pages = 0
    with ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
        for sheet in pool.map(make_sheet, jobs, chunksize=2):
            for truth, img, deg in sheet:
                n_pages += 1
                if deg == "pdf":
                    group_pdf.append((truth, img))
                    continue
                if deg == "gray_tiff":
                    group_tiff.append((truth, img))
                    continue
                name = f"{truth['template']}-{truth['sheet']}-p{truth['page']}"
                path = _save_single(img, out / name, deg, rng, dpi, compact=profile == "demo")
                truth_lines.append({"source": path.name, "index": 0, **truth})
    # scanner-made multi-page files: a PDF of JPEG pages, a grayscale multi-page TIFF
    for group, suffix in ((group_pdf, "pdf"), (group_tiff, "tif")):
        for k in range(0, len(group), 6):
            chunk = group[k : k + 6]
            name = f"batch-{suffix}-{k // 6:03d}.{suffix}"
            ims = [Image.fromarray(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)) for _, img in chunk]
            if suffix == "pdf":
                ims[0].save(out / name, "PDF", resolution=dpi, save_all=True, append_images=ims[1:], quality=70 if profile == "demo" else 80)
            else:
                ims[0].save(out / name, compression="tiff_lzw", save_all=True, append_images=ims[1:], dpi=(dpi, dpi))
            for i, (truth, _) in enumerate(chunk):
                truth_lines.append({"source": name, "index": i, **truth})
    if not clean:
        truth_lines += bad_inputs(out, rng)
    truth_lines.sort(key=lambda d: (d["source"], d["index"]))
    with open(out / "truth.jsonl", "w", encoding="utf-8") as fh:
        for d in truth_lines:
            fh.write(json.dumps(d, ensure_ascii=False) + "\n")
    return n_pages


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m samples.generate", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--template", action="append", help="template id (repeatable; default sipas-2017 and hue-2017)")
    ap.add_argument("--sheets", type=int, default=10, help="sheets per template")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--profile", choices=["demo", "bench", "clean"], default="bench")
    ap.add_argument("--dpi", type=int, default=200)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--print-run", help="a printed PDF (a print run) whose sheets to fill instead of printing new ones")
    ap.add_argument("--first-serial", type=int, default=1, help="with --print-run: the serial of its first sheet")
    ap.add_argument("--agency", help="with --print-run: the agency the run was printed for (in the truth)")
    ap.add_argument("--broken", action="store_true", help="with --print-run: add a truncated PDF, a text file named .png, an empty file")
    a = ap.parse_args(argv)
    if a.print_run:
        tid = (a.template or ["sipas-2017"])[0]
        paths = fill_print_run(Path(a.print_run), Path(a.out), tid, a.first_serial, a.agency, seed=a.seed, dpi=a.dpi,
                               clean=a.profile == "clean", broken=a.broken)
        print(f"{a.out}: {len(paths)} filled pages of {a.print_run} + truth.jsonl", file=sys.stderr)
        return 0
    n = generate(Path(a.out), a.template or ["sipas-2017", "hue-2017"], a.sheets, a.seed, a.profile, a.dpi, a.workers)
    print(f"{a.out}: {n} form pages + truth.jsonl", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
