"""The review queue: claim, show, decide, undo; every change audited."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal

import cv2
import numpy as np
from fastapi import APIRouter, Query, Request, Response
from pydantic import ConfigDict, Field
from sqlalchemy import and_, func, or_, select, update

from omr.crops import CROP_MARGIN_MM, field_crop, page_thumbnail
from omr.layout import PX_PER_MM, layout
from omr.template import Template, load_template
from service.deps import AnyUser, Reviewer, SessionDep
from service.errors import ApiError
from service.params import MAX_ID, BatchFilter, ItemId, OptionalRoundRef, RequestBody, text_query
from service.templates import known_template
from service.guards import open_rounds, require_open
from service.models import Answer, AuditEntry, Page, ReviewItem, Round, UploadedFile, utcnow
from service.queries import resolve_round

router = APIRouter(prefix="/api", tags=["review"])


_MISSING = object()


class Decision(RequestBody):
    """A reviewer's decision. Field items: ``value`` (or ``invalid: true`` for several marks, no valid answer).
    Page items: ``keep`` (duplicate sheet), ``template``/``page``/``sheet`` (place the page on a form),
    ``manual`` (every field of that page keyed in from the image), ``retry`` (read the page again) or
    ``not_questionnaire`` — at the top level or inside ``value``. ``revision``: the item's revision as shown
    (a stale one is refused with 409); ``expected``: the value being corrected (older clients)."""

    value: Any = None
    expected: Any = _MISSING
    revision: int | None = None
    invalid: bool = False

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="allow")

    def page_fields(self) -> dict[str, Any]:
        out = dict(self.value) if isinstance(self.value, dict) else {}
        out.update({k: v for k, v in (self.model_extra or {}).items()})
        return out


MARKED_KINDS = ("marked", "filled")
UNPRINTED_SERIAL = "serial not printed for this round"  # service.worker.UNPRINTED_SERIAL


def _aware(dt: datetime | None) -> datetime | None:
    if dt is not None and dt.tzinfo is None:
        return dt.replace(tzinfo=timezone.utc)
    return dt


def _field_geo(page: Page, field_id: str):  # noqa: ANN202
    t = load_template(page.template, version=page.version)
    page_no, f = layout(t).field(field_id)
    return t, page_no, f


def _page_ref(p: Page, filename: str | None) -> dict[str, Any]:
    return {"id": p.id, "sheet": p.sheet, "page": p.page_no, "batch_id": p.batch_id, "source": filename, "index": p.index,
            "respondent": p.respondent or p.sheet,
            "image_url": f"/api/pages/{p.id}/image" if p.image_sha256 else None,
            "aligned_image_url": f"/api/pages/{p.id}/aligned" if p.aligned_sha256 else None}


def item_json(s, item: ReviewItem) -> dict[str, Any]:  # noqa: ANN001
    page = s.get(Page, item.page_id)
    out: dict[str, Any] = {
        "id": item.id, "page_id": item.page_id, "field_id": item.field_id, "kind": item.kind, "reason": item.reason,
        "confidence": item.confidence, "state": item.state, "claimed_by": item.claimed_by,
        "claim_expires_at": _aware(item.claim_expires_at).isoformat() if item.claim_expires_at else None,
        "decided_by": item.decided_by, "batch_id": item.batch_id, "round_id": item.round_id,
        "page_image_url": f"/api/pages/{page.id}/aligned" if page.aligned_sha256 else (f"/api/pages/{page.id}/image" if page.image_sha256 else None),
        "sheet": page.sheet, "page": page.page_no, "template": page.template,
        "status": None, "value": None, "options": [], "question": None, "field_kind": None, "text_suggestion": None,
        "image_url": f"/api/review/{item.id}/crop.png",
        "revision": item.revision,
    }
    if item.kind == "field" and item.field_id:
        a = s.scalar(select(Answer).where(Answer.page_id == item.page_id, Answer.field_id == item.field_id))
        _, _, f = _field_geo(page, item.field_id)
        marks = [m.get("value") for m in (a.marks or []) if m.get("kind") in MARKED_KINDS] if a is not None else []
        status = a.status if a else None
        out.update(
            status=status, value=a.value if a else None, text_suggestion=a.text_suggestion if a else None,
            question=f.text, field_kind=f.kind, digits=f.digits,
            options=[{"value": o.value, "label": o.label} for o in f.options if o.digit in (None, 0)],
            source=a.source if a else None,
            marks=marks,
            # what Enter would store: the engine's reading; none at all for several marks (that is no answer)
            proposed=None if status == "multiple" or a is None else a.value,
        )
    else:
        f = s.get(UploadedFile, page.file_id)
        out.update(status="unrecognized" if item.reason == "unrecognized page" else item.reason, question=item.reason,
                   field_kind="page", value=None, page_error=page.error, source=f.filename if f else None,
                   can_read=page.aligned_sha256 is not None, can_retry=page.image_sha256 is not None)
        if item.reason == "duplicate sheet" and page.duplicate_of:
            other = s.get(Page, page.duplicate_of)
            of = s.get(UploadedFile, other.file_id) if other else None
            out["other_page"] = _page_ref(other, of.filename if of else None) if other else None
    return out


def _claim_next(s, user: str, scope, order: str, claim_seconds: int, exclude: list[int] = ()) -> ReviewItem | None:  # noqa: ANN001
    now = utcnow()
    free = or_(ReviewItem.claimed_by.is_(None), ReviewItem.claimed_by == user, ReviewItem.claim_expires_at < now)
    q = select(ReviewItem.id).where(ReviewItem.state == "pending", scope, free)
    if exclude:
        q = q.where(ReviewItem.id.not_in(list(exclude)))
    mine_first = (ReviewItem.claimed_by == user).desc()
    if order == "page":
        q = q.order_by(mine_first, ReviewItem.page_id, ReviewItem.order_key, ReviewItem.id)
    else:
        q = q.order_by(mine_first, ReviewItem.confidence, ReviewItem.page_id, ReviewItem.order_key, ReviewItem.id)
    for (item_id,) in s.execute(q.limit(20)).all():
        # conditional update: exactly one reviewer wins an item, on SQLite and PostgreSQL alike
        res = s.execute(
            update(ReviewItem)
            .where(ReviewItem.id == item_id, ReviewItem.state == "pending", free)
            .values(claimed_by=user, claim_expires_at=now + timedelta(seconds=claim_seconds))
        )
        if res.rowcount == 1:
            s.commit()
            return s.get(ReviewItem, item_id)
        s.rollback()
    return None


@router.get("/review/next", responses={204: {"description": "nothing left to review"}})
def review_next(request: Request, s: SessionDep, user: Reviewer, batch: BatchFilter = None, round: OptionalRoundRef = None,
                order: Annotated[str, Query(pattern="^(confidence|page)$")] = "confidence",
                exclude: Annotated[str, Query(max_length=20_000, description="comma-separated item ids to skip")] = "") -> Any:
    """The next item for the caller, claimed for them; ``exclude`` (ids) lets a client preload the one after."""
    if batch is not None:
        scope = ReviewItem.batch_id == batch
    elif round is not None:
        scope = ReviewItem.round_id == resolve_round(s, round).id
    else:
        raise ApiError(422, "say which queue: batch=ID or round=R")
    if order not in ("confidence", "page"):
        raise ApiError(422, "order is 'confidence' or 'page'")
    # ids of 1 to 10 ASCII digits within what the databases hold; anything else names no item and is skipped
    skip = [int(x) for x in (p.strip() for p in exclude.split(",")) if re.fullmatch(r"[0-9]{1,10}", x) and 0 < int(x) <= MAX_ID]
    item = _claim_next(s, user.name, scope & ReviewItem.round_id.in_(open_rounds()), order,
                       request.app.state.settings.claim_seconds, skip)
    if item is None:
        return Response(status_code=204)
    return item_json(s, item)


# --------------------------------------------------------------------------
# Grid review: pending field items grouped by question, reason and proposed value; a screen of one
# group decided at once (``POST /api/review/bulk``: all or nothing, every item audited alone)
# --------------------------------------------------------------------------
GRID_MAX = 200  # items one bulk decision (or one grid) may carry
GRID_DEFAULT = 30


def _proposal(status: str | None, value: Any) -> Any:
    """What accepting an item stores: the engine's reading; nothing for several marks (no valid answer)."""
    return None if status == "multiple" else value


def group_key(field_id: str, reason: str, status: str | None, proposed: Any) -> str:
    """The opaque key of a group: items of one question, one reason and one proposal."""
    return json.dumps([field_id, reason, status, proposed], ensure_ascii=False, separators=(",", ":"))


def _scope(s, round: str | None, batch: int | None):  # noqa: ANN001, ANN202
    if batch is not None:
        return ReviewItem.batch_id == batch
    if round is not None:
        return ReviewItem.round_id == resolve_round(s, round).id
    raise ApiError(422, "say which queue: batch=ID or round=R")


def _parse_key(key: str) -> tuple[str, str, str | None, Any] | None:
    try:
        k = json.loads(key)
    except ValueError:
        return None
    if not (isinstance(k, list) and len(k) == 4 and isinstance(k[0], str) and isinstance(k[1], str)
            and (k[2] is None or isinstance(k[2], str))):
        return None
    return k[0], k[1], k[2], k[3]


def review_groups_of(s, scope, user: str, *, ids_per_group: int = 0, only: str | None = None) -> list[dict[str, Any]]:  # noqa: ANN001
    """Pending field items of open rounds grouped by (question, reason, status, proposal), largest first
    (free-text questions left out: their writing is typed in one by one). ``free``: the items nobody else holds now; ``item_ids``: the first ``ids_per_group`` free ones."""
    now = utcnow()
    q = (select(ReviewItem.id, ReviewItem.field_id, ReviewItem.reason, ReviewItem.claimed_by, ReviewItem.claim_expires_at,
                Answer.status, Answer.value, Page.template, Page.version)
         .join(Answer, and_(Answer.page_id == ReviewItem.page_id, Answer.field_id == ReviewItem.field_id))
         .join(Page, Page.id == ReviewItem.page_id)
         .where(scope, ReviewItem.state == "pending", ReviewItem.kind == "field", ReviewItem.round_id.in_(open_rounds())))
    if only is not None:  # one group: its question, reason and status narrow the scan; the proposal is compared below
        k = _parse_key(only)
        if k is None:
            return []
        q = q.where(ReviewItem.field_id == k[0], ReviewItem.reason == k[1],
                    Answer.status.is_(None) if k[2] is None else Answer.status == k[2])
        if isinstance(k[3], int) and not isinstance(k[3], bool):
            q = q.where(Answer.value_int == k[3])
    rows = s.execute(q.order_by(ReviewItem.confidence, ReviewItem.page_id, ReviewItem.order_key, ReviewItem.id)).all()
    groups: dict[str, dict[str, Any]] = {}
    for iid, fid, reason, claimed_by, expires, status, value, template, version in rows:
        proposed = _proposal(status, value)
        key = group_key(fid, reason, status, proposed)
        g = groups.get(key)
        if g is None:
            g = groups[key] = {"key": key, "field_id": fid, "reason": reason, "status": status, "proposed": proposed,
                               "template": (template, version), "count": 0, "free": 0, "item_ids": []}
        g["count"] += 1
        held = claimed_by not in (None, user) and expires is not None and _aware(expires) > now
        if not held:
            g["free"] += 1
            if len(g["item_ids"]) < ids_per_group:
                g["item_ids"].append(iid)
    out = []
    for g in sorted(groups.values(), key=lambda g: (-g["count"], g["field_id"], g["key"])):
        question, label, kind = None, None, None
        try:
            _, f = layout(load_template(*g.pop("template"))).field(g["field_id"])
            question, kind = f.text, f.kind
            label = next((o.label for o in f.options if o.value == g["proposed"]), None)
        except Exception:  # noqa: BLE001  a form no longer loaded: the group is still listed by its field id
            pass
        if kind == "text":
            continue  # handwriting is typed in one by one: a grid has nothing to accept
        g.update(question=question, proposed_label=label, field_kind=kind)
        out.append(g)
    return out


@router.get("/review/groups")
def review_groups(s: SessionDep, user: Reviewer, round: OptionalRoundRef = None, batch: BatchFilter = None,
                  ids: Annotated[int, Query(ge=0, le=GRID_MAX, description="list up to this many free item ids per group")] = 0,
                  ) -> dict[str, Any]:
    """The pending field items of a round (or a batch) grouped by question, reason and the engine's proposal,
    largest group first: what a grid shows at once."""
    groups = review_groups_of(s, _scope(s, round, batch), user.name, ids_per_group=ids)
    return {"round": round, "batch": batch, "groups": groups, "items": sum(g["count"] for g in groups)}


@router.get("/review/grid", responses={204: {"description": "nothing left to review"}})
def review_grid(request: Request, s: SessionDep, user: Reviewer, round: OptionalRoundRef = None, batch: BatchFilter = None,
                group: Annotated[str | None, text_query("a group's key from /api/review/groups (default: the largest "
                                                        "group with free items)", max_length=4000)] = None,
                size: Annotated[int, Query(ge=1, le=GRID_MAX, description="crops on the screen")] = GRID_DEFAULT) -> Any:
    """The next grid for the caller: up to ``size`` items of one group, claimed for them, as the queue shows items.
    Naming the group of the last grid (``group``) continues it at the cost of that group alone; 204 once it is empty."""
    scope = _scope(s, round, batch)
    groups = [g for g in review_groups_of(s, scope, user.name, ids_per_group=GRID_MAX, only=group) if g["free"]]
    if group is not None:
        groups = [g for g in groups if g["key"] == group]
    if not groups:
        return Response(status_code=204)
    g = groups[0]
    now = utcnow()
    free = or_(ReviewItem.claimed_by.is_(None), ReviewItem.claimed_by == user.name, ReviewItem.claim_expires_at < now)
    wanted = g["item_ids"][:size]
    s.execute(update(ReviewItem).where(ReviewItem.id.in_(wanted), ReviewItem.state == "pending", free)
              .values(claimed_by=user.name, claim_expires_at=now + timedelta(seconds=request.app.state.settings.claim_seconds)))
    s.commit()
    mine = s.scalars(select(ReviewItem).where(ReviewItem.id.in_(wanted), ReviewItem.claimed_by == user.name,
                                              ReviewItem.state == "pending")).all()
    order = {iid: k for k, iid in enumerate(wanted)}
    items = [item_json(s, it) for it in sorted(mine, key=lambda it: order[it.id])]
    if not items:
        return Response(status_code=204)
    g = {k: v for k, v in g.items() if k != "item_ids"}
    # groups_left: counted only when no group was named (naming one scans that group alone)
    return {"group": g, "items": items, "groups_left": len(groups) if group is None else None}


BulkId = Annotated[int, Field(ge=1, le=MAX_ID, description="a review item's id")]


class BulkItem(RequestBody):
    """One item of a bulk decision: its id, the revision shown, and (optionally) its own value or ``invalid``."""

    id: BulkId
    revision: int | None = Field(default=None, ge=0, le=MAX_ID)
    value: Any = None
    invalid: bool = False


class BulkDecision(RequestBody):
    """Many field items decided at once: ``items`` (ids, or ``{"id", "revision", "value"?}``) and what to store
    in them: ``accept: true`` (each its engine's proposal), ``value``, or ``invalid: true``; an item's own
    ``value``/``invalid`` overrides. All or nothing: any item held by someone else, stale or decided meanwhile
    refuses the whole request with 409 naming them."""

    items: list[BulkId | BulkItem] = Field(min_length=1, max_length=GRID_MAX)
    accept: bool = False
    value: Any = None
    invalid: bool = False


class BulkUndo(RequestBody):
    """Undo the caller's decisions of these items (a grid's), all or nothing."""

    items: list[BulkId] = Field(min_length=1, max_length=GRID_MAX)


def _bulk_items(s, raw: list[Any]) -> list[tuple[ReviewItem, BulkItem]]:  # noqa: ANN001
    wanted = [x if isinstance(x, BulkItem) else BulkItem(id=x) for x in raw]
    ids = [w.id for w in wanted]
    if any(not (0 < i <= MAX_ID) for i in ids):
        raise ApiError(422, f"item ids are whole numbers from 1 to {MAX_ID}")
    if len(set(ids)) != len(ids):
        raise ApiError(422, "an item is named twice")
    found = {it.id: it for it in s.scalars(select(ReviewItem).where(ReviewItem.id.in_(ids)))}
    missing = [i for i in ids if i not in found]
    if missing:
        raise ApiError(404, f"no review item {', '.join(map(str, missing[:20]))}")
    pages = [found[i] for i in ids if found[i].kind != "field"]
    if pages:
        raise ApiError(422, f"items {', '.join(str(p.id) for p in pages[:20])} are pages: decide them one by one")
    for rid in {it.round_id for it in found.values()}:
        require_open(s, rid)
    return sorted(((found[w.id], w) for w in wanted), key=lambda p: p[0].id)


def _bulk_conflict(s, items: list[ReviewItem], why: str) -> ApiError:  # noqa: ANN001
    s.rollback()
    out = []
    for it in items:
        s.refresh(it)
        out.append({"id": it.id, "state": it.state, "claimed_by": it.claimed_by, "decided_by": it.decided_by,
                    "revision": it.revision})
    return ApiError(409, why, conflicts=out)


@router.post("/review/bulk")
def review_bulk(body: BulkDecision, s: SessionDep, user: Reviewer) -> dict[str, Any]:
    """Decide many field items at once (a grid): every item audited alone; 409 for any item someone else
    holds, that changed since the revision sent or was decided meanwhile, applying none."""
    pairs = _bulk_items(s, body.items)
    now = utcnow()
    held = [it for it, _ in pairs if it.state == "pending" and it.claimed_by not in (None, user.name)
            and _aware(it.claim_expires_at) > now]
    if held:
        raise _bulk_conflict(s, held, "items are being reviewed by someone else (có mục đang được người khác xử lý): "
                                      + ", ".join(f"{it.id} ({it.claimed_by})" for it in held[:20]))
    stale = [it for it, w in pairs if (w.revision is not None and w.revision != it.revision)
             or (w.revision is None and it.state != "pending")]
    if stale:
        raise _bulk_conflict(s, stale, "items were decided meanwhile (có mục vừa được quyết định): "
                                       + ", ".join(str(it.id) for it in stale[:20]))
    plan = []
    for it, w in pairs:
        page = s.get(Page, it.page_id)
        a = s.scalar(select(Answer).where(Answer.page_id == it.page_id, Answer.field_id == it.field_id))
        _, _, f = _field_geo(page, it.field_id)
        if "value" in w.model_fields_set or w.invalid:
            value_src, invalid = w.value, w.invalid
        elif body.accept:
            value_src = _proposal(a.status if a else None, a.value if a else None)
            invalid = a is not None and a.status == "multiple"
        elif "value" in body.model_fields_set or body.invalid:
            value_src, invalid = body.value, body.invalid
        else:
            raise ApiError(422, "say what to store: accept: true (the engine's proposals), value, or invalid: true")
        if invalid:
            if f.kind not in ("single", "code"):
                raise ApiError(422, f"{f.id}: only a single-choice or code question can be invalid (several marks)")
            value, status = None, "multiple"
        else:
            value, status = _check_value(f, value_src)
        plan.append((it, page, a, value, status))
    taken = []
    for it, page, a, value, status in plan:
        was_pending = it.state == "pending"
        if not _take(s, it, user.name, it.revision, done=True):
            raise _bulk_conflict(s, [p[0] for p in plan], "items were decided meanwhile by another reviewer "
                                                          "(có mục vừa được người khác quyết định)")
        if a is None:
            a = Answer(page_id=page.id, round_id=page.round_id, field_id=it.field_id, status=status, source="reviewer")
            s.add(a)
        old = {"value": a.value, "status": a.status, "source": a.source}
        a.value, a.status, a.source, a.updated_by, a.confidence = value, status, "reviewer", user.name, 1.0
        a.value_int = value if isinstance(value, int) and not isinstance(value, bool) else None
        s.add(AuditEntry(user=user.name, action="review" if was_pending else "correct", page_id=page.id,
                         field_id=it.field_id, old=old, new={"value": value, "status": status, "item": it.id, "mode": "grid"}))
        taken.append({"item": it.id, "page_id": page.id, "field_id": it.field_id, "value": value, "status": status,
                      "revision": it.revision})
    s.flush()
    from service.worker import recount

    for pid in sorted({p[1].id for p in plan}):
        recount(s, s.get(Page, pid))
    s.commit()
    return {"decided": len(taken), "items": taken}


@router.post("/review/bulk/undo")
def review_bulk_undo(body: BulkUndo, request: Request, s: SessionDep, user: Reviewer) -> dict[str, Any]:
    """Undo a grid: the caller's decisions of these items go back, all or nothing; the items are pending again (theirs)."""
    if len(set(body.items)) != len(body.items) or any(not (0 < i <= MAX_ID) for i in body.items):
        raise ApiError(422, f"item ids are distinct whole numbers from 1 to {MAX_ID}")
    items = sorted(s.scalars(select(ReviewItem).where(ReviewItem.id.in_(body.items))), key=lambda it: it.id)
    if len(items) != len(body.items):
        missing = sorted(set(body.items) - {it.id for it in items})
        raise ApiError(404, f"no review item {', '.join(map(str, missing[:20]))}")
    pages = set()
    for it in items:
        _undo_one(s, it, user, request.app.state.settings.claim_seconds)
        pages.add(it.page_id)
    s.flush()
    from service.worker import recount

    for pid in sorted(pages):
        recount(s, s.get(Page, pid))
    s.commit()
    return {"undone": len(items), "items": [item_json(s, it) for it in items]}


# --------------------------------------------------------------------------
# Reviewers' work
# --------------------------------------------------------------------------
DECISIONS = ("review", "correct", "reject page", "retry page", "accept serial", "settle duplicate", "manual entry", "place page")
IDLE_SECONDS = 300  # a pause longer than this between two decisions counts as this long (a break, not work)


def reviewer_stats(s, round_id: int) -> list[dict[str, Any]]:  # noqa: ANN001
    """Per reviewer: decisions (grid and single), undos, active hours (gaps between decisions, each at most
    IDLE_SECONDS) and items per active hour; the blind double check's readings and their agreement."""
    from service.models import QualityCheck

    rows = s.execute(select(AuditEntry.user, AuditEntry.action, AuditEntry.at, AuditEntry.new)
                     .join(Page, Page.id == AuditEntry.page_id)
                     .where(Page.round_id == round_id, AuditEntry.action.in_((*DECISIONS, "undo")))
                     .order_by(AuditEntry.user, AuditEntry.at, AuditEntry.id)).all()
    by: dict[str, dict[str, Any]] = {}
    last: dict[str, datetime] = {}
    for name, action, at, new in rows:
        r = by.setdefault(name, {"name": name, "decisions": 0, "grid": 0, "single": 0, "undone": 0, "active_seconds": 0.0})
        at = _aware(at)
        if action == "undo":
            r["undone"] += 1
            continue
        r["decisions"] += 1
        r["grid" if isinstance(new, dict) and new.get("mode") == "grid" else "single"] += 1
        if name in last:
            r["active_seconds"] += min(IDLE_SECONDS, max(0.0, (at - last[name]).total_seconds()))
        last[name] = at
    checks = s.execute(select(QualityCheck.first_by, QualityCheck.first_value, QualityCheck.first_status,
                              QualityCheck.second_by, QualityCheck.second_value, QualityCheck.second_status,
                              QualityCheck.engine_value, QualityCheck.engine_status)
                       .where(QualityCheck.round_id == round_id, QualityCheck.first_by.is_not(None))).all()
    for fb, fv, fs, sb, sv, ss, ev, es in checks:
        f = by.setdefault(fb, {"name": fb, "decisions": 0, "grid": 0, "single": 0, "undone": 0, "active_seconds": 0.0})
        f["qc_first"] = f.get("qc_first", 0) + 1
        final = (sv, ss) if ss is not None else (ev, es) if (fv, fs) == (ev, es) else None
        if final is not None:  # settled: did the first reading hold?
            f["qc_first_settled"] = f.get("qc_first_settled", 0) + 1
            f["qc_first_agrees"] = f.get("qc_first_agrees", 0) + ((fv, fs) == final)
        if sb:
            g = by.setdefault(sb, {"name": sb, "decisions": 0, "grid": 0, "single": 0, "undone": 0, "active_seconds": 0.0})
            g["qc_second"] = g.get("qc_second", 0) + 1
    out = []
    for r in sorted(by.values(), key=lambda r: r["name"]):
        hours = r.pop("active_seconds") / 3600
        settled = r.pop("qc_first_settled", 0)
        r.update(active_hours=round(hours, 4), items_per_hour=round(r["decisions"] / hours, 1) if hours > 0 else None,
                 grid_share=round(r["grid"] / r["decisions"], 4) if r["decisions"] else None,
                 qc_first=r.get("qc_first", 0), qc_second=r.get("qc_second", 0),
                 qc_agreement=round(r.get("qc_first_agrees", 0) / settled, 4) if settled else None)
        r.pop("qc_first_agrees", None)
        out.append(r)
    return out


@router.get("/review/stats")
def review_stats(s: SessionDep, user: AnyUser, round: OptionalRoundRef = None) -> dict[str, Any]:
    """Reviewers' work in a round: items per active hour, the share of grid and single decisions, undos, and on
    the quality sample the readings each gave and how often their first reading held."""
    r = resolve_round(s, round)
    return {"round": r.name, "idle_seconds": IDLE_SECONDS, "reviewers": reviewer_stats(s, r.id)}


@router.get("/review/{item_id}")
def review_get(item_id: ItemId, s: SessionDep, user: AnyUser) -> dict[str, Any]:
    """One review item as the queue shows it (without claiming it)."""
    item = s.get(ReviewItem, item_id)
    if item is None:
        raise ApiError(404, f"no review item {item_id}")
    return item_json(s, item)


@router.get("/review/{item_id}/crop.png", response_class=Response,
            responses={200: {"content": {"image/png": {"schema": {"type": "string", "format": "binary"}}},
                             "description": "the crop (PNG)"}})
def review_crop(item_id: ItemId, request: Request, s: SessionDep, user: AnyUser,
                part: Annotated[Literal["row", "boxes"], Query(description="row: the question's whole row; boxes: only "
                                                                         "its boxes (what a grid shows)")] = "row") -> Response:
    """The question's row from the aligned page, with a margin, the engine's reading outlined."""
    item = s.get(ReviewItem, item_id)
    if item is None:
        raise ApiError(404, f"no review item {item_id}")
    page = s.get(Page, item.page_id)
    store = request.app.state.store
    if not page.aligned_sha256:
        if not page.image_sha256:
            raise ApiError(404, "this page has no image")
        img = cv2.imread(str(store.path("pages", page.image_sha256, ".png")), cv2.IMREAD_GRAYSCALE)
        ok, enc = cv2.imencode(".png", page_thumbnail(img, 1400))
        return Response(enc.tobytes(), media_type="image/png")
    aligned = cv2.imread(str(store.path("aligned", page.aligned_sha256, ".jpg")), cv2.IMREAD_GRAYSCALE)
    if item.kind != "field" or not item.field_id:
        ok, enc = cv2.imencode(".png", page_thumbnail(aligned, 1400))
        return Response(enc.tobytes(), media_type="image/png")
    _, _, f = _field_geo(page, item.field_id)
    a = s.scalar(select(Answer).where(Answer.page_id == page.id, Answer.field_id == item.field_id))
    chosen = a.value if a is not None else None
    reading = chosen if isinstance(chosen, list) else [chosen]
    marked = [m.get("value") for m in (a.marks or []) if m.get("kind") in MARKED_KINDS] if a is not None else []
    crop = field_crop(aligned, f, reading=[v for v in reading if isinstance(v, int)], marked=marked)
    if part == "boxes" and f.options:
        crop = _boxes_only(crop, f)
    ok, enc = cv2.imencode(".png", crop)
    return Response(enc.tobytes(), media_type="image/png", headers={"Cache-Control": "private, no-cache"})


BOXES_MARGIN_MM = 7.0  # paper kept either side of a question's boxes in a grid's crop (room for column labels)


def _boxes_only(crop: np.ndarray, f) -> np.ndarray:  # noqa: ANN001
    """The columns of a row crop (``omr.crops.field_crop``) that hold the field's boxes, with a margin."""
    x0 = max(0.0, f.row[0] - CROP_MARGIN_MM)
    lo = min(o.box[0] for o in f.options) - BOXES_MARGIN_MM
    hi = max(o.box[0] + o.box[2] for o in f.options) + BOXES_MARGIN_MM
    a, b = max(0, int(round((lo - x0) * PX_PER_MM))), min(crop.shape[1], int(round((hi - x0) * PX_PER_MM)))
    return np.ascontiguousarray(crop[:, a:b]) if b - a > 8 else crop


def _check_value(f, value: Any) -> tuple[Any, str]:  # noqa: ANN001
    """Validate a reviewer's value for a field; returns (value, status)."""
    if f.kind == "single":
        if value is None:
            return None, "blank"
        allowed = {o.value for o in f.options}
        if not isinstance(value, int) or value not in allowed:
            raise ApiError(422, f"{f.id}: value must be one of {sorted(allowed)} or null")
        return value, "answered"
    if f.kind == "multiple":
        if value in (None, []):
            return None, "blank"
        allowed = {o.value for o in f.options}
        if not isinstance(value, list) or not all(isinstance(v, int) and v in allowed for v in value):
            raise ApiError(422, f"{f.id}: value must be a list of {sorted(allowed)}")
        return sorted(set(value)), "answered"
    if f.kind == "code":
        if value in (None, ""):
            return None, "blank"
        if not isinstance(value, str) or not value.isdigit() or len(value) != (f.digits or 1):
            raise ApiError(422, f"{f.id}: value must be {f.digits} digits")
        return value, "answered"
    if value in (None, ""):
        return None, "blank"
    if not isinstance(value, str) or len(value) > 4000:
        raise ApiError(422, f"{f.id}: value must be text (at most 4000 characters)")
    return value.strip(), "answered"


def _conflict(s, item: ReviewItem, why: str) -> ApiError:  # noqa: ANN001
    """409 with what stands now, so the loser of a race sees the winner's answer."""
    s.rollback()
    s.refresh(item)
    current, status = None, None
    if item.kind == "field" and item.field_id:
        a = s.scalar(select(Answer).where(Answer.page_id == item.page_id, Answer.field_id == item.field_id))
        current, status = (a.value, a.status) if a else (None, None)
    return ApiError(409, why, current=current, current_status=status, decided_by=item.decided_by, revision=item.revision,
                    state=item.state)


def _take(s, item: ReviewItem, user: str, seen: int, *, done: bool) -> bool:  # noqa: ANN001
    """Close (or reopen) the item if nobody changed it since revision ``seen``: one conditional UPDATE, so of
    two decisions at once exactly one wins, on SQLite and PostgreSQL alike."""
    now = utcnow()
    free = or_(ReviewItem.claimed_by.is_(None), ReviewItem.claimed_by == user, ReviewItem.claim_expires_at < now)
    values: dict[str, Any] = {"revision": seen + 1}
    if done:
        values.update(state="done", decided_by=user, decided_at=now, claimed_by=None, claim_expires_at=None)
    res = s.execute(update(ReviewItem).where(ReviewItem.id == item.id, ReviewItem.revision == seen, free).values(**values))
    if res.rowcount != 1:
        return False
    s.refresh(item)
    return True


@router.post("/review/{item_id}")
def review_decide(item_id: ItemId, body: Decision, request: Request, s: SessionDep, user: Reviewer) -> dict[str, Any]:
    """Decide an item (or correct a decided one): exactly one of two simultaneous decisions wins, the other
    gets 409 with the value that stands."""
    item = s.get(ReviewItem, item_id)
    if item is None:
        raise ApiError(404, f"no review item {item_id}")
    require_open(s, item.round_id)
    now = utcnow()
    if item.state == "pending" and item.claimed_by not in (None, user.name) and _aware(item.claim_expires_at) > now:
        raise ApiError(409, f"item is being reviewed by {item.claimed_by} (đang được {item.claimed_by} xử lý)", claimed_by=item.claimed_by)
    seen = item.revision
    if body.revision is not None and body.revision != seen:
        raise _conflict(s, item, f"the item was decided meanwhile by {item.decided_by or 'another reviewer'} "
                                 f"(mục này vừa được {item.decided_by or 'người khác'} quyết định)")
    page = s.get(Page, item.page_id)
    if item.kind != "field":
        if item.state == "done" and body.revision is None:
            raise _conflict(s, item, f"already decided by {item.decided_by}; send 'revision' to decide the page again")
        return _decide_page(s, item, page, body, user.name, request, seen)
    a = s.scalar(select(Answer).where(Answer.page_id == page.id, Answer.field_id == item.field_id))
    current = a.value if a else None
    if body.expected is not _MISSING:
        if body.expected != current:
            raise ApiError(409, "the answer was changed meanwhile (câu trả lời đã bị thay đổi)", current=current,
                           current_status=a.status if a else None, revision=seen)
    elif item.state == "done" and body.revision is None:
        raise _conflict(s, item, f"already decided by {item.decided_by}; send 'revision' (or 'expected') to correct it")
    _, _, f = _field_geo(page, item.field_id)
    if body.invalid:
        if f.kind not in ("single", "code"):
            raise ApiError(422, f"{f.id}: only a single-choice or code question can be invalid (several marks)")
        value, status = None, "multiple"  # several marks: no valid answer; counted as invalid, never as blank
    else:
        value, status = _check_value(f, body.value)
    was_pending = item.state == "pending"
    if not _take(s, item, user.name, seen, done=True):
        raise _conflict(s, item, "the item was decided meanwhile by another reviewer (mục này vừa được người khác quyết định)")
    if a is None:
        a = Answer(page_id=page.id, round_id=page.round_id, field_id=item.field_id, status=status, source="reviewer")
        s.add(a)
    old = {"value": current, "status": a.status, "source": a.source}
    a.value, a.status, a.source, a.updated_by, a.confidence = value, status, "reviewer", user.name, 1.0
    a.value_int = value if isinstance(value, int) and not isinstance(value, bool) else None
    s.add(AuditEntry(user=user.name, action="review" if was_pending else "correct", page_id=page.id,
                     field_id=item.field_id, old=old, new={"value": value, "status": status, "item": item.id}))
    s.flush()
    from service.worker import recount

    recount(s, page)
    s.commit()
    return {"page_id": page.id, "field_id": item.field_id, "value": value, "status": status, "source": "reviewer",
            "item": item.id, "revision": item.revision}


def _int_in(v: Any, lo: int, hi: int, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, str)) or not str(v).strip().isascii() or not str(v).strip().isdigit():
        raise ApiError(422, f"{what} must be a whole number from {lo} to {hi}")
    n = int(str(v).strip())
    if not lo <= n <= hi:
        raise ApiError(422, f"{what} must be a whole number from {lo} to {hi}")
    return n


def _serial(v: Any) -> str:
    sheet = str(v if v is not None else "").strip()
    if not (sheet.isascii() and sheet.isdigit() and 1 <= len(sheet) <= 12):
        raise ApiError(422, "sheet must be the serial printed on the sheet: 1 to 12 digits")
    return sheet.zfill(6)


def _round_form(s, page: Page, t: Template) -> None:  # noqa: ANN001
    rnd = s.get(Round, page.round_id)
    if rnd is not None and (t.id, t.version) != (rnd.template, rnd.version):
        raise ApiError(422, f"this round reads {rnd.template} v{rnd.version}; a page of {t.id} v{t.version} cannot be "
                            f"counted in it: upload it to a round of that form, or mark it as not a questionnaire")


def _settle_duplicate(s, page: Page, keep: Any) -> None:  # noqa: ANN001
    if keep == "both":
        # two respondents whose sheets carry one serial (two print runs): the later one gets a key of its own,
        # shared with the other pages of the same sheet settled alike (the pages of one file or batch)
        first = s.get(Page, page.duplicate_of) if page.duplicate_of else None
        page.duplicate_of = None
        page.respondent = _new_respondent(s, page, first)
    elif keep == "this" and page.duplicate_of:
        other = s.get(Page, page.duplicate_of)
        page.duplicate_of, other.duplicate_of = None, page.id
        page.respondent, other.respondent = other.respondent, None
    elif keep == "other":
        if page.duplicate_of is None:  # settled otherwise before: back to a duplicate of the first
            page.respondent = None
            _flag_again(s, page)
    else:
        raise ApiError(422, "for a duplicate sheet send {\"keep\": \"this\" | \"other\" | \"both\"}")


def _flag_again(s, page: Page) -> None:  # noqa: ANN001
    first = s.scalar(select(Page.id).where(
        Page.round_id == page.round_id, Page.template == page.template, Page.sheet == page.sheet, Page.page_no == page.page_no,
        Page.status == "done", Page.result_status == "ok", Page.duplicate_of.is_(None), Page.respondent.is_(None),
        Page.id != page.id).order_by(Page.id).limit(1))
    page.duplicate_of = first


def _new_respondent(s, page: Page, first: Page | None) -> str:  # noqa: ANN001
    """``SERIAL-k`` (k ≥ 2): the key of the same batch's pages settled alike when they lack this page number,
    else the smallest free one."""
    taken: dict[str, set[int | None]] = {}
    batch_of: dict[str, set[int]] = {}
    for key, pno, bid in s.execute(select(Page.respondent, Page.page_no, Page.batch_id).where(
            Page.round_id == page.round_id, Page.sheet == page.sheet, Page.respondent.is_not(None), Page.id != page.id,
            Page.status != "rejected")):
        taken.setdefault(key, set()).add(pno)
        batch_of.setdefault(key, set()).add(bid)
    for key in sorted(taken):
        if page.batch_id in batch_of[key] and page.page_no not in taken[key]:
            return key
    k = 2
    while f"{page.sheet}-{k}" in taken:
        k += 1
    return f"{page.sheet}-{k}"


def _manual_entry(s, page: Page, t: Template, pno: int, sheet: str, manual: Any, user: str) -> dict[str, Any]:  # noqa: ANN001
    """Every field of one page of form ``t``, keyed in by a person from the image (the page could not be read)."""
    fields = layout(t).pages[pno - 1].fields
    if not isinstance(manual, dict):
        raise ApiError(422, "manual must map every field of the page to its value (null = blank)")
    ids = [f.id for f in fields]
    unknown = [k for k in manual if k not in ids]
    missing = [k for k in ids if k not in manual]
    if unknown or missing:
        parts = ([f"not on page {pno} of {t.id}: {', '.join(map(str, unknown))[:200]}"] if unknown else []) + (
            [f"missing: {', '.join(missing)[:200]}"] if missing else [])
        raise ApiError(422, "manual entry: " + "; ".join(parts))
    checked = {f.id: _check_value(f, manual[f.id]) for f in fields}
    s.query(Answer).filter(Answer.page_id == page.id).delete()
    for f in fields:
        value, status = checked[f.id]
        s.add(Answer(page_id=page.id, round_id=page.round_id, field_id=f.id, value=value,
                     value_int=value if isinstance(value, int) and not isinstance(value, bool) else None,
                     status=status, confidence=1.0, source="manual", updated_by=user))
    page.status, page.result_status, page.error = "done", "ok", None
    page.template, page.version, page.page_no, page.sheet, page.identified_by = t.id, t.version, pno, sheet, "manual"
    page.duplicate_of, page.respondent = None, None
    from service.worker import flag_duplicate

    s.flush()
    flag_duplicate(s, page)
    return {k: {"value": v, "status": st} for k, (v, st) in checked.items()}


def _decide_page(s, item: ReviewItem, page: Page, body: Decision, user: str, request: Request, seen: int) -> dict[str, Any]:  # noqa: ANN001
    from service.worker import flag_duplicate, store_page_result

    v = body.page_fields()
    old = {"status": page.result_status, "template": page.template, "page": page.page_no, "sheet": page.sheet,
           "duplicate_of": page.duplicate_of, "respondent": page.respondent}
    extra: dict[str, Any] = {}
    manual_values = None
    if not _take(s, item, user, seen, done=True):
        raise _conflict(s, item, "the page was decided meanwhile by another reviewer (trang này vừa được người khác quyết định)")
    if v.get("not_questionnaire"):
        page.status, page.result_status = "rejected", "rejected"
        s.query(Answer).filter(Answer.page_id == page.id).delete()
        action = "reject page"
    elif v.get("retry"):
        if not page.image_sha256:
            raise ApiError(422, "the file itself could not be read: upload it again (a file whose pages all failed is "
                                "taken again as a retry), or key the answers in from the paper")
        page.status, page.result_status, page.error, page.attempts, page.lease_until = "queued", None, None, 0, None
        action = "retry page"
    elif v.get("accept") and item.reason == UNPRINTED_SERIAL:
        action = "accept serial"  # the sheet counts as read; the serial stays as printed
    elif item.reason == "duplicate sheet" and "manual" not in v:
        _settle_duplicate(s, page, v.get("keep"))
        action = "settle duplicate"
    elif "manual" in v:
        t = known_template(v.get("template") or page.template)
        _round_form(s, page, t)
        pno = _int_in(v.get("page") if v.get("page") is not None else page.page_no or 1, 1, t.page_count, "page")
        sheet = _serial(v.get("sheet") if v.get("sheet") is not None else page.sheet)
        manual_values = _manual_entry(s, page, t, pno, sheet, v["manual"], user)
        extra["fields_entered"] = len(manual_values)
        action = "manual entry"
    elif "template" in v or "sheet" in v or "page" in v:
        t = known_template(v.get("template") or page.template)
        pno = _int_in(v.get("page") if v.get("page") is not None else page.page_no or 1, 1, t.page_count, "page")
        sheet = _serial(v.get("sheet") if v.get("sheet") is not None else page.sheet)
        _round_form(s, page, t)
        if page.result_status != "ok":  # not read as a form yet: read it as the one named
            if not page.aligned_sha256:
                raise ApiError(422, "this page's registration marks were not found, so it cannot be read as a form: "
                                    "key its answers in by hand (manual), rescan it, or mark it as not a questionnaire")
            from omr.pipeline import read_fields

            aligned = cv2.imread(str(request.app.state.store.path("aligned", page.aligned_sha256, ".jpg")), cv2.IMREAD_GRAYSCALE)
            fields = read_fields(np.ascontiguousarray(aligned), t, pno)
            page.status = "processing"
            store_page_result(s, page, {"status": "ok", "template": t.id, "version": t.version, "page": pno, "sheet": sheet,
                                        "agency": page.agency, "alignment_quality": page.alignment_quality, "identified_by": "reviewer",
                                        "fields": {k: fr.to_json() for k, fr in fields.items()}}, page.aligned_sha256)
            extra["fields_read"] = len(fields)
            extra["review_items"] = s.scalar(select(func.count()).select_from(ReviewItem).where(
                ReviewItem.page_id == page.id, ReviewItem.state == "pending")) or 0
        else:
            page.template, page.version, page.page_no, page.sheet = t.id, t.version, pno, sheet
            page.duplicate_of, page.respondent = None, None
            flag_duplicate(s, page)
        action = "place page"
    else:
        raise ApiError(422, "send {\"template\", \"page\", \"sheet\"} (add \"manual\" to key every field in), "
                            "{\"retry\": true} or {\"not_questionnaire\": true}")
    if action != "settle duplicate":  # the page's other open questions are settled with it
        s.query(ReviewItem).filter(ReviewItem.page_id == page.id, ReviewItem.state == "pending", ReviewItem.kind == "page",
                                   ReviewItem.id != item.id, ReviewItem.reason != "duplicate sheet").delete()
    if action in ("reject page", "manual entry"):
        s.query(ReviewItem).filter(ReviewItem.page_id == page.id, ReviewItem.state == "pending", ReviewItem.id != item.id).delete()
    from service.worker import recount

    s.flush()
    recount(s, page)
    for other in s.scalars(select(Page).where(or_(Page.duplicate_of == page.id, Page.id == (old["duplicate_of"] or -1)))):
        recount(s, other)
    new = {"status": page.result_status, "template": page.template, "page": page.page_no, "sheet": page.sheet,
           "duplicate_of": page.duplicate_of, "respondent": page.respondent}
    if manual_values is not None:
        new["fields"] = manual_values
    s.add(AuditEntry(user=user, action=action, page_id=page.id, field_id=None, old=old, new=new))
    s.commit()
    if action == "retry page":
        request.app.state.wake()
    return {"page_id": page.id, "field_id": None, "value": new, "status": page.result_status or page.status,
            "source": "reviewer", "item": item.id, "revision": item.revision, **extra}


@router.post("/review/{item_id}/undo")
def review_undo(item_id: ItemId, request: Request, s: SessionDep, user: Reviewer) -> dict[str, Any]:
    """Undo the caller's last decision of a field item: the answer goes back, the item is pending again (theirs)."""
    item = s.get(ReviewItem, item_id)
    if item is None:
        raise ApiError(409, "only a decided item can be undone")
    _undo_one(s, item, user, request.app.state.settings.claim_seconds)
    s.flush()
    from service.worker import recount

    recount(s, s.get(Page, item.page_id))
    s.commit()
    s.refresh(item)
    return item_json(s, item)


def _undo_one(s, item: ReviewItem, user, claim_seconds: int) -> None:  # noqa: ANN001
    """Put a decided field item back as it was before its last decision (not committed; the caller recounts)."""
    if item.state != "done":
        raise ApiError(409, "only a decided item can be undone", item=item.id)
    if item.decided_by != user.name and user.role != "admin":
        raise ApiError(403, f"{item.decided_by} decided this item; only they (or an admin) can undo it")
    if item.kind != "field":
        raise ApiError(409, "page decisions are corrected by deciding the page again")
    require_open(s, item.round_id)
    seen = item.revision
    last = s.scalar(select(AuditEntry).where(AuditEntry.page_id == item.page_id, AuditEntry.field_id == item.field_id)
                    .order_by(AuditEntry.id.desc()).limit(1))
    a = s.scalar(select(Answer).where(Answer.page_id == item.page_id, Answer.field_id == item.field_id))
    if last is None or a is None:
        raise ApiError(409, "nothing to undo")
    res = s.execute(update(ReviewItem).where(ReviewItem.id == item.id, ReviewItem.revision == seen, ReviewItem.state == "done")
                    .values(revision=seen + 1, state="pending", decided_by=None, decided_at=None, claimed_by=user.name,
                            claim_expires_at=utcnow() + timedelta(seconds=claim_seconds)))
    if res.rowcount != 1:
        raise _conflict(s, item, "the item was changed meanwhile (mục này vừa bị thay đổi)")
    before = last.old or {}
    cur = {"value": a.value, "status": a.status, "source": a.source}
    a.value, a.status, a.source = before.get("value"), before.get("status", a.status), before.get("source", "engine")
    a.value_int = a.value if isinstance(a.value, int) and not isinstance(a.value, bool) else None
    s.add(AuditEntry(user=user.name, action="undo", page_id=item.page_id, field_id=item.field_id, old=cur, new=before))
    s.refresh(item)


@router.get("/progress")
def progress(s: SessionDep, user: AnyUser, round: OptionalRoundRef = None, batch: BatchFilter = None) -> dict[str, Any]:
    """Review progress of a batch or a round: items in all, left, done (today), per reviewer, and how many
    pending items other reviewers hold right now."""
    if batch is not None:
        scope = ReviewItem.batch_id == batch
    else:
        scope = ReviewItem.round_id == resolve_round(s, round).id
    total = s.scalar(select(func.count()).select_from(ReviewItem).where(scope)) or 0
    left = s.scalar(select(func.count()).select_from(ReviewItem).where(scope, ReviewItem.state == "pending")) or 0
    start = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    rows = s.execute(
        select(ReviewItem.decided_by, func.count()).where(scope, ReviewItem.state == "done").group_by(ReviewItem.decided_by)
    ).all()
    today = dict(s.execute(
        select(ReviewItem.decided_by, func.count()).where(scope, ReviewItem.state == "done", ReviewItem.decided_at >= start)
        .group_by(ReviewItem.decided_by)
    ).all())
    by = [{"name": n, "done": c, "done_today": today.get(n, 0)} for n, c in rows if n]
    held = s.scalar(select(func.count()).select_from(ReviewItem).where(
        scope, ReviewItem.state == "pending", ReviewItem.claimed_by.is_not(None), ReviewItem.claimed_by != user.name,
        ReviewItem.claim_expires_at > utcnow())) or 0
    return {"total": total, "left": left, "done": total - left, "done_today": sum(today.values()), "by_reviewer": by,
            "held_by_others": held}
