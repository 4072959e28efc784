"""The ``omr`` command line (stable contract: see README).

    omr form list
    omr form render TEMPLATE --out FILE.pdf [--sheets N] [--first-serial K] [--agency CODE]
    omr form geometry TEMPLATE
    omr scan INPUT... [--output FILE.jsonl] [--workers N]
    omr tally RESULTS.jsonl --template T ...
    omr serve ... / omr user add NAME --role ROLE
    omr export --round R --format csv|csv-labels|xlsx|sav|json --out FILE [--agency A]

Exit codes: 0 success (every page read); 1 partial failure (some pages
unreadable or not recognised: see their lines); 2 bad usage or input;
3 invalid template; 4 no page could be read at all; 5 external program
missing or failed.
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence

from omr.errors import OmrError


def _cmd_form_list(args: argparse.Namespace) -> int:
    from omr.template import list_templates, load_template

    for name in list_templates():
        try:
            t = load_template(name)
            print(f"{t.id}\tv{t.version}\t{t.page_count} trang\t{t.title}" + (f" – {t.subtitle}" if t.subtitle else ""))
        except OmrError as exc:
            print(f"{name}\tLỖI\t{exc.message}")
    return 0


def _cmd_form_render(args: argparse.Namespace) -> int:
    from omr.identity import valid_agency
    from omr.render import render_pdf
    from omr.template import load_template

    if args.agency is not None and not valid_agency(args.agency):
        raise OmrError(f"--agency {args.agency!r}: use up to 20 letters, digits, '.', '_' or '-'")
    if args.sheets < 1:
        raise OmrError("--sheets must be at least 1")
    t = load_template(args.template)
    try:
        pages = render_pdf(t, args.out, sheets=args.sheets, first_serial=args.first_serial, agency=args.agency, layout_version=args.layout)
    except ValueError as exc:
        raise OmrError(str(exc)) from None
    first, last = pages[0].serial, pages[-1].serial
    print(f"{args.out}: {args.sheets} phiếu × {t.page_count} trang = {len(pages)} trang, số phiếu {first}–{last}", file=sys.stderr)
    return 0


def _cmd_form_geometry(args: argparse.Namespace) -> int:
    from omr.layout import geometry
    from omr.template import load_template

    json.dump(geometry(load_template(args.template), args.layout), sys.stdout, ensure_ascii=False, indent=1 if args.pretty else None)
    sys.stdout.write("\n")
    return 0


def _cmd_scan(args: argparse.Namespace) -> int:
    from omr.scan_cli import run_scan

    return run_scan(args)


CORE_COMMANDS = ("form", "scan")  # the recognition core's own: they need none of the service's modules


def build_parser(*, core_only: bool = False) -> argparse.ArgumentParser:
    """The whole command line; ``core_only``: without the commands registered from outside the
    core (importing them, SQLAlchemy and all, costs ~0.4 s of CPU that ``omr scan`` does not need)."""
    p = argparse.ArgumentParser(prog="omr", description="Đọc phiếu khảo sát sự hài lòng (OMR).")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    form = sub.add_parser("form", help="questionnaire templates: list, render, geometry")
    fsub = form.add_subparsers(dest="form_command", required=True, metavar="ACTION")
    fl = fsub.add_parser("list", help="list the shipped templates")
    fl.set_defaults(func=_cmd_form_list)
    fr = fsub.add_parser("render", help="print a template to PDF")
    fr.add_argument("template", help="template id (sipas-2017) or path to a YAML file")
    fr.add_argument("--out", required=True, help="the PDF to write")
    fr.add_argument("--sheets", type=int, default=1, help="how many sheets (respondents) to print")
    fr.add_argument("--first-serial", type=int, default=1, help="serial of the first sheet")
    fr.add_argument("--agency", help="agency code printed and encoded on every page")
    fr.add_argument("--layout", type=int, choices=(1, 2), default=2, help="layout version (1: as printed before identity rows; default 2)")
    fr.set_defaults(func=_cmd_form_render)
    fg = fsub.add_parser("geometry", help="print the position of every box as JSON (mm)")
    fg.add_argument("template")
    fg.add_argument("--pretty", action="store_true", help="indent the JSON")
    fg.add_argument("--layout", type=int, choices=(1, 2), default=2, help="layout version (default 2)")
    fg.set_defaults(func=_cmd_form_geometry)

    sc = sub.add_parser("scan", help="read scanned pages into JSON lines")
    sc.add_argument("inputs", nargs="+", metavar="INPUT", help="files or folders (PDF, TIFF, JPEG, PNG)")
    sc.add_argument("--output", "-o", help="JSON lines file to write (default: standard output)")
    sc.add_argument("--workers", "-j", type=int, default=1, help="worker processes (default 1)")
    sc.add_argument("--images-dir", help="also write each aligned page image here (PNG)")
    sc.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    sc.add_argument("--no-ocr", action="store_true", help="skip tesseract (free-text suggestions, footer fallback)")
    sc.set_defaults(func=_cmd_scan)

    # Commands that live outside the recognition core register themselves.
    hooks = (("service.tally_cli", "add_tally_parser"), ("service.cli", "add_service_parsers"),
             ("service.watch", "add_watch_parser"), ("service.backup", "add_backup_parsers"))
    for module, hook in () if core_only else hooks:
        try:
            mod = importlib.import_module(module)
        except ImportError:
            continue
        getattr(mod, hook)(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(core_only=bool(argv) and argv[0] in CORE_COMMANDS)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except OmrError as exc:
        print(f"omr: lỗi: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("omr: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
