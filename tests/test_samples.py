"""The sample generator and the committed demo batch."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from omr.identify import decode_qr
from samples.generate import generate

DEMO = Path(__file__).parent.parent / "samples" / "demo"


def test_demo_batch_is_small_and_its_truth_points_at_real_files():
    total = sum(p.stat().st_size for p in DEMO.iterdir())
    assert total < 5 * 1024 * 1024
    lines = [json.loads(x) for x in (DEMO / "truth.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(lines) >= 15
    for d in lines:
        assert (DEMO / d["source"]).exists(), d["source"]


def test_generator_is_deterministic_and_qr_matches_truth(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        generate(d, ["hue-2017"], sheets=2, seed=3, profile="clean", dpi=150, workers=1)
    assert (a / "truth.jsonl").read_text() == (b / "truth.jsonl").read_text()
    for line in (a / "truth.jsonl").read_text().splitlines():
        t = json.loads(line)
        img = cv2.imread(str(a / t["source"]), cv2.IMREAD_GRAYSCALE)
        ident = decode_qr(img)
        assert ident is not None and (ident.template, ident.page, ident.serial) == (t["template"], t["page"], t["sheet"])


def test_a_marked_box_is_darker_than_an_empty_one(tmp_path):
    from omr.layout import layout
    from omr.template import load_template

    generate(tmp_path, ["hue-2017"], sheets=1, seed=4, profile="clean", dpi=150, workers=1)
    t = json.loads((tmp_path / "truth.jsonl").read_text().splitlines()[0])
    img = cv2.imread(str(tmp_path / t["source"]), cv2.IMREAD_GRAYSCALE).astype(np.float32)
    ppm = 150 / 25.4
    _, f = layout(load_template("hue-2017")).field("c01")
    means = {}
    for o in f.options:
        x, y, w, h = (v * ppm for v in o.box)
        means[o.value] = img[int(y + 4) : int(y + h - 4), int(x + 4) : int(x + w - 4)].mean()
    chosen = t["fields"]["c01"]["value"]
    assert chosen is not None
    assert all(means[chosen] < m - 20 for v, m in means.items() if v != chosen)
