"""``omr scan``: files and folders in, one JSON line per page out.

Pages are planned as chunks of a file (``CHUNK_PAGES`` pages each) and read in
a process pool; results come back in input order and are written as they
arrive, so memory stays flat and a long batch shows progress.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import cv2

cv2.setNumThreads(1)  # one page per process: parallelism comes from the worker pool

from omr.errors import OmrError
from omr.io import count_pages, expand_inputs, iter_pages
from omr.pipeline import BLANK_PAGE, ScanOptions, process_loaded
from omr.procs import keep_page_memory, reader_process

CHUNK_PAGES = 4

EXIT_OK = 0
EXIT_PARTIAL = 1  # some pages were unreadable or not recognised
EXIT_USAGE = 2
EXIT_NOTHING = 4  # no page at all could be read


def plan(paths: list[str]) -> list[tuple[str, int, int]]:
    tasks = []
    for p in paths:
        n = count_pages(p)
        for start in range(0, n, CHUNK_PAGES):
            tasks.append((p, start, min(n, start + CHUNK_PAGES)))
    return tasks


def _work(task: tuple[str, int, int, ScanOptions, str | None]) -> list[dict[str, Any]]:
    path, start, stop, options, images_dir = task
    out = []
    for lp in iter_pages(path, start, stop):
        po = process_loaded(lp, options)
        d = po.result.to_json()
        if images_dir and po.aligned is not None:
            name = f"{Path(path).name}.p{lp.index:04d}.png"
            cv2.imwrite(os.path.join(images_dir, name), po.aligned)
            d["image"] = name
        out.append(d)
    return out


def scan(
    paths: list[str], *, workers: int = 1, options: ScanOptions = ScanOptions(), images_dir: str | None = None,
    planned: list[tuple[str, int, int]] | None = None,
) -> Iterator[dict[str, Any]]:
    """Page results (JSON dicts) in input order. ``planned``: ``plan(paths)``, when the caller has it already."""
    tasks = [(p, a, b, options, images_dir) for p, a, b in (planned if planned is not None else plan(paths))]
    if workers <= 1:
        keep_page_memory()
        for t in tasks:
            yield from _work(t)
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=reader_process) as pool:
        for chunk in pool.map(_work, tasks, chunksize=1):
            yield from chunk


class _Progress:
    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.done, self.enabled = total, 0, enabled
        self.t0 = time.monotonic()
        self.last = 0.0

    def step(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if self.enabled and (now - self.last > 0.2 or self.done == self.total):
            self.last = now
            rate = self.done / max(now - self.t0, 1e-6)
            width = 30
            filled = int(width * self.done / max(self.total, 1))
            eta = (self.total - self.done) / rate if rate > 0 else 0
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} trang  {rate:.1f} trang/s  còn {eta:.0f} s ")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def run_scan(args: argparse.Namespace) -> int:
    missing = [p for p in args.inputs if not os.path.exists(p)]
    paths = expand_inputs([p for p in args.inputs if os.path.exists(p)])
    if args.workers < 1:
        raise OmrError("--workers must be at least 1")
    if args.images_dir:
        os.makedirs(args.images_dir, exist_ok=True)
    options = ScanOptions(ocr=not getattr(args, "no_ocr", False))
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    statuses: Counter[str] = Counter()
    review = 0
    streaked = 0  # pages with a scanner streak: the operator should clean the glass
    blank = 0  # empty pages (back sides scanned in duplex)
    t0 = time.monotonic()
    try:
        for p in missing:
            line = {"source": p, "index": 0, "status": "error", "error": "no such file or folder"}
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
            statuses["error"] += 1
            print(f"omr: {p}: no such file or folder", file=sys.stderr)
        if not paths and not missing:
            raise OmrError("no scan files found in the inputs (PDF, TIFF, JPEG, PNG)")
        planned = plan(paths)
        progress = _Progress(sum(b - a for _, a, b in planned), enabled=not args.no_progress and sys.stderr.isatty() or bool(os.environ.get("OMR_PROGRESS")))
        for d in scan(paths, workers=args.workers, options=options, images_dir=args.images_dir, planned=planned):
            out.write(json.dumps(d, ensure_ascii=False) + "\n")
            statuses[d["status"]] += 1
            review += sum(1 for f in d.get("fields", {}).values() if f["status"] in ("multiple", "uncertain"))
            streaked += any("scanner streak" in w for w in d.get("warnings", ()))
            blank += d["status"] == "unrecognized" and d.get("error") == BLANK_PAGE
            if d["status"] != "ok":
                sys.stderr.write(("\n" if progress.enabled else "") + f"omr: {d['source']}: page {d['index'] + 1}: {d['status']}: {d.get('error')}\n")
            progress.step()
        progress.close()
    finally:
        if out is not sys.stdout:
            out.close()
    total = sum(statuses.values())
    dt = time.monotonic() - t0
    print(
        f"omr scan: {total} trang: {statuses['ok']} đọc được, {statuses['unrecognized']} không nhận dạng được, "
        f"{statuses['error']} lỗi; {review} câu cần kiểm tra lại; {dt:.1f} s ({total / max(dt, 1e-6):.1f} trang/s)",
        file=sys.stderr,
    )
    if blank:
        print(f"omr scan: {blank} trang trắng (mặt sau khi quét hai mặt?); không có gì để đọc.", file=sys.stderr)
    if streaked:
        print(f"omr scan: {streaked} trang có vệt dọc do bụi trên kính máy quét (đã tự loại bỏ khi đọc); hãy lau kính máy quét.",
              file=sys.stderr)
    if total and statuses["ok"] == 0:
        return EXIT_NOTHING
    return EXIT_OK if statuses["ok"] == total else EXIT_PARTIAL
