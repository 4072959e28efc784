"""``omr tally``: scan results (JSON lines) in, satisfaction indices and exports out.

    omr tally RESULTS.jsonl [--template T] [--agency A] [--group QID=VALUE]...
              [--round NAME] [--out-dir DIR] [--formats csv,xlsx,sav,json,html,pdf]

Prints the index table (and the agency ranking when there are several
agencies) to standard output; writes the chosen exports into DIR. Exit codes:
0 success; 2 bad input (missing or unreadable results file, bad JSON on a
line, unknown template, no sheet of the template, bad option); 3 invalid
template file. ``omr.cli`` registers the command through
:func:`add_tally_parser`.
"""
from __future__ import annotations

import argparse
import sys
import unicodedata
from pathlib import Path
from typing import Any, TextIO

from omr.errors import OmrError, TemplateError
from service.exports import FORMATS as DATA_FORMATS
from service.exports import write_exports
from service.indices import AgencyRank, IndexResult, IndexSpec, iter_questions, question_options, rank_agencies
from service.report import build_report, fmt_int, fmt_num, write_report
from service.tally_jsonl import (
    filter_sheets,
    group_sheets,
    indices_by_agency,
    indices_for,
    parse_group_filter,
    read_results,
)

ALL_FORMATS = (*DATA_FORMATS, "html", "pdf")
DEFAULT_FORMATS = ",".join(ALL_FORMATS)
EXIT_OK, EXIT_BAD_INPUT = 0, 2


class TallyInputError(OmrError):
    exit_code = EXIT_BAD_INPUT


def add_tally_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``tally`` on an ``argparse`` subparsers object (from ``omr.cli``)."""
    p = subparsers.add_parser(
        "tally",
        help="compute satisfaction indices from scan results and write exports",
        description="Tính chỉ số hài lòng từ kết quả đọc phiếu (JSON lines của `omr scan`) và xuất báo cáo.",
    )
    p.add_argument("results", metavar="RESULTS.jsonl", help="the output of `omr scan`")
    p.add_argument("--template", "-t", help="template id or YAML file (default: the one template found in RESULTS)")
    p.add_argument("--agency", "-a", action="append", help="only sheets of this agency code (repeatable)")
    p.add_argument("--group", "-g", action="append", default=[], metavar="QUESTION=VALUE",
                   help="only respondents with this answer, e.g. gioi_tinh=2 (repeatable)")
    p.add_argument("--round", dest="round_name", help="round name printed on the report, e.g. 'Đợt khảo sát năm 2025'")
    p.add_argument("--out-dir", "-o", help="folder for the exports (default: print only, or the current folder when --formats is given)")
    p.add_argument("--formats", "-f", help=f"comma-separated, from {DEFAULT_FORMATS} (default: all, when --out-dir is given)")
    p.set_defaults(func=run_tally)
    return p


def run_tally(args: argparse.Namespace) -> int:
    """Run ``omr tally``; returns the exit code. Errors are printed to stderr, naming the file and problem."""
    try:
        return _run(args, sys.stdout)
    except OmrError as exc:
        print(f"omr tally: lỗi: {exc.message}", file=sys.stderr)
        return exc.exit_code


def _load_template(name: str) -> Any:
    from omr.template import load_template

    try:
        return load_template(name)
    except TemplateError as exc:
        if exc.where in ("(name)", "(file)"):  # not found: bad input, not an invalid template
            raise TallyInputError(exc.message) from None
        raise


def _formats(args: argparse.Namespace) -> tuple[list[str], Path | None]:
    if args.formats is None:
        fmts = list(ALL_FORMATS) if args.out_dir else []
    else:
        fmts = [f.strip().lower() for f in args.formats.split(",") if f.strip()]
    bad = [f for f in fmts if f not in ALL_FORMATS]
    if bad:
        raise TallyInputError(f"--formats: unknown format(s) {', '.join(bad)} (known: {DEFAULT_FORMATS})")
    out = Path(args.out_dir) if args.out_dir else (Path(".") if fmts else None)
    return fmts, out


def _run(args: argparse.Namespace, out: TextIO) -> int:
    fmts, out_dir = _formats(args)
    groups: dict[str, list[int]] = {}
    for g in args.group or []:
        try:
            qid, value = parse_group_filter(g)
        except ValueError as exc:
            raise TallyInputError(f"--group: {exc}") from None
        groups.setdefault(qid, []).append(value)

    pages = read_results(args.results)
    if args.template:
        template = _load_template(args.template)
    else:
        found = sorted({p.get("template") for p in pages if p.get("status") == "ok" and p.get("template")})
        if len(found) != 1:
            raise TallyInputError(
                f"{args.results}: " + ("no recognised page, give --template" if not found
                                       else f"pages of several templates ({', '.join(found)}): choose one with --template")
            )
        template = _load_template(found[0])
    if template.indices is None:
        raise TallyInputError(f"template {template.id} has no 'indices' section: nothing to compute")
    qids = {q.id: q for q in iter_questions(template)}
    for qid in groups:
        if qid not in qids or qids[qid].kind != "single":
            raise TallyInputError(f"--group: '{qid}' is not a single-choice question of template {template.id}")

    ss = group_sheets(pages, template.id)
    if not ss.sheets:
        other = f" (found: {', '.join(f'{k} ({v} pages)' for k, v in ss.templates.items())})" if ss.templates else ""
        raise TallyInputError(f"{args.results}: no sheet of template {template.id} among {len(pages)} page(s){other}")

    spec = IndexSpec.from_template(template)
    sheets = filter_sheets(ss.sheets, agency=args.agency, groups=groups or None)
    result = indices_for(spec, sheets)
    ranking = rank_agencies(indices_by_agency(spec, sheets)) if len({s.agency or "" for s in sheets}) > 1 else []
    scope = _describe_filters(args.agency, groups, qids)

    print_table(result, ranking, out=out, title=f"{template.title} – {template.id} v{template.version}", scope=scope)

    if fmts:
        assert out_dir is not None
        data_fmts = [f for f in fmts if f in DATA_FORMATS]
        written = write_exports(out_dir, data_fmts, template, sheets, result, ranking=ranking,
                                meta={"source": str(args.results), "filters": scope, "round": args.round_name})
        report_fmts = [f for f in fmts if f in ("html", "pdf")]
        if report_fmts:
            ctx = build_report(template, result, round_name=args.round_name or f"Kết quả đọc phiếu: {Path(args.results).name}",
                               ranking=ranking, filters=scope, pages_read=ss.pages_ok, pages_skipped=ss.pages_skipped)
            for f in report_fmts:
                # "-bao-cao" (report): never the name of the printed form (omr form render's sipas-2017.pdf)
                written[f] = write_report(out_dir / f"{template.id}-bao-cao.{f}", ctx, f)
        for f, p in written.items():
            print(f"đã ghi {f}: {p}", file=sys.stderr)
    return EXIT_OK


def _describe_filters(agencies: list[str] | None, groups: dict[str, list[int]], qids: dict[str, Any]) -> str | None:
    parts = []
    if agencies:
        parts.append("Đơn vị: " + ", ".join(agencies))
    for qid, values in groups.items():
        labels = {o.value: o.label for o in question_options(qids[qid])}
        parts.append(f"{qids[qid].text}: " + ", ".join(labels.get(v, str(v)) for v in values))
    return "; ".join(parts) or None


# --------------------------------------------------------------------------
# The text table
# --------------------------------------------------------------------------
def display_width(s: str) -> int:
    """Terminal columns: combining marks take none, wide (CJK) characters two."""
    w = 0
    for ch in s:
        if unicodedata.combining(ch):
            continue
        w += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return w


def _fit(s: str, width: int, align: str = "<") -> str:
    s = unicodedata.normalize("NFC", s)
    if display_width(s) > width:
        while s and display_width(s) > width - 1:
            s = s[:-1]
        s = s.rstrip() + "…"
    pad = " " * (width - display_width(s))
    return s + pad if align == "<" else pad + s


def print_table(result: IndexResult, ranking: list[AgencyRank] | None = None, *, out: TextIO = sys.stdout,
                title: str | None = None, scope: str | None = None, name_width: int = 58) -> None:
    """The index table (and the ranking), aligned, Vietnamese headers."""
    cols = [("Mã", 5, "<"), ("Yếu tố / tiêu chí", name_width, "<"), ("Chỉ số (%)", 10, ">"),
            ("Điểm TB", 7, ">"), ("n", 7, ">"), ("Chờ duyệt", 9, ">")]

    def line(cells: list[str]) -> str:
        return "  ".join(_fit(c, w, a) for c, (_, w, a) in zip(cells, cols)).rstrip()

    if title:
        print(title, file=out)
    if scope:
        print(f"Phạm vi: {scope}", file=out)
    print(line([c[0] for c in cols]), file=out)
    print("  ".join("-" * w for _, w, _ in cols), file=out)
    print(line(["", "CHỈ SỐ HÀI LÒNG CHUNG", fmt_num(result.overall), fmt_num(result.mean), fmt_int(result.n),
                fmt_int(result.pending_review)]), file=out)
    for e in result.elements:
        print(line([e.id, e.name, fmt_num(e.index), fmt_num(e.mean), fmt_int(e.n),
                    fmt_int(e.pending)]), file=out)
        for c in e.criteria:
            print(line([c.id, f"  {c.number or c.id}. {c.text}", fmt_num(c.index), fmt_num(c.mean), fmt_int(c.n),
                        fmt_int(c.pending)]), file=out)
    print(f"Số phiếu đã đọc: {fmt_int(result.sheets)}; có câu trả lời hợp lệ: {fmt_int(result.n)}; "
          f"số ô chờ duyệt: {fmt_int(result.pending_review)}"
          + (" (kết quả tạm thời)" if result.pending_review else ""), file=out)
    if ranking and len(ranking) > 1:
        print("", file=out)
        print("Xếp hạng đơn vị", file=out)
        rcols = [("Hạng", 4, ">"), ("Đơn vị", 30, "<"), ("Chỉ số chung (%)", 16, ">"), ("n", 7, ">")]
        print("  ".join(_fit(h, w, a) for h, w, a in rcols).rstrip(), file=out)
        print("  ".join("-" * w for _, w, _ in rcols), file=out)
        for r in ranking:
            cells = ["–" if r.rank is None else str(r.rank), r.name or r.agency or "(không ghi)", fmt_num(r.overall),
                     fmt_int(r.result.n)]
            print("  ".join(_fit(c, w, a) for c, (_, w, a) in zip(cells, rcols)).rstrip(), file=out)
