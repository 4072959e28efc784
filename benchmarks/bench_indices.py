"""Speed of Python tallying: JSON lines -> sheets -> indices, frequencies and exports.

    python benchmarks/bench_indices.py --sheets 20000 [--template sipas-2017] [--seed 7]

Generates synthetic `omr scan` lines in memory (random answers, a few blank,
multiple and uncertain fields), then times each stage. A SIPAS province round
is about 5,000-20,000 sheets; the database path (service/tallies.py) feeds the
same formulas with SQL counts and is not measured here.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from omr.template import load_template  # noqa: E402
from service.exports import csv_bytes, xlsx_bytes  # noqa: E402
from service.indices import IndexSpec, iter_questions, question_options, rank_agencies  # noqa: E402
from service.tally_jsonl import frequencies, group_sheets, indices_by_agency, indices_for  # noqa: E402


def synth_lines(template, n: int, seed: int, agencies=("SNV", "STP", "SYT", "SGD")) -> list[str]:
    rnd = random.Random(seed)
    qs = [(p, q) for p, q in template.questions() if q.kind in ("single", "multiple")]
    lines = []
    for s in range(n):
        pages: dict[int, dict] = {}
        for p, q in qs:
            values = [o.value for o in question_options(q)]
            r = rnd.random()
            if r < 0.02:
                f = {"value": None, "status": "blank", "confidence": 0.99}
            elif r < 0.03:
                f = {"value": None, "status": "multiple", "confidence": 0.9}
            elif r < 0.04:
                f = {"value": None, "status": "uncertain", "confidence": 0.4}
            elif q.kind == "multiple":
                f = {"value": sorted(rnd.sample(values, min(2, len(values)))), "status": "answered", "confidence": 0.95}
            else:
                f = {"value": rnd.choice(values), "status": "answered", "confidence": 0.97}
            pages.setdefault(p, {})[q.id] = f
        for p in range(1, template.page_count + 1):
            lines.append(json.dumps({"source": "b.pdf", "index": 0, "status": "ok", "template": template.id,
                                     "version": template.version, "sheet": f"{s:06d}", "page": p,
                                     "agency": agencies[s % len(agencies)], "fields": pages.get(p, {})}))
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sheets", type=int, default=20000)
    ap.add_argument("--template", default="sipas-2017")
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    t = load_template(a.template)
    spec = IndexSpec.from_template(t)
    lines = synth_lines(t, a.sheets, a.seed)

    def timed(label, fn):
        t0 = time.perf_counter()
        out = fn()
        print(f"{label:<28} {time.perf_counter() - t0:8.3f} s")
        return out

    print(f"{a.sheets} sheets, {len(lines)} pages, {len(list(iter_questions(t)))} questions")
    pages = timed("parse JSON lines", lambda: [json.loads(x) for x in lines])
    sheets = timed("group pages into sheets", lambda: group_sheets(pages, t.id).sheets)
    r = timed("indices (all sheets)", lambda: indices_for(spec, sheets))
    timed("indices per agency + rank", lambda: rank_agencies(indices_by_agency(spec, sheets)))
    timed("frequencies", lambda: frequencies(t, sheets))
    timed("CSV export", lambda: csv_bytes(t, sheets))
    timed("XLSX export", lambda: xlsx_bytes(t, sheets, r))
    print(f"overall index {r.overall:.2f} (n={r.n}, pending {r.pending_review})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
