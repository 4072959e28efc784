"""Figures computed ahead: after the data of the figures changes (pages stored, decisions, imports) and has been
quiet for a moment, a background thread computes what the results page of each open round asks for first (the
round's indices with every agency's, unfiltered; the population of its quality sample) into the cache of
service.tallies, so that a reader opening the page after a batch gets figures already computed instead of
paying for a grouped pass over a round's million answers.

It only ever fills the cache under the revision the figures were computed at (``tallies.cached``); a reader
never waits for it (a request asking for the same figures while it computes them waits for that pass instead of
running its own). While changes keep coming (a batch being read) it computes at most once a ``busy_every``
seconds, so a long batch costs a grouped pass now and then, not one per page. After a pass it keeps SQLite's
planner statistics current as the round grows (``db.refresh_statistics``).
"""
from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from omr.errors import OmrError
from omr.template import load_template
from service import quality, tallies
from service.db import refresh_statistics
from service.models import Round

log = logging.getLogger("omr.warm")

ROUNDS = 4  # the newest open rounds computed ahead (an office works one or two at a time)


def warm(s: Session, rounds: int = ROUNDS) -> list[int]:
    """Compute the first figures of the newest open rounds into the cache; returns the ids of the rounds done."""
    done = []
    for r in s.scalars(select(Round).where(Round.state != "closed").order_by(Round.id.desc()).limit(rounds)):
        try:
            t = load_template(r.template, version=r.version)
        except (OmrError, KeyError, ValueError, OSError) as e:  # a form gone from the forms folder: its readers say so
            log.debug("round %s not computed ahead: %s", r.id, e)
            continue
        if t.indices is not None:
            tallies.round_figures(s, t, r.id)
        quality.accepted_population(s, r)
        done.append(r.id)
    return done


class Warmer:
    """The background thread: waits for a commit of this process that changes the figures (``tallies.listen``) or, every ``poll`` seconds,
    for a new revision written by another process; computes once the changes have been quiet for ``quiet``
    seconds, or ``busy_every`` seconds after the first of a run of changes."""

    def __init__(self, factory: sessionmaker, *, quiet: float = 2.0, busy_every: float = 60.0, poll: float = 10.0,
                 analyze_rows: int = 20_000) -> None:
        self.factory = factory
        self.quiet, self.busy_every, self.poll = quiet, busy_every, poll
        self.analyze_rows = analyze_rows  # SQLite's statistics are refreshed from this many answers on (db.refresh_statistics)
        self._stop = threading.Event()
        self._changed = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs = 0  # passes done (for tests and the log)
        self.done_at: tuple | None = None  # the revision of the data the last pass computed

    def start(self) -> None:
        self._stop.clear()
        self._changed = tallies.listen()
        self._thread = threading.Thread(target=self._loop, name="omr-warm", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._changed.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        tallies.unlisten(self._changed)

    def _settle(self) -> None:
        """Return once no change has come for ``quiet`` seconds, or ``busy_every`` after the first one."""
        first = time.monotonic()
        while not self._stop.is_set() and time.monotonic() - first < self.busy_every:
            self._changed.clear()
            if not self._changed.wait(self.quiet) or self._stop.is_set():
                return

    def _loop(self) -> None:
        seen = None
        while not self._stop.is_set():
            try:
                with self.factory() as s:
                    rev = tallies.revision(s)
                if rev != seen:
                    self._settle()
                    if self._stop.is_set():
                        return
                    with self.factory() as s:
                        seen = tallies.revision(s)
                        t0 = time.perf_counter()
                        ids = warm(s)
                        refresh_statistics(s.get_bind(), min_rows=self.analyze_rows)  # after: readers first
                    self.runs += 1
                    self.done_at = seen
                    log.debug("figures of rounds %s computed ahead in %.2f s", ids, time.perf_counter() - t0)
            except Exception:  # noqa: BLE001 - computing ahead is an optimisation: a reader computes what is missing
                log.exception("figures not computed ahead")
                self._stop.wait(self.poll)
            self._changed.wait(self.poll)
            self._changed.clear()
