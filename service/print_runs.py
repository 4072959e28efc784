"""Print runs: which serials of a round went to which agency. Data functions (the caller commits)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from omr.identity import SERIAL_DIGITS
from service.models import Page, PrintRun

MAX_SERIAL = 10**SERIAL_DIGITS - 1
MAX_RUN = 5000  # sheets in one print run (one PDF): about 10,000 A4 pages


@dataclass(frozen=True, slots=True)
class Allocation:
    run: PrintRun
    first: int
    last: int


def allocate(s: Session, round_id: int, agency: str | None, count: int, user: str) -> Allocation:
    """The next free serial range of the round, recorded for ``agency``. Two admins printing at once get
    two ranges: the start of a range is unique per round, so the later insert fails and takes the next."""
    for _ in range(20):
        start = (s.scalar(select(func.max(PrintRun.first_serial + PrintRun.count)).where(PrintRun.round_id == round_id)) or 1)
        if start + count - 1 > MAX_SERIAL:
            raise ValueError(f"the round has only {max(0, MAX_SERIAL - start + 1)} serials left (up to {MAX_SERIAL})")
        run = PrintRun(round_id=round_id, agency=agency, first_serial=start, count=count, created_by=user)
        try:
            with s.begin_nested():
                s.add(run)
        except IntegrityError:
            continue
        return Allocation(run, start, start + count - 1)
    raise RuntimeError("could not allocate serials: too many print runs at once")


def run_for_serial(s: Session, round_id: int, serial: str | None) -> PrintRun | None:
    """The print run a serial belongs to, or None."""
    if not serial or not serial.isdigit():
        return None
    n = int(serial)
    return s.scalar(select(PrintRun).where(PrintRun.round_id == round_id, PrintRun.first_serial <= n,
                                           PrintRun.first_serial + PrintRun.count > n).limit(1))


def has_runs(s: Session, round_id: int) -> bool:
    return s.scalar(select(PrintRun.id).where(PrintRun.round_id == round_id).limit(1)) is not None


def runs_json(s: Session, round_id: int) -> list[dict[str, Any]]:
    """Every print run of a round with the sheets returned from it (read, counted) and the response rate."""
    from service.tallies import RESPONDENT

    out = []
    for r in s.scalars(select(PrintRun).where(PrintRun.round_id == round_id).order_by(PrintRun.first_serial)):
        lo, hi = f"{r.first_serial:0{SERIAL_DIGITS}d}", f"{r.first_serial + r.count - 1:0{SERIAL_DIGITS}d}"
        returned = s.scalar(select(func.count(func.distinct(RESPONDENT))).where(
            Page.round_id == round_id, Page.status == "done", Page.result_status == "ok", Page.duplicate_of.is_(None),
            Page.sheet >= lo, Page.sheet <= hi)) or 0
        out.append({"id": r.id, "agency": r.agency, "first_serial": lo, "last_serial": hi, "count": r.count,
                    "returned": returned, "response_rate": round(returned / r.count, 4) if r.count else None,
                    "created_by": r.created_by, "created_at": r.created_at.isoformat()})
    return out


def response_rates(s: Session, round_id: int) -> dict[str, dict[str, Any]]:
    """Per agency: sheets printed, returned and returned / printed."""
    per: dict[str, dict[str, Any]] = {}
    for r in runs_json(s, round_id):
        d = per.setdefault(r["agency"] or "", {"printed": 0, "returned": 0})
        d["printed"] += r["count"]
        d["returned"] += r["returned"]
    for d in per.values():
        d["response_rate"] = round(d["returned"] / d["printed"], 4) if d["printed"] else None
    return per
