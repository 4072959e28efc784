"""Speed and memory of `omr scan` against merely decoding the same files.

    python benchmarks/bench_speed.py --dir GENERATED_DIR [--workers 2] [--limit N]

Prints, for the same files in the same run:
- decode only: every page decoded to pixels on one core (Pillow for images,
  the embedded image for scanner PDFs), pages/s;
- end to end: `omr scan --workers N` from files to JSON lines, pages/s;
- their ratio (the bar: at least 0.8);
- peak resident memory of the largest `omr scan` process (parent or worker);
- the CPU time of both (decode only: this process's; `omr scan`: its own and its
  workers', user + system) and the ratio they give on an idle machine with N
  cores: N x decode CPU / scan CPU. On a machine shared with other jobs the
  wall-clock ratio measures the other jobs as much as the reader (the two
  passes do not get the same cores), the CPU ratio does not; the load average
  is printed for that reason.
Run it on 10 and on 2,000 pages to see that memory stays flat.
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from omr.io import SCAN_SUFFIXES  # noqa: E402


def decode_only(files: list[Path]) -> int:
    from PIL import Image, ImageSequence
    from pypdf import PdfReader

    n = 0
    for f in files:
        with open(f, "rb") as fh:
            head = fh.read(5)
        try:
            if head.startswith(b"%PDF"):
                for page in PdfReader(f).pages:
                    for img in page.images:
                        img.image.convert("L").load()
                    n += 1
            else:
                with Image.open(f) as im:
                    for frame in ImageSequence.Iterator(im):
                        frame.convert("L").load()
                        n += 1
        except Exception:  # noqa: BLE001 - broken files cost what they cost
            n += 1
    return n


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="use only the first N files")
    args = ap.parse_args()
    files = sorted(p for p in Path(args.dir).rglob("*") if p.suffix.lower() in SCAN_SUFFIXES and p.stat().st_size > 0)
    if args.limit:
        files = files[: args.limit]
    # warm the page cache so both passes read from memory
    for f in files:
        f.read_bytes()
    load0 = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), time.process_time()
    pages = decode_only(files)
    t_dec, c_dec = time.perf_counter() - t0, time.process_time() - c0
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "files"
        out = Path(tmp) / "out.jsonl"
        t0 = time.perf_counter()
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.run(
            [sys.executable, "-m", "omr.cli", "scan", *map(str, files), "--workers", str(args.workers), "--output", str(out), "--no-progress"],
            cwd=ROOT, stderr=subprocess.PIPE, text=True,
        )
        t_e2e = time.perf_counter() - t0
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        c_e2e = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
        lines = sum(1 for _ in out.open(encoding="utf-8"))
        del listing
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    dec_rate = pages / t_dec
    e2e_rate = lines / t_e2e
    print(f"files: {len(files)}, pages decoded: {pages}, result lines: {lines} (exit {proc.returncode})")
    print(f"decode only, 1 core: {t_dec:.2f} s, {dec_rate:.1f} pages/s")
    print(f"omr scan --workers {args.workers}: {t_e2e:.2f} s, {e2e_rate:.1f} pages/s")
    print(f"ratio end-to-end / decode-only: {e2e_rate / dec_rate:.2f}")
    print(f"peak RSS of the largest omr scan process: {peak_mb:.0f} MB")
    print(f"CPU: decode only {1000 * c_dec / max(pages, 1):.1f} ms/page; omr scan (all processes) {1000 * c_e2e / max(lines, 1):.1f} ms/page")
    print(f"ratio on an idle machine with {args.workers} cores ({args.workers} x decode CPU / scan CPU): "
          f"{args.workers * (c_dec / max(pages, 1)) / max(c_e2e / max(lines, 1), 1e-9):.2f}")
    print(f"cpus: {os.cpu_count()}; load average {load0:.1f} before, {os.getloadavg()[0]:.1f} after")
    return 0


if __name__ == "__main__":
    sys.exit(main())
