"""Satisfaction indices: the formulas, with their written definition beside them.

Pure functions over counts: no database, no files. The same functions are fed
by SQL aggregation (``service/tallies.py``) and by Python counting of
``omr scan`` JSON lines (:func:`tally_sheets`, used by ``service/tally_jsonl.py``).

Definitions (the common SIPAS method, Quyết định 2640/QĐ-BNV; see
``docs/template-format.md``, section ``indices``):

* A **valid answer** to a criterion is a final (``answered``) single-choice
  value that lies on the template's scale (``indices.scale``, e.g. 1..5).
  Blank fields and fields with several marks (``multiple``) are not valid
  answers. Fields awaiting a reviewer (``uncertain``) are **pending**: they
  are counted separately and never enter an index until a person settles them.
* **Criterion** (tiêu chí)::

      index = 100 × (valid answers whose value is in satisfied_values) / (valid answers)
      mean  = Σ value × count / (valid answers)                      (on the 1..5 scale)
      n     = valid answers            (one per sheet: a sheet answers a criterion once)

  With no valid answer, index and mean are ``None`` (never 0, never NaN).
* **Element** (yếu tố)::

      index = mean of the indices of its criteria that have n > 0
      mean  = mean of the means of those criteria
      n     = sheets with at least one valid answer among the element's criteria
      answers = Σ n of its criteria

* **Overall** (chỉ số hài lòng chung)::

      overall = mean of the element indices (elements with no valid answer skipped)
      mean    = mean of the element means
      n       = sheets with at least one valid answer to any criterion

* ``pending_review`` = criterion fields awaiting review, summed over criteria.

Each level is an unweighted mean of the level below, as in the published
SIPAS reports: a criterion answered by fewer people weighs as much as one
answered by everybody.

Agency ranking: by overall index, highest first; agencies equal at the
published precision (2 decimals) share a rank ("1, 1, 3"); agencies without
any valid answer come last, unranked. With a round's minimum sample
(``min_sample``), an agency whose n is below it is listed after the ranked
ones, marked ``below_min_sample``, and not ranked against them.

Uncertainty (``ci95``, in the index's own unit, %): every index carries the
95% Wilson score interval of the proportion ``index / 100`` from its n::

    p = index / 100,  z = 1.959964,  d = 1 + z²/n
    ci95 = 100 × [(p + z²/2n ∓ z·√(p(1 − p)/n + z²/4n²)) / d]

For a criterion this is the interval of its share of satisfied answers; for an
element or the overall index (means of criteria) it treats the index as a
share of its n sheets, the published convention for a figure's sampling error.
``None`` when n = 0.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Precision of published figures; also the precision at which ranks tie.
PUBLISHED_DECIMALS = 2
_JSON_DECIMALS = 4


# --------------------------------------------------------------------------
# What the formulas need to know about a template
# --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CriterionSpec:
    id: str
    text: str
    number: str | None = None
    labels: Mapping[int, str] = field(default_factory=dict)  # option value -> label


@dataclass(frozen=True, slots=True)
class ElementSpec:
    id: str
    name: str
    criteria: tuple[CriterionSpec, ...]


@dataclass(frozen=True, slots=True)
class IndexSpec:
    """The ``indices`` section of a template, with criterion texts resolved."""

    satisfied_values: frozenset[int]
    scale: tuple[int, int]
    elements: tuple[ElementSpec, ...]

    @property
    def criterion_ids(self) -> list[str]:
        return [c.id for e in self.elements for c in e.criteria]

    def in_scale(self, value: Any) -> bool:
        lo, hi = self.scale
        return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi

    @classmethod
    def from_template(cls, template: Any) -> "IndexSpec":
        """Build from an ``omr.template.Template`` (or anything shaped like one).

        Raises ``ValueError`` when the template has no ``indices`` section.
        """
        ind = getattr(template, "indices", None)
        if ind is None:
            raise ValueError(f"template {getattr(template, 'id', '?')} has no indices section")
        questions = {q.id: q for q in iter_questions(template)}
        elements = []
        for el in ind.elements:
            crits = []
            for cid in el.criteria:
                q = questions.get(cid)
                crits.append(
                    CriterionSpec(
                        id=cid,
                        text=q.text if q is not None else cid,
                        number=getattr(q, "number", None),
                        labels={o.value: o.label for o in question_options(q)} if q is not None else {},
                    )
                )
            elements.append(ElementSpec(id=el.id, name=el.name, criteria=tuple(crits)))
        return cls(
            satisfied_values=frozenset(ind.satisfied_values),
            scale=(int(ind.scale[0]), int(ind.scale[1])),
            elements=tuple(elements),
        )


def iter_questions(template: Any) -> Iterable[Any]:
    """The template's questions in print order (accepts ``(page, q)`` pairs or bare questions)."""
    for item in template.questions():
        yield item[1] if isinstance(item, tuple) else item


def question_options(q: Any) -> list[Any]:
    """A question's resolved options (objects with ``.value`` and ``.label``)."""
    opts = getattr(q, "option_list", None)
    if opts is None:
        opts = getattr(q, "options", None) or []
    return [o for o in opts if not isinstance(o, str)]


# --------------------------------------------------------------------------
# Input: counts
# --------------------------------------------------------------------------
@dataclass(slots=True)
class CriterionCounts:
    """Counts for one criterion over a set of sheets.

    ``values`` maps each *final* answered value to its count (values off the
    scale may be present and are ignored). ``pending`` counts fields awaiting
    review; ``blank`` and ``multiple`` are informative only.
    """

    values: dict[int, int] = field(default_factory=dict)
    pending: int = 0
    blank: int = 0
    multiple: int = 0


@dataclass(slots=True)
class Tally:
    """Everything the formulas need, as counts (SQL ``GROUP BY`` friendly).

    * ``criteria``: criterion id -> :class:`CriterionCounts`
    * ``element_sheets``: element id -> sheets with at least one valid answer
      among the element's criteria (a ``COUNT(DISTINCT sheet)``)
    * ``sheets_answered``: sheets with at least one valid criterion answer
    * ``sheets``: all sheets considered (informative)
    """

    criteria: dict[str, CriterionCounts] = field(default_factory=dict)
    element_sheets: dict[str, int] = field(default_factory=dict)
    sheets_answered: int = 0
    sheets: int = 0


def tally_sheets(spec: IndexSpec, sheets: Iterable[Mapping[str, Mapping[str, Any]]]) -> Tally:
    """Count criterion answers over sheets in Python.

    Each sheet is its ``fields`` mapping in the ``omr scan`` JSON form:
    ``{field_id: {"value": ..., "status": "answered"|"blank"|"multiple"|"uncertain"}}``.
    A field missing from a sheet counts as nothing at all.
    """
    t = Tally(criteria={cid: CriterionCounts() for cid in spec.criterion_ids})
    for fields in sheets:
        t.sheets += 1
        any_valid = False
        for el in spec.elements:
            el_valid = False
            for c in el.criteria:
                f = fields.get(c.id)
                if not f:
                    continue
                cc = t.criteria[c.id]
                status, value = f.get("status"), f.get("value")
                if status == "answered":
                    if value is None:
                        cc.blank += 1
                        continue
                    if isinstance(value, int) and not isinstance(value, bool):
                        cc.values[value] = cc.values.get(value, 0) + 1
                    if spec.in_scale(value):
                        el_valid = True
                elif status == "uncertain":
                    cc.pending += 1
                elif status == "multiple":
                    cc.multiple += 1
                elif status == "blank":
                    cc.blank += 1
            if el_valid:
                t.element_sheets[el.id] = t.element_sheets.get(el.id, 0) + 1
                any_valid = True
        if any_valid:
            t.sheets_answered += 1
    return t


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------
def _r(x: float | None, nd: int = _JSON_DECIMALS) -> float | None:
    return None if x is None else round(x, nd)


Z95 = 1.959963984540054  # the standard normal's 97.5th percentile


def wilson_interval(p: float, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion ``p`` (0..1) observed on ``n``; None when n = 0."""
    if n <= 0 or p is None:
        return None
    p = min(1.0, max(0.0, p))
    d = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / d
    half = z * (p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5 / d
    lo = 0.0 if p == 0 else max(0.0, centre - half)  # exact at the ends (rounding would leave 1e-18)
    hi = 1.0 if p == 1 else min(1.0, centre + half)
    return lo, hi


def index_ci95(index: float | None, n: int) -> tuple[float, float] | None:
    """The 95% interval of an index (%) from its n (see the module's docstring)."""
    if index is None:
        return None
    ci = wilson_interval(index / 100.0, n)
    return None if ci is None else (100.0 * ci[0], 100.0 * ci[1])


def _ci_json(index: float | None, n: int) -> list[float] | None:
    ci = index_ci95(index, n)
    return None if ci is None else [round(ci[0], _JSON_DECIMALS), round(ci[1], _JSON_DECIMALS)]


@dataclass(slots=True)
class CriterionResult:
    id: str
    text: str
    index: float | None
    mean: float | None
    n: int
    pending: int
    satisfied: int
    distribution: dict[int, int]  # every scale value, in order, with its count
    number: str | None = None
    blank: int = 0
    multiple: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "index": _r(self.index),
            "mean": _r(self.mean),
            "n": self.n,
            "pending": self.pending,
            "distribution": dict(self.distribution),
            "satisfied": self.satisfied,
            "number": self.number,
            "blank": self.blank,
            "multiple": self.multiple,
            "no_answer": self.no_answer,
            "shares": self.shares(),
            "ci95": _ci_json(self.index, self.n),
        }

    @property
    def no_answer(self) -> int:
        """Final answers that are no valid answer: left blank, or several boxes marked."""
        return self.blank + self.multiple

    def shares(self) -> dict[str, float | None]:
        """The answer distribution in percent of the criterion's final answers (valid answers and no answer;
        fields still waiting for review are not final and left out): each scale value, then ``no_answer``.
        All ``None`` when there is no final answer. The 100% bars of the results page draw these."""
        base = self.n + self.no_answer
        keys = [*(str(v) for v in self.distribution), "no_answer"]
        counts = [*self.distribution.values(), self.no_answer]
        return {k: (_r(100.0 * c / base) if base else None) for k, c in zip(keys, counts)}


@dataclass(slots=True)
class ElementResult:
    id: str
    name: str
    index: float | None
    mean: float | None
    n: int
    answers: int
    pending: int
    criteria: list[CriterionResult]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "index": _r(self.index),
            "mean": _r(self.mean),
            "n": self.n,
            "answers": self.answers,
            "pending": self.pending,
            "criteria": [c.to_json() for c in self.criteria],
            "ci95": _ci_json(self.index, self.n),
        }


@dataclass(slots=True)
class IndexResult:
    overall: float | None
    mean: float | None
    n: int
    elements: list[ElementResult]
    pending_review: int
    sheets: int = 0
    satisfied_values: tuple[int, ...] = (4, 5)
    scale: tuple[int, int] = (1, 5)

    def to_json(self) -> dict[str, Any]:
        return {
            "overall": _r(self.overall),
            "n": self.n,
            "elements": [e.to_json() for e in self.elements],
            "pending_review": self.pending_review,
            "mean": _r(self.mean),
            "sheets": self.sheets,
            "satisfied_values": list(self.satisfied_values),
            "scale": list(self.scale),
            "ci95": _ci_json(self.overall, self.n),
        }

    def criteria(self) -> list[CriterionResult]:
        return [c for e in self.elements for c in e.criteria]


def _mean(xs: Sequence[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def criterion_index(spec: IndexSpec, crit: CriterionSpec, counts: CriterionCounts) -> CriterionResult:
    """One criterion: share of satisfied answers among valid answers, and the mean score."""
    lo, hi = spec.scale
    dist = {v: 0 for v in range(lo, hi + 1)}
    for v, k in counts.values.items():
        if spec.in_scale(v) and k > 0:
            dist[v] += int(k)
    n = sum(dist.values())
    satisfied = sum(k for v, k in dist.items() if v in spec.satisfied_values)
    index = 100.0 * satisfied / n if n else None
    mean = sum(v * k for v, k in dist.items()) / n if n else None
    return CriterionResult(
        id=crit.id, text=crit.text, number=crit.number, index=index, mean=mean, n=n,
        pending=int(counts.pending), satisfied=satisfied, distribution=dist,
        blank=int(counts.blank), multiple=int(counts.multiple),
    )


def compute_indices(spec: IndexSpec, tally: Tally) -> IndexResult:
    """All levels: criteria, elements (mean of criteria), overall (mean of elements)."""
    elements = []
    for el in spec.elements:
        crits = [criterion_index(spec, c, tally.criteria.get(c.id, CriterionCounts())) for c in el.criteria]
        answered = [c for c in crits if c.n > 0]
        elements.append(
            ElementResult(
                id=el.id,
                name=el.name,
                index=_mean([c.index for c in answered]),  # type: ignore[misc]
                mean=_mean([c.mean for c in answered]),  # type: ignore[misc]
                n=int(tally.element_sheets.get(el.id, 0)),
                answers=sum(c.n for c in crits),
                pending=sum(c.pending for c in crits),
                criteria=crits,
            )
        )
    scored = [e for e in elements if e.index is not None]
    return IndexResult(
        overall=_mean([e.index for e in scored]),  # type: ignore[misc]
        mean=_mean([e.mean for e in scored if e.mean is not None]),
        n=int(tally.sheets_answered),
        elements=elements,
        pending_review=sum(e.pending for e in elements),
        sheets=int(tally.sheets),
        satisfied_values=tuple(sorted(spec.satisfied_values)),
        scale=spec.scale,
    )


def indices_from_sheets(spec: IndexSpec, sheets: Iterable[Mapping[str, Mapping[str, Any]]]) -> IndexResult:
    """Shortcut: :func:`tally_sheets` then :func:`compute_indices`."""
    return compute_indices(spec, tally_sheets(spec, sheets))


# --------------------------------------------------------------------------
# Agency ranking
# --------------------------------------------------------------------------
@dataclass(slots=True)
class AgencyRank:
    agency: str
    rank: int | None  # None: no valid answer, or n below the round's minimum sample: not ranked
    result: IndexResult
    name: str | None = None
    below_min_sample: bool = False

    @property
    def overall(self) -> float | None:
        return self.result.overall

    def to_json(self) -> dict[str, Any]:
        return {
            "agency": self.agency,
            "name": self.name,
            "rank": self.rank,
            "overall": _r(self.result.overall),
            "n": self.result.n,
            "result": self.result.to_json(),
            "ci95": _ci_json(self.result.overall, self.result.n),
            "ranked": self.rank is not None,
            "below_min_sample": self.below_min_sample,
        }


def rank_agencies(results: Mapping[str, IndexResult], names: Mapping[str, str] | None = None,
                  min_sample: int | None = None) -> list[AgencyRank]:
    """Agencies sorted by overall index, highest first, with competition ranks (1, 1, 3).

    Ties are judged at the published precision (:data:`PUBLISHED_DECIMALS`);
    tied agencies are listed by agency code. Agencies whose n is below
    ``min_sample`` follow, by index, marked and with ``rank=None``; agencies
    with no valid answer come last with ``rank=None``.
    """
    names = names or {}
    few = (lambda r: r.n < min_sample) if min_sample else (lambda r: False)
    scored = [(a, r) for a, r in results.items() if r.overall is not None and not few(r)]
    small = sorted(((a, r) for a, r in results.items() if r.overall is not None and few(r)),
                   key=lambda ar: (-round(ar[1].overall, PUBLISHED_DECIMALS), ar[0]))  # type: ignore[arg-type]
    unscored = sorted(a for a, r in results.items() if r.overall is None)
    scored.sort(key=lambda ar: (-round(ar[1].overall, PUBLISHED_DECIMALS), ar[0]))  # type: ignore[arg-type]
    out: list[AgencyRank] = []
    prev: float | None = None
    rank = 0
    for pos, (agency, res) in enumerate(scored, start=1):
        key = round(res.overall, PUBLISHED_DECIMALS)  # type: ignore[arg-type]
        if key != prev:
            rank, prev = pos, key
        out.append(AgencyRank(agency=agency, rank=rank, result=res, name=names.get(agency)))
    out.extend(AgencyRank(agency=a, rank=None, result=r, name=names.get(a), below_min_sample=True) for a, r in small)
    out.extend(AgencyRank(agency=a, rank=None, result=results[a], name=names.get(a),
                          below_min_sample=bool(min_sample) and results[a].n < min_sample) for a in unscored)
    return out


def ranking_to_json(ranking: Sequence[AgencyRank]) -> list[dict[str, Any]]:
    return [r.to_json() for r in ranking]


def _change(now: float | None, before: float | None) -> float | None:
    """Points up (+) or down (-) from ``before`` to ``now`` (figures in percent); ``None`` when either is missing."""
    return None if now is None or before is None else round(now - before, _JSON_DECIMALS)


def add_change(now: dict[str, Any], before: dict[str, Any]) -> None:
    """Write into ``now`` (an :meth:`IndexResult.to_json`) the change against ``before`` (the same questionnaire's
    figures of an earlier round): ``previous`` and ``change`` beside the overall index, each element's and each
    criterion's, matched by id (an element or criterion the earlier round lacks gets ``None``)."""
    now["previous"] = before.get("overall")
    now["change"] = _change(now.get("overall"), before.get("overall"))
    was = {e["id"]: e for e in before.get("elements", [])}
    was_c = {c["id"]: c for e in before.get("elements", []) for c in e["criteria"]}
    for e in now.get("elements", []):
        prev = was.get(e["id"], {}).get("index")
        e["previous"], e["change"] = prev, _change(e["index"], prev)
        for c in e["criteria"]:
            prev = was_c.get(c["id"], {}).get("index")
            c["previous"], c["change"] = prev, _change(c["index"], prev)


def add_agency_change(now: list[dict[str, Any]], before: list[dict[str, Any]]) -> None:
    """The same per agency of a :func:`ranking_to_json`: each agency's ``previous``/``change`` of its overall
    index and ``previous_rank``, and in its ``result`` the change of every element and criterion."""
    was = {a["agency"]: a for a in before}
    for a in now:
        b = was.get(a["agency"])
        a["previous"] = b["overall"] if b else None
        a["change"] = _change(a["overall"], a["previous"])
        a["previous_rank"] = b["rank"] if b else None
        add_change(a["result"], b["result"] if b else {})


def value_counts(values: Iterable[int]) -> dict[int, int]:
    """Small helper for callers building :class:`CriterionCounts` by hand."""
    return dict(Counter(values))
