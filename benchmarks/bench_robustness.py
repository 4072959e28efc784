"""Robustness on marks and scanners the sample generator never makes.

    .venv/bin/python benchmarks/bench_robustness.py [--pages 800] [--seed 11] [--workers 2] [--dpi 300]
        [--only hard|blur|field|CONDITION,...] [--layout 1|2] [--write DIR] [--ocr] [--strokes SHARE]

`samples/generate.py` is what the engine was developed against; this script is
its independent check. It shares nothing with the generator but the printed
form (rendered by `omr.render`, rasterised by poppler at 300 dpi):

* other hands: marks drawn as tapered, pressure-varying strokes along curves:
  crosses that overshoot the box and sit off-centre, big checks whose long arm
  leaves the box, a dash through the box, a 0.2 mm gel pen, a 1.2 mm felt tip,
  a round scribble fill, light pencil, red and green ink, and corrections
  made by hatching (not solid fill) beside a new cross;
* other scanners: a dust streak down the glass (through a column of boxes or
  anywhere), show-through of the sheet's other side, recycled grey paper,
  overexposure, 1-bit with error-diffusion dithering, a fold crease, punched
  holes, an edge cut off by the feeder, paper stretched in the feed
  direction, a phone's shadow across half the page, colour JPEG at quality 25,
  a photocopy of the filled sheet (scaled, darker, toner speckle), and a phone
  photo of a sheet that curls (a bend no homography models), and forms
  printed on pink, yellow, blue or green paper, scanned in colour;
* the field report of issue 12: phone photos as a messaging app sends them
  (`phone_photo`: ~1650 x 2340 px, perspective, light falling off, a lamp's
  spot, a soft shadow, blur, sensor noise, JPEG 40-75), 1-bit scans at 200 dpi
  with the scanner's fixed threshold (`threshold_1bit`, G4), and notes stroked
  through the rows (`stray_strokes`: a third of the fields get a wobbling
  polyline along the row or across one box, some beside a solidly filled
  answer); `--only hard` runs these with `clean` and `dither_1bit`; `phone_blurred`
  is a phone photo out of focus (blur sigma 2.2-4.2 px, 0.3-0.6 mm on the sheet; `--only blur`
  runs it beside `phone_photo`).

`--only field` draws the field report's 1,000 pages in its proportions: office scans
652 (`clean`, `feed_stretch`, `flatbed_jpeg`: colour JPEG 70-90 as a flatbed saves it),
rough 124 (`crease`, `showthrough`, `recycled`, `holes`, `shadow`), 1-bit 134
(`threshold_1bit`, `dither_1bit`), phone photos 90 (`phone_photo`), with a table per class.
`--strokes SHARE` puts a respondent's note through 1-3 fields of that share of the pages,
whatever their condition (drawn on the paper, before the scanner; `stray_strokes` keeps its own).

`--layout 1` prints the forms as before layout 2 (no identity row); `--write DIR`
keeps every degraded scan for `bench_speed.py`; `--ocr` lets the printed footer
be read when the codes fail. CPU per page is the reading process's CPU time
(`time.process_time`) for `process_page`, per condition, against clean pages.

Every page goes through `omr.pipeline.process_page` (no OCR). A field is
wrongly accepted when it comes out `answered` or `blank` with a value that is
not the truth; `multiple` and `uncertain` go to a reviewer. Prints tables per
degradation and per mark style. A benchmark: it prints, it asserts nothing.
"""
from __future__ import annotations

import argparse
import io
import math
import os
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from omr.layout import FieldGeometry, layout  # noqa: E402
from omr.pipeline import ScanOptions, process_page  # noqa: E402
from omr.template import load_template  # noqa: E402

DPI = int(os.environ.get("OMR_BENCH_DPI", "300"))  # --dpi sets it for the worker processes too
WRITE_DIR = os.environ.get("OMR_BENCH_WRITE", "")  # --write: keep every degraded scan (for bench_speed.py)
OCR = os.environ.get("OMR_BENCH_OCR", "0") == "1"
STROKES = float(os.environ.get("OMR_BENCH_STROKES", "0"))  # --strokes: share of pages carrying a respondent's note across rows
LAYOUT = int(os.environ.get("OMR_BENCH_LAYOUT", "0"))  # --layout: print the forms with this layout version (0: the default)  # --ocr: the printed footer as the last fallback, as omr scan does
PPM = DPI / 25.4
TEMPLATES = ["sipas-2017", "hue-2017", "hanoi-y-te"]
STYLES = ["x_overshoot", "check_big", "dash", "gel_cross", "felt_cross", "scribble_fill", "pencil_light", "red_cross",
          "green_check", "hatch_correction"]
DEGRADATIONS = ["clean", "streak_column", "streak_anywhere", "showthrough", "recycled", "overexposed", "dither_1bit",
                "crease", "holes", "crop_edge", "feed_stretch", "shadow", "jpeg_q25", "photocopy", "curl_photo", "colored_paper",
                "phone_photo", "threshold_1bit", "stray_strokes", "phone_blurred", "flatbed_jpeg"]
# The conditions of the field report (issue 12), for --only: office scans, 1-bit at 200 dpi, phone photos, notes across rows
HARD = ["clean", "phone_photo", "threshold_1bit", "dither_1bit", "stray_strokes"]
# --only blur: photos blurred beyond the field report's (issue 12, item 2), against the report's own
BLUR = ["phone_photo", "phone_blurred"]
# --only field: the field report's 1,000 pages in its own proportions (652 office scans, 124 rough,
# 134 1-bit, 90 phone photos), each class's conditions in turn; notes across rows come from --strokes
FIELD_CLASSES = {
    "office": (652, ["clean", "feed_stretch", "flatbed_jpeg"]),
    "rough": (124, ["crease", "showthrough", "recycled", "holes", "shadow"]),
    "1-bit": (134, ["threshold_1bit", "dither_1bit"]),
    "phone": (90, ["phone_photo"]),
}
CLASS_OF = {d: c for c, (_, ds) in FIELD_CLASSES.items() for d in ds}


def field_schedule(pages: int) -> list[str]:
    """The condition of each of ``pages`` pages in the field report's proportions, interleaved
    (every prefix keeps them as closely as whole pages allow)."""
    total = sum(n for n, _ in FIELD_CLASSES.values())
    given = {c: 0 for c in FIELD_CLASSES}
    out = []
    for k in range(pages):
        c = min(FIELD_CLASSES, key=lambda c: (given[c] + 1) / FIELD_CLASSES[c][0] - (k + 1) / total)
        conds = FIELD_CLASSES[c][1]
        out.append(conds[given[c] % len(conds)])
        given[c] += 1
    return out
INK = {"black": (30, 30, 30), "blue": (160, 60, 20), "red": (40, 40, 200), "green": (60, 140, 40), "pencil": (165, 165, 165)}

_PAGES: dict[tuple[str, int], np.ndarray] = {}


def _blank_page(template: str, page: int) -> np.ndarray:
    """The printed page at 300 dpi (BGR), rendered once per worker."""
    key = (template, page)
    if key not in _PAGES:
        from pdf2image import convert_from_bytes

        from omr.render import render_pdf

        buf = io.BytesIO()
        kw = {"layout_version": LAYOUT} if LAYOUT else {}
        render_pdf(load_template(template), buf, sheets=1, first_serial=777001, agency="RB", **kw)
        for i, pil in enumerate(convert_from_bytes(buf.getvalue(), dpi=DPI), start=1):
            _PAGES[(template, i)] = cv2.cvtColor(np.array(pil), cv2.COLOR_RGB2BGR)
    return _PAGES[key].copy()


# --- a different hand ------------------------------------------------------------------------

def _bezier(p0, p1, p2, n=24):  # noqa: ANN001, ANN202
    t = np.linspace(0, 1, n)[:, None]
    return (1 - t) ** 2 * np.array(p0) + 2 * (1 - t) * t * np.array(p1) + t**2 * np.array(p2)


def _tapered(img: np.ndarray, pts_mm: np.ndarray, width_mm: float, color, rng: np.random.Generator) -> None:  # noqa: ANN001
    """A stroke whose width swells and thins like a pen under changing pressure."""
    pts = pts_mm * PPM
    n = len(pts)
    pressure = np.sin(np.linspace(0.15, math.pi - 0.15, n)) ** 0.6 * rng.uniform(0.8, 1.15)
    for i in range(n - 1):
        w = max(1, int(round(width_mm * PPM * pressure[i])))
        cv2.line(img, tuple(int(v) for v in pts[i]), tuple(int(v) for v in pts[i + 1]), color, w, cv2.LINE_AA)


def draw(img: np.ndarray, style: str, box: tuple[float, float, float, float], rng: np.random.Generator) -> None:
    x, y, w, h = box
    cx, cy = x + w / 2, y + h / 2
    ink = INK[str(rng.choice(["black", "blue"]))]
    width = rng.uniform(0.35, 0.55)
    if style == "red_cross":
        ink = INK["red"]
    elif style == "green_check":
        ink = INK["green"]
    elif style == "pencil_light":
        ink = INK["pencil"]
        width = rng.uniform(0.3, 0.45)
    elif style == "gel_cross":
        width = 0.2
    elif style == "felt_cross":
        width = rng.uniform(1.0, 1.3)
    if style in ("x_overshoot", "gel_cross", "felt_cross", "pencil_light", "red_cross"):
        over = rng.uniform(1.0, 1.7) if style == "x_overshoot" else rng.uniform(0.7, 1.1)
        ox, oy = (rng.uniform(-0.22, 0.22, 2) * w) if style == "x_overshoot" else rng.normal(0, 0.3, 2)
        a = math.radians(rng.uniform(-20, 20))
        s = w / 2 * over
        for ang in (a + math.pi / 4, a - math.pi / 4):
            d = np.array([math.cos(ang), math.sin(ang)]) * s
            bend = rng.normal(0, 0.3, 2)
            _tapered(img, _bezier((cx + ox - d[0], cy + oy - d[1]), (cx + ox + bend[0], cy + oy + bend[1]), (cx + ox + d[0], cy + oy + d[1])), width, ink, rng)
    elif style in ("check_big", "green_check"):
        k = rng.uniform(0.9, 1.5)
        p0 = (cx - w * 0.35 * k, cy - h * 0.05)
        p1 = (cx - w * 0.05, cy + h * 0.35 * k)
        p2 = (cx + w * 0.6 * k, cy - h * 0.9 * k)
        _tapered(img, np.vstack([_bezier(p0, ((p0[0] + p1[0]) / 2, p1[1]), p1, 10), _bezier(p1, (p1[0] + 1, p1[1] - 2), p2, 18)]), width, ink, rng)
    elif style == "dash":
        ln = w * rng.uniform(0.8, 1.3) / 2
        dy = rng.normal(0, 0.25)
        _tapered(img, _bezier((cx - ln, cy + dy), (cx, cy + dy + rng.normal(0, 0.3)), (cx + ln, cy + dy + rng.normal(0, 0.3))), width * 1.2, ink, rng)
    elif style == "scribble_fill":
        t = np.linspace(0, 2 * math.pi * rng.uniform(5, 8), 220)
        r = (w * 0.45) * np.abs(np.sin(t * 0.37)) + 0.3
        pts = np.stack([cx + r * np.cos(t) * 0.95, cy + r * np.sin(t) * 0.95], 1)
        _tapered(img, pts, 0.6, ink, rng)
    else:
        raise ValueError(style)


def hatch(img: np.ndarray, box: tuple[float, float, float, float], rng: np.random.Generator) -> None:
    """A correction by dense zigzag hatching over the box (the way many people 'fill' it)."""
    x, y, w, h = box
    n = int(rng.integers(7, 11))
    pts = []
    for i in range(n):
        yy = y + 0.4 + (h - 0.8) * i / (n - 1)
        pts.append((x + 0.3, yy) if i % 2 == 0 else (x + w - 0.3, yy))
    _tapered(img, np.array(pts, float), 0.75, INK["black"], rng)


def stray_stroke(img: np.ndarray, f: FieldGeometry, rng: np.random.Generator) -> None:
    """A respondent's note or arrow running through a field's boxes: not a mark on any one of them.

    Drawn as a wobbling polyline (not the tapered Bezier marks above): most run along the row
    through several boxes, the rest cross one box on a slant and go on well beyond it."""
    ink = INK[str(rng.choice(["black", "blue"]))]
    width = rng.uniform(0.3, 0.6)
    opts = f.options
    if rng.random() < 0.6 and len({round(o.box[1]) for o in opts}) < len(opts):  # a row of boxes side by side
        row = [o for o in opts if abs(o.box[1] - opts[int(rng.integers(0, len(opts)))].box[1]) < 1.0] or opts
        x0 = min(o.box[0] for o in row) - rng.uniform(4, 14)
        x1 = max(o.box[0] + o.box[2] for o in row) + rng.uniform(4, 14)
        yc = row[0].box[1] + row[0].box[3] / 2 + rng.uniform(-1.3, 1.3)
        n = max(8, int((x1 - x0) / 1.5))
        xs = np.linspace(x0, x1, n)
        slope = rng.uniform(-0.03, 0.03)
        ys = yc + slope * (xs - x0) + rng.uniform(0.2, 0.8) * np.sin(xs / rng.uniform(2.5, 6.0) + rng.uniform(0, 6))
    else:  # across one box on a slant, like an arrow to a note in the margin
        o = opts[int(rng.integers(0, len(opts)))]
        cx, cy = o.box[0] + o.box[2] / 2 + rng.uniform(-0.8, 0.8), o.box[1] + o.box[3] / 2 + rng.uniform(-0.8, 0.8)
        a = rng.uniform(-1.1, 1.1) + (math.pi / 2 if rng.random() < 0.3 else 0.0)
        ln = rng.uniform(7, 12)
        t = np.linspace(-ln, ln, 16)
        xs = cx + t * math.cos(a) + rng.normal(0, 0.15, len(t))
        ys = cy + t * math.sin(a) + rng.normal(0, 0.15, len(t))
    pts = (np.stack([xs, ys], 1) * PPM).astype(np.int32)
    cv2.polylines(img, [pts.reshape(-1, 1, 2)], False, ink, max(1, int(round(width * PPM))), cv2.LINE_AA)


def phone_photo(img: np.ndarray, rng: np.random.Generator, blur: tuple[float, float] = (0.7, 1.8)) -> np.ndarray:
    """A phone photo as a messaging app sends it: ~1650 x 2340 px for the sheet and what lies around it,
    perspective, light falling off across the sheet, a little blur, sensor noise (JPEG comes after).
    ``blur``: the range of the Gaussian blur's sigma in photo pixels (~7 px a mm)."""
    h, w = img.shape[:2]
    f = 1650 / (w * 1.12)  # the sheet fills ~89% of the photo's width
    W, H = 1650, 2340
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    sw, sh = w * f, h * f
    j = lambda: rng.uniform(-0.05, 0.05) * sw  # noqa: E731
    ox, oy = (W - sw) / 2, (H - sh) / 2
    dst = np.float32([[ox + j(), oy + j()], [ox + sw + j(), oy + j()], [ox + sw + j(), oy + sh + j()], [ox + j(), oy + sh + j()]])
    photo = cv2.warpPerspective(img, cv2.getPerspectiveTransform(src, dst), (W, H), flags=cv2.INTER_AREA,
                                borderValue=tuple(int(v) for v in rng.uniform(40, 120, 3))).astype(np.float32)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    gx, gy = rng.uniform(-1, 1, 2)
    ramp = (xx / W - 0.5) * gx + (yy / H - 0.5) * gy  # a linear fall-off ...
    spot = np.exp(-(((xx / W - rng.uniform(0.2, 0.8)) ** 2) + ((yy / H - rng.uniform(0.2, 0.8)) ** 2)) * rng.uniform(1.5, 4))
    light = np.clip(0.62 + 0.28 * spot - 0.5 * ramp * rng.uniform(0.5, 1.0), 0.3, 1.0)  # ... and a lamp's spot
    if rng.random() < 0.6:  # the phone's (or the hand's) shadow: a soft edge across the sheet
        a = rng.uniform(0, 2 * math.pi)
        d = (xx / W - 0.5) * math.cos(a) + (yy / H - 0.5) * math.sin(a) - rng.uniform(-0.3, 0.3)
        light *= 1 - rng.uniform(0.25, 0.45) / (1 + np.exp(-d / rng.uniform(0.01, 0.06)))
    photo *= light[..., None] * rng.uniform(0.85, 1.0, 3)  # warm or cool white balance
    photo = cv2.GaussianBlur(photo, (0, 0), rng.uniform(*blur))
    photo += rng.normal(0, rng.uniform(2, 6), photo.shape).astype(np.float32)
    return np.clip(photo, 0, 255).astype(np.uint8)


def threshold_1bit(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 200-dpi 1-bit scan: the scanner's fixed threshold, no dithering, saved as G4."""
    from PIL import Image

    h, w = img.shape[:2]
    f = 200 / DPI
    small = cv2.resize(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), (int(w * f), int(h * f)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), rng.uniform(0.3, 0.8))
    bw = (small > rng.uniform(110, 175)).astype(np.uint8) * 255
    buf = io.BytesIO()
    Image.fromarray(bw).convert("1", dither=Image.Dither.NONE).save(buf, format="TIFF", compression="group4", dpi=(200, 200))
    return np.frombuffer(buf.getvalue(), np.uint8)


# --- a different scanner ---------------------------------------------------------------------

def degrade(img: np.ndarray, kind: str, rng: np.random.Generator, other_side: np.ndarray | None,
            columns_mm: list[float]) -> tuple[np.ndarray, str]:
    """The page through a scanner fault; returns (image, encoding)."""
    h, w = img.shape[:2]
    if kind in ("streak_column", "streak_anywhere"):
        x = int((rng.choice(columns_mm) + rng.uniform(-1.0, 1.0)) * PPM) if kind == "streak_column" else int(rng.uniform(0.05, 0.95) * w)
        width = int(rng.integers(1, 4))
        dark = float(rng.uniform(0.35, 0.8))
        img = img.copy()
        img[:, x : x + width] = (img[:, x : x + width] * (1 - dark)).astype(np.uint8)
        return img, "png"
    if kind == "showthrough" and other_side is not None:
        back = cv2.flip(cv2.resize(other_side, (w, h)), 1).astype(np.float32)
        k = rng.uniform(0.10, 0.18)
        out = img.astype(np.float32) * (1 - k * (1 - back / 255.0))
        return np.clip(out, 0, 255).astype(np.uint8), "jpg90"
    if kind == "recycled":
        paper = rng.uniform(200, 222)
        fib = cv2.GaussianBlur(rng.normal(0, 9, (h, w)).astype(np.float32), (0, 0), 2.0)[..., None]
        out = img.astype(np.float32) * (paper / 255.0) + fib
        return np.clip(out, 0, 255).astype(np.uint8), "jpg90"
    if kind == "overexposed":
        g = rng.uniform(0.45, 0.6)
        out = 255.0 * (img.astype(np.float32) / 255.0) ** g
        return np.clip(out, 0, 255).astype(np.uint8), "jpg90"
    if kind == "phone_photo":
        return phone_photo(img, rng), f"jpg{int(rng.integers(40, 75))}"
    if kind == "phone_blurred":  # out of focus or a shaking hand: sigma 0.3-0.6 mm on the sheet
        return phone_photo(img, rng, blur=(2.2, 4.2)), f"jpg{int(rng.integers(40, 75))}"
    if kind == "threshold_1bit":
        return threshold_1bit(img, rng), "raw-tiff"
    if kind == "dither_1bit":
        from PIL import Image

        small = cv2.resize(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), (int(w * 2 / 3), int(h * 2 / 3)), interpolation=cv2.INTER_AREA)
        pil = Image.fromarray(small).convert("1")  # Floyd-Steinberg by default
        buf = io.BytesIO()
        pil.save(buf, format="TIFF", compression="group4", dpi=(200, 200))
        return np.frombuffer(buf.getvalue(), np.uint8), "raw-tiff"
    if kind == "crease":
        out = img.astype(np.float32)
        y0 = int(rng.uniform(0.3, 0.7) * h)
        yy = np.arange(h, dtype=np.float32)[:, None]
        out *= (1 - 0.10 * np.exp(-((yy - y0) ** 2) / (2 * (0.6 * PPM) ** 2)))[..., None]
        out[y0 : y0 + 2] *= 0.55
        return np.clip(out, 0, 255).astype(np.uint8), "jpg90"
    if kind == "holes":
        out = img.copy()
        for f in (1 / 3, 2 / 3):
            cv2.circle(out, (int(7 * PPM), int(h * f)), int(3 * PPM), (20, 20, 20), -1)
        return out, "jpg90"
    if kind == "crop_edge":
        cut = int(rng.uniform(4, 9) * PPM)
        side = int(rng.integers(0, 4))
        out = [img[cut:], img[:-cut], img[:, cut:], img[:, :-cut]][side]
        return np.ascontiguousarray(out), "jpg90"
    if kind == "feed_stretch":
        sy, sx = rng.uniform(1.008, 1.02), rng.uniform(0.995, 1.0)
        a = math.radians(rng.uniform(-1.5, 1.5))
        m = np.array([[sx * math.cos(a), -math.sin(a), 30], [math.sin(a), sy * math.cos(a), 30]], np.float32)
        return cv2.warpAffine(img, m, (w + 60, int(h * sy) + 60), borderValue=(250, 250, 250)), "jpg90"
    if kind == "shadow":
        xx = np.linspace(-1, 1, w, dtype=np.float32)[None, :]
        edge = rng.uniform(-0.4, 0.4)
        light = 1 - 0.45 / (1 + np.exp(-(xx - edge) * 8))
        out = img.astype(np.float32) * light[..., None]
        return np.clip(out, 0, 255).astype(np.uint8), "jpg85"
    if kind == "jpeg_q25":
        return img, "jpg25"
    if kind == "flatbed_jpeg":  # an office flatbed's default: colour JPEG at a middling quality
        return img, f"jpg{int(rng.integers(70, 91))}"
    if kind == "photocopy":
        f = rng.uniform(0.96, 1.02)
        a = rng.uniform(-1.2, 1.2)
        m = cv2.getRotationMatrix2D((w / 2, h / 2), a, f)
        out = cv2.warpAffine(img, m, (w, h), borderValue=(245, 245, 245)).astype(np.float32)
        out = 255.0 * np.clip((out / 255.0 - 0.08) / 0.92, 0, 1) ** 1.3  # toner: darker, harder
        out = cv2.GaussianBlur(out, (3, 3), 0)
        specks = rng.random((h, w)) < 0.0015
        out[specks] = rng.uniform(40, 140, int(specks.sum()))[:, None]
        return np.clip(out, 0, 255).astype(np.uint8), "jpg80"
    if kind == "colored_paper":
        tint = np.array([(215, 200, 255), (190, 245, 255), (255, 225, 200), (205, 245, 210)][int(rng.integers(0, 4))], np.float32)  # BGR
        out = img.astype(np.float32) * (tint / 255.0)
        return np.clip(out, 0, 255).astype(np.uint8), "jpg85"
    if kind == "curl_photo":
        # the sheet bows along its width: rows bend by up to ~2.5 mm, columns compress towards the fold
        amp = rng.uniform(1.0, 2.5) * PPM
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        map_y = yy + amp * np.sin(np.pi * xx / w) * (yy / h - 0.5) * 2
        map_x = xx + 0.6 * amp * np.sin(2 * np.pi * yy / h)
        bent = cv2.remap(img, map_x, map_y, cv2.INTER_LINEAR, borderValue=(80, 80, 80))
        src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        j = lambda: rng.uniform(-0.04, 0.04) * w  # noqa: E731
        dst = np.float32([[0.08 * w + j(), 0.06 * h + j()], [1.06 * w + j(), 0.05 * h + j()],
                          [1.08 * w + j(), 1.05 * h + j()], [0.06 * w + j(), 1.06 * h + j()]])
        out = cv2.warpPerspective(bent, cv2.getPerspectiveTransform(src, dst), (int(w * 1.14), int(h * 1.11)), borderValue=(70, 60, 50))
        return out, "jpg85"
    return img, "png"


def encode_decode(img: np.ndarray, how: str) -> np.ndarray:
    """What the engine gets after the file is written and read back (grayscale uint8)."""
    from omr.io import decode_image_bytes

    if how == "raw-tiff":
        data = img.tobytes()
    elif how.startswith("jpg"):
        data = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(how[3:])])[1].tobytes()
    else:
        data = cv2.imencode(".png", img)[1].tobytes()
    lp = decode_image_bytes(data, "bench")
    assert lp.image is not None, lp.error
    return lp.image


# --- one trial -------------------------------------------------------------------------------

def fill(img: np.ndarray, fields: list[FieldGeometry], rng: np.random.Generator, style_of_page: str) -> dict[str, tuple]:
    truth: dict[str, tuple] = {}
    for f in fields:
        if f.kind == "text":
            continue
        if f.kind == "code":
            digits = ""
            for d in range(f.digits or 1):
                v = int(rng.integers(0, 10))
                draw(img, "x_overshoot" if style_of_page == "hatch_correction" else style_of_page, next(o.box for o in f.options if o.digit == d and o.value == v), rng)
                digits += str(v)
            truth[f.id] = (digits, style_of_page)
            continue
        if rng.random() < 0.06:
            truth[f.id] = (None, "blank")
            continue
        vals = [o.value for o in f.options]
        box = {o.value: o.box for o in f.options}
        if f.kind == "multiple":
            k = int(rng.integers(1, min(3, len(vals)) + 1))
            chosen = sorted(int(v) for v in rng.choice(vals, size=k, replace=False))
            st = "x_overshoot" if style_of_page == "hatch_correction" else style_of_page
            for v in chosen:
                draw(img, st, box[v], rng)
            truth[f.id] = (chosen, st)
            continue
        v = int(rng.choice(vals))
        if style_of_page == "hatch_correction" and rng.random() < 0.5:
            o = int(rng.choice([u for u in vals if u != v]))
            hatch(img, box[o], rng)
            draw(img, "x_overshoot", box[v], rng)
            truth[f.id] = (v, "hatch_correction")
        else:
            st = "x_overshoot" if style_of_page == "hatch_correction" else style_of_page
            draw(img, st, box[v], rng)
            truth[f.id] = (v, st)
    return truth


def trial(args: tuple[int, int, str]) -> dict:
    seed, k, degradation = args
    rng = np.random.default_rng(seed * 100_003 + k)
    # the degradation cycles (equal counts); form and hand are drawn apart from it, so no table is confounded
    template = str(rng.choice(TEMPLATES))
    geo = layout(load_template(template))
    page = int(rng.integers(1, len(geo.pages) + 1))
    img = _blank_page(template, page)
    style = str(rng.choice(STYLES))
    if style == "pencil_light" and degradation == "threshold_1bit":
        style = "gel_cross"  # a 1-bit threshold leaves nothing of light pencil to read (scan it in grayscale)
    fields = geo.pages[page - 1].fields
    truth = fill(img, fields, rng, style)
    def note(f: FieldGeometry, srng: np.random.Generator) -> None:
        value, st = truth[f.id]
        if f.kind == "single" and value is not None and srng.random() < 0.35:
            # the answer filled solidly (as many people mark), a note through another box beside it
            x, y, w, h = next(o.box for o in f.options if o.value == value)
            cv2.rectangle(img, (int((x + 0.3) * PPM), int((y + 0.3) * PPM)), (int((x + w - 0.3) * PPM), int((y + h - 0.3) * PPM)), INK["black"], -1)
        stray_stroke(img, f, srng)
        truth[f.id] = (value, "stray_across")

    if degradation == "stray_strokes":
        srng = np.random.default_rng(seed * 7_919 + k)  # its own stream: the marks above stay those of every condition
        for f in fields:
            if f.kind in ("single", "multiple") and f.id in truth and srng.random() < 0.35:
                note(f, srng)
    elif STROKES > 0:  # --strokes: a note on this page, through 1-3 of its fields, before the scanner sees it
        nrng = np.random.default_rng([seed, k, 12])  # a stream of its own: the page is otherwise the same
        if nrng.random() < STROKES:
            choice = [f for f in fields if f.kind in ("single", "multiple") and f.id in truth]
            for i in nrng.permutation(len(choice))[: int(nrng.integers(1, 4))]:
                note(choice[int(i)], nrng)
    other = _blank_page(template, 3 - page) if len(geo.pages) == 2 else _blank_page(template, 1)
    cols = sorted({round(o.box[0] + o.box[2] / 2, 1) for f in fields for o in f.options})
    scan, how = degrade(img, "clean" if degradation == "stray_strokes" else degradation, rng, other, cols)
    if WRITE_DIR:
        ext = {"raw-tiff": ".tif", "png": ".png"}.get(how, ".jpg")
        data = scan.tobytes() if how == "raw-tiff" else cv2.imencode(ext, scan, [cv2.IMWRITE_JPEG_QUALITY, int(how[3:])] if how.startswith("jpg") else [])[1].tobytes()
        Path(WRITE_DIR, f"{degradation}-{k:05d}{ext}").write_bytes(data)
    gray = encode_decode(scan, how)
    t0, c0 = time.perf_counter(), time.process_time()
    out = process_page(gray, source=f"trial{k}", index=0, options=ScanOptions(ocr=OCR)).result
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    rows = []
    reviews = []
    for fid, (value, st) in truth.items():
        fr = out.fields.get(fid) if out.status == "ok" else None
        if fr is None:
            rows.append((st, "page", False))
            continue
        review = fr.status in ("multiple", "uncertain")
        if review:
            reviews.append(f"{fid} ({st}, truth {value}): {fr.status}, {fr.reason}")
        wrong = (not review) and fr.value != value
        rows.append((st, "review" if review else ("wrong" if wrong else "ok"), wrong and fr.status == "blank"))
    return {"degradation": degradation, "template": template, "page_status": out.status, "error": out.error,
            "rows": rows, "reviews": reviews, "seconds": dt, "cpu": cpu, "identified_by": out.identified_by, "k": k, "wrong_ids": [fid for fid, (value, st) in truth.items()
                                                               if out.status == "ok" and out.fields[fid].status in ("answered", "blank")
                                                               and out.fields[fid].value != value]}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=650)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--only", default="", help="comma-separated degradations")
    ap.add_argument("--dpi", type=int, default=DPI, help="scan resolution (the form is rasterised at it)")
    ap.add_argument("--write", default="", help="also write every degraded scan into this folder")
    ap.add_argument("--ocr", action="store_true", help="read the printed footer when the codes fail (as omr scan does)")
    ap.add_argument("--layout", type=int, default=LAYOUT, help="layout version to print the forms with (1: as before issue 12)")
    ap.add_argument("--strokes", type=float, default=STROKES,
                    help="share of pages (any condition) carrying a respondent's note through 1-3 of their fields")
    a = ap.parse_args()
    if a.dpi != DPI or a.write != WRITE_DIR or a.ocr != OCR or a.layout != LAYOUT or a.strokes != STROKES:
        os.environ["OMR_BENCH_STROKES"] = str(a.strokes)
        os.environ["OMR_BENCH_LAYOUT"] = str(a.layout)  # the workers import this module afresh: hand them the settings
        os.environ["OMR_BENCH_DPI"] = str(a.dpi)
        os.environ["OMR_BENCH_WRITE"] = a.write
        os.environ["OMR_BENCH_OCR"] = "1" if a.ocr else "0"
        if a.write:
            Path(a.write).mkdir(parents=True, exist_ok=True)
        os.execv(sys.executable, [sys.executable, *sys.argv])
    if a.only == "field":
        schedule = field_schedule(a.pages)
        degs = [d for _, ds in FIELD_CLASSES.values() for d in ds]
    else:
        degs = ({"hard": HARD, "blur": BLUR}.get(a.only) or a.only.split(",")) if a.only else DEGRADATIONS
        schedule = [degs[k % len(degs)] for k in range(a.pages)]
    tasks = [(a.seed, k, schedule[k]) for k in range(a.pages)]
    t0 = time.time()
    with ProcessPoolExecutor(a.workers) as pool:
        results = list(pool.map(trial, tasks, chunksize=4))
    by_deg: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_style: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    examples = []
    for r in results:
        d = by_deg[r["degradation"]]
        d["pages"] += 1
        d["not_read"] += r["page_status"] != "ok"
        if r["page_status"] != "ok":
            examples.append(f"  page not read: trial {r['k']} {r['degradation']} {r['template']}: {r['error']}")
        for st, outcome, blank in r["rows"]:
            for tab in (d, by_style[st]):
                tab["fields"] += 1
                tab[outcome] += 1
                tab["wrong_blank"] += blank
        if r["wrong_ids"]:
            examples.append(f"  wrong: trial {r['k']} {r['degradation']} {r['template']}: {', '.join(r['wrong_ids'][:6])}")
    tot = defaultdict(int)
    for d in by_deg.values():
        for key, v in d.items():
            tot[key] += v
    print(f"# Robustness: {len(results)} pages at {DPI} dpi, seed {a.seed}, layout {LAYOUT or 'default'}"
          f"{f', notes on {STROKES:.0%} of the pages' if STROKES else ''}, {time.time() - t0:.0f} s")
    print(f"pages not read: {tot['not_read']}; fields {tot['fields']}: wrongly accepted {tot['wrong']} "
          f"({100 * tot['wrong'] / max(1, tot['fields']):.3f}%, of which read as blank {tot['wrong_blank']}), "
          f"sent to review {tot['review']} ({100 * tot['review'] / max(1, tot['fields']):.2f}%)\n")
    cpu: dict[str, list[float]] = defaultdict(list)
    for r in results:
        cpu[r["degradation"]].append(r["cpu"])
    clean = float(np.median(cpu["clean"])) if cpu.get("clean") else float(np.median([c for v in cpu.values() for c in v]))
    print(f"CPU per page: clean median {clean:.3f} s; the costliest page {max(r['cpu'] for r in results):.3f} s "
          f"({max(r['cpu'] for r in results) / clean:.1f}x clean)\n")
    print("| degradation | pages | not read | fields | review | wrong accepted | CPU/page median | p95 | max (x clean) |\n"
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for k in degs:
        d = by_deg[k]
        c = np.array(cpu[k] or [0.0])
        print(f"| {k} | {d['pages']} | {d['not_read']} | {d['fields']} | {100 * d['review'] / max(1, d['fields']):.2f}% | {d['wrong']} "
              f"| {np.median(c):.3f} s | {np.percentile(c, 95):.3f} s | {c.max():.3f} s ({c.max() / clean:.1f}x) |")
    if a.only == "field":
        print("\n| class | pages | not read | fields | review | review without noted fields | wrong accepted | CPU/page median | max (x clean) |\n"
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for c in [*FIELD_CLASSES, "all"]:
            rs = [r for r in results if c == "all" or CLASS_OF[r["degradation"]] == c]
            rows = [row for r in rs for row in r["rows"]]
            plain = [row for row in rows if row[0] != "stray_across"]
            rev = sum(o == "review" for _, o, _ in rows)
            prev = sum(o == "review" for _, o, _ in plain)
            c_ = np.array([r["cpu"] for r in rs])
            print(f"| {c} | {len(rs)} | {sum(r['page_status'] != 'ok' for r in rs)} | {len(rows)} | {100 * rev / max(1, len(rows)):.2f}% "
                  f"| {100 * prev / max(1, len(plain)):.2f}% | {sum(o == 'wrong' for _, o, _ in rows)} "
                  f"| {np.median(c_):.3f} s | {c_.max():.3f} s ({c_.max() / clean:.1f}x) |")
        print("\nfields sent to review (page condition, field, status, reason):")
        for r in results:
            for line in r["reviews"]:
                print(f"  trial {r['k']} {r['degradation']} {r['template']}: {line}")
    print("\n| mark style | fields | review | wrong accepted |\n|---|---:|---:|---:|")
    for k in STYLES + ["stray_across", "blank"]:
        d = by_style[k]
        print(f"| {k} | {d['fields']} | {100 * d['review'] / max(1, d['fields']):.2f}% | {d['wrong']} |")
    if examples:
        print("\nexamples:")
        print("\n".join(examples[:40]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
