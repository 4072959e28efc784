"""Accuracy of the engine against generated pages with ground truth.

    python benchmarks/bench_accuracy.py --sheets 1000 --seed 901 [--dir DIR] [--workers 2]

Generates the pages with samples.generate (a seed the tests do not use) unless
--dir points at an existing generated folder, runs `omr scan` on it, and
prints: pages lost or unread, fields wrongly accepted without review, fields
sent to review, and tables per mark style and per degradation.

A field is *wrongly accepted* when the engine says answered/blank and either
its value differs from the truth or the truth is genuinely ambiguous (two
marks, a lone faint dot, a ring around a box). Free-text fields are counted
apart: writing always goes to a person to type.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def norm(v):
    if isinstance(v, list):
        return sorted(v)
    return v


def field_style(t: dict) -> str:
    marks = t.get("marks") or {}
    styles = sorted({(m[0] if isinstance(m, list) else m) for m in marks.values()})
    if not styles:
        return "blank"
    return "+".join(styles)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", help="an existing generated folder (with truth.jsonl)")
    ap.add_argument("--sheets", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=901)
    ap.add_argument("--profile", default="bench")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--templates", default="sipas-2017,hue-2017")
    ap.add_argument("--show-wrong", type=int, default=10, help="print this many wrongly accepted fields")
    args = ap.parse_args()

    work = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="omr-acc-"))
    if not args.dir:
        t0 = time.monotonic()
        cmd = [sys.executable, "-m", "samples.generate", "--out", str(work), "--sheets", str(args.sheets),
               "--seed", str(args.seed), "--profile", args.profile, "--workers", str(args.workers)]
        for t in args.templates.split(","):
            cmd += ["--template", t]
        subprocess.run(cmd, check=True, cwd=ROOT)
        print(f"generated in {time.monotonic() - t0:.0f} s: {work}", file=sys.stderr)
    truth = [json.loads(line) for line in (work / "truth.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    out = work / "results.jsonl"
    t0 = time.monotonic()
    subprocess.run([sys.executable, "-m", "omr.cli", "scan", str(work), "--workers", str(args.workers),
                    "--output", str(out), "--no-progress"], cwd=ROOT)
    scan_s = time.monotonic() - t0
    results = {}
    for line in out.read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        src = str(Path(d["source"]).relative_to(work)) if d["source"].startswith(str(work)) else d["source"]
        results[(src, d["index"])] = d

    pages = forms = lost = unread = bad_expected = bad_ok = 0
    tot = Counter()
    by_style: dict[str, Counter] = defaultdict(Counter)
    by_deg: dict[str, Counter] = defaultdict(Counter)
    wrong_examples = []
    for t in truth:
        pages += 1
        r = results.get((t["source"], t["index"]))
        if "expect_status" in t:
            bad_expected += 1
            if r is not None and r["status"] == t["expect_status"] or (r is not None and r["status"] != "ok"):
                bad_ok += 1
            if r is None:
                lost += 1
            continue
        forms += 1
        if r is None:
            lost += 1
            continue
        degs = t.get("degradations") or ["none"]
        if r["status"] != "ok" or r.get("sheet") != t.get("sheet") or r.get("page") != t.get("page"):
            unread += 1
            for dg in degs:
                by_deg[dg]["pages_unread"] += 1
            continue
        for dg in degs:
            by_deg[dg]["pages"] += 1
        for fid, ft in t["fields"].items():
            rf = r["fields"].get(fid)
            if rf is None:
                continue
            is_text = ft.get("kind") == "text" or ("has_writing" in rf)
            cat = "text" if is_text else "omr"
            c = Counter()
            c[f"{cat}_fields"] += 1
            ambiguous = bool(ft.get("ambiguous"))
            if ambiguous:
                c[f"{cat}_ambiguous"] += 1
            if rf["status"] in ("multiple", "uncertain"):
                c[f"{cat}_review"] += 1
            elif not is_text:
                expect = norm(ft.get("value"))
                got = norm(rf.get("value")) if rf["status"] == "answered" else None
                if ambiguous or got != expect:
                    c["omr_wrong"] += 1
                    if len(wrong_examples) < args.show_wrong:
                        wrong_examples.append((t["source"], t["index"], fid, ft, rf))
            elif is_text and (rf.get("has_writing") is False) != (ft.get("value") in (None, "")):
                c["text_wrong"] += 1
            tot.update(c)
            by_style[field_style(ft) if not is_text else "text"].update(c)
            for dg in degs:
                by_deg[dg].update(c)

    n = max(tot["omr_fields"], 1)
    print(f"# Accuracy ({work})")
    print(f"pages in truth: {pages} (forms {forms}, bad inputs {bad_expected}); scan took {scan_s:.1f} s")
    print(f"pages lost (no output line): {lost}")
    print(f"form pages not read (unrecognized/error/wrong identity): {unread} ({unread / max(forms, 1):.2%})")
    print(f"bad inputs reported as not ok: {bad_ok}/{bad_expected}")
    print(f"OMR fields: {tot['omr_fields']}; genuinely ambiguous: {tot['omr_ambiguous']} ({tot['omr_ambiguous'] / n:.2%})")
    print(f"  wrongly accepted without review: {tot['omr_wrong']} ({tot['omr_wrong'] / n:.4%}; bar 0.02%)")
    print(f"  sent to review: {tot['omr_review']} ({tot['omr_review'] / n:.2%}; bar 5%)")
    print(f"free-text fields: {tot['text_fields']}, with writing sent to review: {tot['text_review']}, writing missed/invented: {tot['text_wrong']}")
    print()
    print("| mark style | fields | ambiguous | review | wrong accepted |")
    print("|---|---:|---:|---:|---:|")
    for k, c in sorted(by_style.items(), key=lambda kv: -kv[1]["omr_fields"] - kv[1]["text_fields"]):
        f = c["omr_fields"] + c["text_fields"]
        print(f"| {k} | {f} | {c['omr_ambiguous']} | {c['omr_review'] + c['text_review']} ({(c['omr_review'] + c['text_review']) / max(f, 1):.1%}) | {c['omr_wrong']} |")
    print()
    print("| degradation | pages read | pages not read | OMR fields | review | wrong accepted |")
    print("|---|---:|---:|---:|---:|---:|")
    for k, c in sorted(by_deg.items()):
        print(f"| {k} | {c['pages']} | {c['pages_unread']} | {c['omr_fields']} | {c['omr_review'] / max(c['omr_fields'], 1):.2%} | {c['omr_wrong']} |")
    if wrong_examples:
        print("\nwrongly accepted (first few):")
        for src, idx, fid, ft, rf in wrong_examples:
            print(f"  {src}#{idx} {fid}: truth {ft} -> engine {rf}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
