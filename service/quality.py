"""Quality control of the engine on a round's own scans: the blind double check of a sample of the answers
the engine accepted by itself, and the error rate measured from it.

* **Sample.** Every answer the engine accepted by itself (a counted page's single-choice, multiple-choice or
  code field, ``answered`` or ``blank``, never queued for review) is drawn with probability ``rate`` (the
  round's ``qc_rate``, default 1 in 200). The draw is a fixed function of (round, page, field): drawing again
  draws the same answers, and answers read later are drawn as they arrive (``rounds.qc_upto``).
* **Blind check.** A reviewer reads the crop without the engine's answer. The same reading: the engine was
  right. Another reading: a second reviewer reads it, blind too; the second reading stands. It differs from
  the engine's: the engine was wrong, and the answer is corrected to it (audited).
* **Error rate** of accepted answers = wrong / checked, with the Wilson score 95% interval::

      p̂ = k / n,  z = 1.959964
      centre = (p̂ + z²/2n) / (1 + z²/n)
      half   = z · √(p̂(1 − p̂)/n + z²/4n²) / (1 + z²/n)
      ci95   = [centre − half, centre + half]

  (Wilson, 1927; it stays inside [0, 1] and is honest at k = 0, where p̂ ± z·SE would claim [0, 0]).
  **Estimated wrong** answers in the round = error rate × the accepted answers (population), with the
  interval scaled alike. Above the round's limit (``qc_limit``, default: an upper bound of 0.5%) the admin
  is warned before publishing.
"""
from __future__ import annotations

import hashlib
import math
import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from omr.layout import layout
from omr.template import load_template
from service.indices import Z95, wilson_interval
from service import tallies
from service.models import Answer, QualityCheck, ReviewItem, Round

DEFAULT_RATE = 1 / 200
DEFAULT_LIMIT = 0.005
CHECKED_KINDS = ("single", "multiple", "code")  # free text is always read by a person: nothing to measure
ACCEPTED = ("answered", "blank")


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion k/n (None when n = 0)."""
    if n <= 0:
        return None
    if not 0 <= k <= n:
        raise ValueError(f"k must lie in 0..n (k={k}, n={n})")
    return wilson_interval(k / n, n, z)


def drawn(round_id: int, page_id: int, field_id: str, rate: float) -> bool:
    """Whether an answer falls in the sample: a fixed function of the answer, true for a share ``rate``."""
    if rate <= 0:
        return False
    h = hashlib.sha256(f"qc:{round_id}:{page_id}:{field_id}".encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64 < rate


def round_rate(r: Round) -> float:
    return DEFAULT_RATE if r.qc_rate is None else float(r.qc_rate)


def round_limit(r: Round) -> float:
    return DEFAULT_LIMIT if r.qc_limit is None else float(r.qc_limit)


def checked_fields(template_id: str, version: int | None = None) -> list[str]:
    t = load_template(template_id, version=version)
    return [f.id for p in layout(t).pages for f in p.fields if f.kind in CHECKED_KINDS]


def _accepted(round_id: int, fields: list[str]):  # noqa: ANN202
    """The answers the engine accepted by itself: counted, the engine's, final, never queued for review."""
    queued = exists().where(ReviewItem.page_id == Answer.page_id, ReviewItem.field_id == Answer.field_id)
    return and_(Answer.round_id == round_id, Answer.counted.is_(True), Answer.source == "engine",
                Answer.status.in_(ACCEPTED), Answer.field_id.in_(fields), ~queued)


_drawing: dict[int, threading.Lock] = {}
_drawing_guard = threading.Lock()


def accepted_count(s: Session, round_id: int, fields: list[str]) -> int:
    """How many answers ``_accepted`` holds: the engine's final answers, less those ever queued for review, counted
    from the round's review items (the NOT EXISTS of ``_accepted`` reads every answer's row for its page id: 4 s for
    1.4 million answers on SQLite; here the first count is read from an index, the second from the few items)."""
    final = and_(Answer.round_id == round_id, Answer.counted.is_(True), Answer.source == "engine",
                 Answer.status.in_(ACCEPTED), Answer.field_id.in_(fields))
    total = s.scalar(select(func.count()).select_from(Answer).where(final)) or 0
    queued = (select(ReviewItem.page_id, ReviewItem.field_id).distinct()  # an answer queued twice is one answer
              .where(ReviewItem.round_id == round_id, ReviewItem.field_id.is_not(None),
                     exists().where(Answer.page_id == ReviewItem.page_id, Answer.field_id == ReviewItem.field_id, final)))
    return total - (s.scalar(select(func.count()).select_from(queued.subquery())) or 0)


def accepted_population(s: Session, r: Round) -> int:
    """``accepted_count`` of the round's checked fields, cached per revision of the data (a count over every answer)."""
    fields = checked_fields(r.template, r.version)
    return tallies.cached(s, ("qc_population", r.id, r.template, r.version), lambda: accepted_count(s, r.id, fields))


def draw_pending(s: Session, r: Round, *, wait: bool = True) -> bool:
    """``draw_sample`` and commit, one request of this process at a time per round. With ``wait=False`` a request
    that finds another one drawing goes on at once with the sample as committed (a first draw over a round
    loaded in bulk reads every accepted answer; pages reading the figures must not queue behind it)."""
    with _drawing_guard:
        lock = _drawing.setdefault(r.id, threading.Lock())
    if not lock.acquire(blocking=wait):
        return False
    try:
        draw_sample(s, r)
        s.commit()
        return True
    finally:
        lock.release()


def draw_sample(s: Session, r: Round) -> int:
    """Add to the round's sample the accepted answers read since the last draw; returns how many were added.
    Not committed."""
    rate = round_rate(r)
    fields = checked_fields(r.template, r.version)
    top = s.scalar(select(func.max(Answer.id)).where(Answer.round_id == r.id)) or 0
    if top <= (r.qc_upto or 0):
        return 0
    added = 0
    if rate > 0:
        rows = s.execute(select(Answer.page_id, Answer.field_id, Answer.value, Answer.status)
                         .where(_accepted(r.id, fields), Answer.id > (r.qc_upto or 0), Answer.id <= top))
        picks = [row for row in rows if drawn(r.id, row[0], row[1], rate)]  # the fixed draw first: ~1 in 200
        have = set()
        if picks:
            pages = sorted({p for p, *_ in picks})
            for i in range(0, len(pages), 500):
                have |= {(p, f) for p, f in s.execute(select(QualityCheck.page_id, QualityCheck.field_id)
                                                      .where(QualityCheck.round_id == r.id,
                                                             QualityCheck.page_id.in_(pages[i:i + 500])))}
        for page_id, field_id, value, status in picks:
            if (page_id, field_id) not in have:
                s.add(QualityCheck(round_id=r.id, page_id=page_id, field_id=field_id, engine_value=value,
                                   engine_status=status))
                have.add((page_id, field_id))
                added += 1
    r.qc_upto = top
    return added


@dataclass(frozen=True, slots=True)
class QualitySummary:
    sampled: int
    checked: int
    disagreements: int  # first readings that differ from the engine's (settled or waiting for the second)
    wrong: int  # checked answers the engine had wrong (the second reading stands)
    pending: int
    population: int  # the round's answers accepted by the engine by itself
    rate: float
    limit: float
    second_readings: int  # disagreements settled by a second reviewer
    second_agrees_first: int  # ... where the second reader read as the first did

    @property
    def error_rate(self) -> float | None:
        return self.wrong / self.checked if self.checked else None

    @property
    def ci95(self) -> tuple[float, float] | None:
        return wilson(self.wrong, self.checked)

    @property
    def estimated_wrong(self) -> int | None:
        return None if self.error_rate is None else round(self.error_rate * self.population)

    @property
    def over_limit(self) -> bool:
        ci = self.ci95
        return ci is not None and ci[1] > self.limit

    def to_json(self) -> dict[str, Any]:
        ci = self.ci95
        warning = None
        if self.over_limit:
            warning = (f"the engine's measured error rate may exceed the round's limit of {100 * self.limit:.2f}%: "
                       f"95% interval up to {100 * ci[1]:.2f}% ({self.wrong} wrong of {self.checked} checked); "
                       "review more, or say so when publishing")
        elif self.checked == 0 and self.sampled:
            warning = "no answer of the quality sample is checked yet: the engine's error rate is not measured"
        return {
            "sampled": self.sampled, "checked": self.checked, "disagreements": self.disagreements,
            "error_rate": None if self.error_rate is None else round(self.error_rate, 6),
            "ci95": None if ci is None else [round(ci[0], 6), round(ci[1], 6)],
            "estimated_wrong": self.estimated_wrong,
            "estimated_wrong_ci95": None if ci is None else [math.floor(ci[0] * self.population), math.ceil(ci[1] * self.population)],
            "wrong": self.wrong, "pending": self.pending, "population": self.population,
            "rate": self.rate, "limit": self.limit, "over_limit": self.over_limit, "warning": warning,
            "second_readings": self.second_readings, "second_agrees_first": self.second_agrees_first,
        }


def summary(s: Session, r: Round) -> QualitySummary:
    rows = s.execute(select(QualityCheck.state, QualityCheck.wrong, QualityCheck.first_value, QualityCheck.first_status,
                            QualityCheck.second_value, QualityCheck.second_status, QualityCheck.engine_value,
                            QualityCheck.engine_status).where(QualityCheck.round_id == r.id)).all()
    checked = wrong = disagree = pending = seconds = agree = 0
    for state, w, fv, fs, sv, ss, ev, es in rows:
        if state == "done":
            checked += 1
            wrong += bool(w)
        else:
            pending += 1
        if fs is not None and (fv, fs) != (ev, es):
            disagree += 1
            if ss is not None:
                seconds += 1
                agree += (sv, ss) == (fv, fs)
    population = accepted_population(s, r) + wrong
    return QualitySummary(sampled=len(rows), checked=checked, disagreements=disagree, wrong=wrong, pending=pending,
                          population=population, rate=round_rate(r), limit=round_limit(r),
                          second_readings=seconds, second_agrees_first=agree)
