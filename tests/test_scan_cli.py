"""`omr scan` as a user runs it: files and folders in, JSON lines out, exit codes."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from pdf2image import convert_from_path
from PIL import Image

from omr.render import render_pdf
from omr.template import load_template

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Path:
    os.environ["OMR_TEMPLATE_PATH"] = str(DATA)
    d = tmp_path_factory.mktemp("batch")
    pdf = d / "printed.pdf"
    render_pdf(load_template("mini-form"), pdf, sheets=3, first_serial=500)
    pages = [np.array(p) for p in convert_from_path(str(pdf), dpi=150, grayscale=True)]
    pdf.unlink()
    # a scanner PDF of two pages (one upside down), a JPEG, a zero-byte file, a non-form PNG
    Image.fromarray(pages[0]).save(d / "scan.pdf", "PDF", resolution=150, save_all=True,
                                   append_images=[Image.fromarray(np.ascontiguousarray(pages[1][::-1, ::-1]))])
    (d / "sub").mkdir()
    cv2.imwrite(str(d / "sub" / "p3.jpg"), pages[2], [cv2.IMWRITE_JPEG_QUALITY, 70])
    (d / "empty.tif").write_bytes(b"")
    cv2.imwrite(str(d / "photo.png"), np.full((800, 600), 128, np.uint8) + np.random.default_rng(0).integers(0, 60, (800, 600), dtype=np.uint8))
    return d


def run(args, env_extra=None):
    env = dict(os.environ, OMR_TEMPLATE_PATH=str(DATA))
    return subprocess.run([sys.executable, "-m", "omr.cli", *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)


@pytest.mark.parametrize("workers", [1, 2])
def test_scan_folder_gives_a_line_per_page_in_order(batch, tmp_path, workers):
    out = tmp_path / "r.jsonl"
    p = run(["scan", str(batch), "--workers", str(workers), "--output", str(out), "--no-ocr"])
    assert p.returncode == 1, p.stderr  # partial failure: the empty file and the non-form
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    by = {(Path(d["source"]).name, d["index"]): d for d in lines}
    assert len(lines) == 5
    assert [by[("scan.pdf", 0)]["sheet"], by[("scan.pdf", 1)]["sheet"], by[("p3.jpg", 0)]["sheet"]] == ["000500", "000501", "000502"]
    for key in [("scan.pdf", 0), ("scan.pdf", 1), ("p3.jpg", 0)]:
        d = by[key]
        assert d["status"] == "ok" and d["template"] == "mini-form" and d["version"] == 1 and d["page"] == 1
        for f in d["fields"].values():
            assert f["status"] in ("answered", "blank", "multiple", "uncertain") and 0 <= f["confidence"] <= 1
    assert by[("empty.tif", 0)]["status"] == "error" and "empty" in by[("empty.tif", 0)]["error"]
    assert by[("photo.png", 0)]["status"] == "unrecognized"
    # the order is the input order: files sorted within the folder, pages in file order
    names = [(Path(d["source"]).name, d["index"]) for d in lines]
    assert names.index(("scan.pdf", 0)) < names.index(("scan.pdf", 1))
    assert "empty.tif" in p.stderr and "5 trang" in p.stderr


def test_exit_codes(batch, tmp_path):
    ok = run(["scan", str(batch / "scan.pdf"), "--no-ocr", "-o", str(tmp_path / "a.jsonl")])
    assert ok.returncode == 0, ok.stderr
    none = run(["scan", str(batch / "empty.tif"), "-o", str(tmp_path / "b.jsonl")])
    assert none.returncode == 4
    missing = run(["scan", str(tmp_path / "nope.pdf"), "-o", str(tmp_path / "c.jsonl")])
    assert missing.returncode == 4 and "nope.pdf" in missing.stderr
    usage = run(["scan"])
    assert usage.returncode == 2


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGKILL"])
def test_a_killed_scan_leaves_no_worker_behind(batch, tmp_path, sig):
    import signal
    import time

    many = tmp_path / "many"
    many.mkdir()
    for k in range(300):  # enough pages that the scan is still running when it is killed
        os.link(batch / "sub" / "p3.jpg", many / f"p{k:03d}.jpg")
    env = dict(os.environ, OMR_TEMPLATE_PATH=str(DATA))
    p = subprocess.Popen([sys.executable, "-m", "omr.cli", "scan", str(many), "--workers", "2", "--no-ocr", "--output",
                          str(tmp_path / "out.jsonl")], cwd=ROOT, env=env, stderr=subprocess.DEVNULL)

    def children() -> set[int]:
        out = set()
        for d in Path("/proc").iterdir():
            try:
                if d.name.isdigit() and int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == p.pid:
                    out.add(int(d.name))
            except (OSError, IndexError, ValueError):
                pass
        return out

    t0 = time.monotonic()
    while len(kids := children()) < 2 and time.monotonic() - t0 < 30:
        time.sleep(0.1)
    assert len(kids) >= 2 and p.poll() is None
    os.kill(p.pid, getattr(signal, sig))
    p.wait(timeout=30)
    t0 = time.monotonic()
    while (alive := {k for k in kids if Path(f"/proc/{k}").exists()
                     and Path(f"/proc/{k}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"}) and time.monotonic() - t0 < 15:
        time.sleep(0.2)
    for k in alive:  # clean up before failing
        os.kill(k, signal.SIGKILL)
    assert alive == set()
