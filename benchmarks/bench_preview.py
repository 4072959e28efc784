"""Preview latency while typing, server side: POST /api/templates/check + /preview for a two-page form
(sipas-2017), one character added to a criterion's text per request, as the designer sends them.

    .venv/bin/python benchmarks/bench_preview.py [--requests 60]

Prints p50/p95/max per request (check and preview of the page being edited), in milliseconds. The browser's
own figure (typing to image shown) is benchmarks/bench_designer.py.
"""
from __future__ import annotations

import argparse
import copy
import statistics
import tempfile
import time
from pathlib import Path

import yaml
from fastapi.testclient import TestClient

from omr.template import TEMPLATES_DIR
from service.app import create_app
from service.auth import add_user
from service.settings import Settings


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=60)
    args = ap.parse_args()
    draft = yaml.safe_load((TEMPLATES_DIR / "sipas-2017.yaml").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as d:
        app = create_app(Settings(data_dir=Path(d), start_workers=False, ocr=False))
        with TestClient(app) as c:
            with app.state.factory() as s, s.begin():
                h = {"Authorization": f"Bearer {add_user(s, 'admin', 'admin')}"}
            q = draft["pages"][1]["sections"][0]["questions"][0]
            base = q["text"]
            typed = " rõ"  # page 2 is full: a few characters more fit on the same line
            times = {"check": [], "preview": []}
            for i in range(args.requests):
                q["text"] = base + typed[: i % len(typed)]
                body = {"template": copy.deepcopy(draft)}
                t0 = time.perf_counter()
                r = c.post("/api/templates/check", headers=h, json=body)
                t1 = time.perf_counter()
                p = c.post("/api/templates/preview?page=2", headers=h, json=body)
                t2 = time.perf_counter()
                assert r.json()["ok"] and p.status_code == 200, (r.text[:200], p.status_code)
                if i >= 3:  # the first requests warm the caches (fonts, lines)
                    times["check"].append((t1 - t0) * 1000)
                    times["preview"].append((t2 - t1) * 1000)
    for k, v in times.items():
        v.sort()
        print(f"{k:8s} n={len(v)}  p50 {statistics.median(v):6.1f} ms  p95 {v[int(0.95 * (len(v) - 1))]:6.1f} ms  max {v[-1]:6.1f} ms")
    both = sorted(a + b for a, b in zip(times["check"], times["preview"]))
    print(f"check+preview  p95 {both[int(0.95 * (len(both) - 1))]:6.1f} ms")


if __name__ == "__main__":
    main()
