"""The review queue: claim, show, decide, undo; every change audited."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import cv2
import numpy as np
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from sqlalchemy import func, or_, select, update

from omr.layout import PX_PER_MM, layout
from omr.template import load_template
from service.deps import AnyUser, Reviewer, SessionDep
from service.errors import ApiError
from service.models import Answer, AuditEntry, Page, ReviewItem, utcnow
from service.queries import resolve_round

router = APIRouter(prefix="/api", tags=["review"])

_MISSING = object()


class Decision(BaseModel):
    value: Any = None
    expected: Any = _MISSING

    model_config = {"arbitrary_types_allowed": True}


def _aware(dt: datetime | None) -> datetime | None:
    if dt is not None and dt.tzinfo is None:
        return dt.replace(tzinfo=timezone.utc)
    return dt


def _field_geo(page: Page, field_id: str):  # noqa: ANN202
    t = load_template(page.template)
    page_no, f = layout(t).field(field_id)
    return t, page_no, f


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
    }
    if item.kind == "field" and item.field_id:
        a = s.scalar(select(Answer).where(Answer.page_id == item.page_id, Answer.field_id == item.field_id))
        _, _, f = _field_geo(page, item.field_id)
        out.update(
            status=a.status if a else None, value=a.value if a else None, text_suggestion=a.text_suggestion if a else None,
            question=f.text, field_kind=f.kind, digits=f.digits,
            options=[{"value": o.value, "label": o.label} for o in f.options if o.digit in (None, 0)],
            source=a.source if a else None,
        )
        if f.kind == "text" and a is not None and a.value is None and a.source == "engine":
            out["value"] = a.text_suggestion
    else:
        out.update(status="unrecognized" if item.reason == "unrecognized page" else item.reason, question=item.reason,
                   field_kind="page", value=None, page_error=page.error)
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
def review_next(request: Request, s: SessionDep, user: Reviewer, batch: int | None = None, round: str | None = None,
                order: str = "confidence", exclude: str = "") -> Any:
    """The next item for the caller, claimed for them; ``exclude`` (ids) lets a client preload the one after."""
    if batch is not None:
        scope = ReviewItem.batch_id == batch
    elif round is not None:
        scope = ReviewItem.round_id == resolve_round(s, round).id
    else:
        raise ApiError(422, "say which queue: batch=ID or round=R")
    if order not in ("confidence", "page"):
        raise ApiError(422, "order is 'confidence' or 'page'")
    skip = [int(x) for x in exclude.split(",") if x.strip().isdigit()]
    item = _claim_next(s, user.name, scope, order, request.app.state.settings.claim_seconds, skip)
    if item is None:
        return Response(status_code=204)
    return item_json(s, item)


@router.get("/review/{item_id}")
def review_get(item_id: int, s: SessionDep, user: AnyUser) -> dict[str, Any]:
    item = s.get(ReviewItem, item_id)
    if item is None:
        raise ApiError(404, f"no review item {item_id}")
    return item_json(s, item)


@router.get("/review/{item_id}/crop.png")
def review_crop(item_id: int, request: Request, s: SessionDep, user: AnyUser) -> Response:
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
        scale = 1200 / max(img.shape)
        ok, enc = cv2.imencode(".png", cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA))
        return Response(enc.tobytes(), media_type="image/png")
    aligned = cv2.imread(str(store.path("aligned", page.aligned_sha256, ".jpg")), cv2.IMREAD_GRAYSCALE)
    if item.kind != "field" or not item.field_id:
        ok, enc = cv2.imencode(".png", cv2.resize(aligned, None, fx=0.6, fy=0.6, interpolation=cv2.INTER_AREA))
        return Response(enc.tobytes(), media_type="image/png")
    _, _, f = _field_geo(page, item.field_id)
    a = s.scalar(select(Answer).where(Answer.page_id == page.id, Answer.field_id == item.field_id))
    x, y, w, h = f.row
    m = 4.0
    x0, y0 = max(0, int((x - m) * PX_PER_MM)), max(0, int((y - m) * PX_PER_MM))
    x1, y1 = min(aligned.shape[1], int((x + w + m) * PX_PER_MM)), min(aligned.shape[0], int((y + h + m) * PX_PER_MM))
    crop = cv2.cvtColor(aligned[y0:y1, x0:x1], cv2.COLOR_GRAY2BGR)
    chosen = a.value if a is not None else None
    chosen_set = set(chosen) if isinstance(chosen, list) else {chosen}
    for o in f.options:
        bx, by, bw, bh = o.box
        p0 = (int((bx - 0.8) * PX_PER_MM) - x0, int((by - 0.8) * PX_PER_MM) - y0)
        p1 = (int((bx + bw + 0.8) * PX_PER_MM) - x0, int((by + bh + 0.8) * PX_PER_MM) - y0)
        if o.value in chosen_set and o.digit is None:
            cv2.rectangle(crop, p0, p1, (40, 40, 220), 2)  # the engine's reading
        else:
            cv2.rectangle(crop, p0, p1, (200, 160, 60), 1)
    ok, enc = cv2.imencode(".png", crop)
    return Response(enc.tobytes(), media_type="image/png", headers={"Cache-Control": "private, max-age=60"})


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


@router.post("/review/{item_id}")
def review_decide(item_id: int, body: Decision, request: Request, s: SessionDep, user: Reviewer) -> dict[str, Any]:
    item = s.get(ReviewItem, item_id)
    if item is None:
        raise ApiError(404, f"no review item {item_id}")
    now = utcnow()
    if item.state == "pending" and item.claimed_by not in (None, user.name) and _aware(item.claim_expires_at) > now:
        raise ApiError(409, f"item is being reviewed by {item.claimed_by} (đang được {item.claimed_by} xử lý)", claimed_by=item.claimed_by)
    page = s.get(Page, item.page_id)
    if item.kind != "field":
        return _decide_page(s, item, page, body, user.name, request)
    a = s.scalar(select(Answer).where(Answer.page_id == page.id, Answer.field_id == item.field_id))
    current = a.value if a else None
    if body.expected is not _MISSING:
        if body.expected != current:
            raise ApiError(409, "the answer was changed meanwhile (câu trả lời đã bị thay đổi)", current=current)
    elif item.state == "done":
        raise ApiError(409, f"already decided by {item.decided_by}; send 'expected' with the current value to correct it",
                       current=current)
    _, _, f = _field_geo(page, item.field_id)
    value, status = _check_value(f, body.value)
    if a is None:
        a = Answer(page_id=page.id, round_id=page.round_id, field_id=item.field_id, status=status, source="reviewer")
        s.add(a)
    old = {"value": current, "status": a.status, "source": a.source}
    a.value, a.status, a.source, a.updated_by, a.confidence = value, status, "reviewer", user.name, 1.0
    a.value_int = value if isinstance(value, int) and not isinstance(value, bool) else None
    s.add(AuditEntry(user=user.name, action="review" if item.state == "pending" else "correct", page_id=page.id,
                     field_id=item.field_id, old=old, new={"value": value, "status": status, "item": item.id}))
    s.flush()
    from service.tallies import refresh_sheet

    refresh_sheet(s, page.round_id, page.sheet)
    item.state, item.decided_by, item.decided_at = "done", user.name, now
    item.claimed_by, item.claim_expires_at = None, None
    s.commit()
    return {"page_id": page.id, "field_id": item.field_id, "value": value, "status": status, "source": "reviewer", "item": item.id}


def _decide_page(s, item: ReviewItem, page: Page, body: Decision, user: str, request: Request) -> dict[str, Any]:  # noqa: ANN001
    from service.worker import flag_duplicate

    v = body.value if isinstance(body.value, dict) else {}
    old = {"status": page.result_status, "template": page.template, "page": page.page_no, "sheet": page.sheet,
           "duplicate_of": page.duplicate_of}
    if v.get("not_questionnaire"):
        page.status, page.result_status = "rejected", "rejected"
        s.query(Answer).filter(Answer.page_id == page.id).delete()
        s.query(ReviewItem).filter(ReviewItem.page_id == page.id, ReviewItem.state == "pending", ReviewItem.id != item.id).delete()
        action = "reject page"
    elif item.reason == "duplicate sheet":
        keep = v.get("keep")
        if keep == "both":
            page.duplicate_of = None
        elif keep == "this" and page.duplicate_of:
            other = s.get(Page, page.duplicate_of)
            page.duplicate_of, other.duplicate_of = None, page.id
        elif keep != "other":
            raise ApiError(422, "for a duplicate sheet send {\"keep\": \"this\" | \"other\" | \"both\"}")
        action = "settle duplicate"
    elif "template" in v or "sheet" in v:
        tid = v.get("template") or page.template
        try:
            t = load_template(tid)
        except Exception:  # noqa: BLE001
            raise ApiError(422, f"no template {tid!r}") from None
        pno = int(v.get("page") or page.page_no or 1)
        sheet = str(v.get("sheet") or page.sheet or "")
        if not 1 <= pno <= t.page_count or not sheet.isdigit():
            raise ApiError(422, f"page must be 1..{t.page_count} and sheet a number")
        if item.reason == "unrecognized page":
            if not page.aligned_sha256:
                raise ApiError(422, "this page has no registration markers and cannot be read; rescan it or mark it as not a questionnaire")
            from omr.pipeline import read_fields

            aligned = cv2.imread(str(request.app.state.store.path("aligned", page.aligned_sha256, ".jpg")), cv2.IMREAD_GRAYSCALE)
            fields = read_fields(np.ascontiguousarray(aligned), t, pno)
            from service.worker import store_page_result

            page.status = "processing"
            store_page_result(s, page, {"status": "ok", "template": t.id, "version": t.version, "page": pno, "sheet": sheet.zfill(6),
                                        "agency": page.agency, "alignment_quality": page.alignment_quality, "identified_by": "reviewer",
                                        "fields": {k: fr.to_json() for k, fr in fields.items()}}, page.aligned_sha256)
        else:
            page.template, page.version, page.page_no, page.sheet = t.id, t.version, pno, sheet.zfill(6)
            page.duplicate_of = None
            flag_duplicate(s, page)
        action = "place page"
    else:
        raise ApiError(422, "send {\"template\", \"page\", \"sheet\"} or {\"not_questionnaire\": true}")
    from service.worker import recount

    s.flush()
    recount(s, page)
    for other in s.scalars(select(Page).where(or_(Page.duplicate_of == page.id, Page.id == (old["duplicate_of"] or -1)))):
        recount(s, other)
    new = {"status": page.result_status, "template": page.template, "page": page.page_no, "sheet": page.sheet,
           "duplicate_of": page.duplicate_of}
    s.add(AuditEntry(user=user, action=action, page_id=page.id, field_id=None, old=old, new=new))
    item.state, item.decided_by, item.decided_at, item.claimed_by, item.claim_expires_at = "done", user, utcnow(), None, None
    s.commit()
    return {"page_id": page.id, "field_id": None, "value": new, "status": page.result_status, "source": "reviewer", "item": item.id}


@router.post("/review/{item_id}/undo")
def review_undo(item_id: int, request: Request, s: SessionDep, user: Reviewer) -> dict[str, Any]:
    item = s.get(ReviewItem, item_id)
    if item is None or item.state != "done":
        raise ApiError(409, "only a decided item can be undone")
    if item.decided_by != user.name and user.role != "admin":
        raise ApiError(403, f"{item.decided_by} decided this item; only they (or an admin) can undo it")
    if item.kind != "field":
        raise ApiError(409, "page decisions are corrected by deciding the page again")
    last = s.scalar(select(AuditEntry).where(AuditEntry.page_id == item.page_id, AuditEntry.field_id == item.field_id)
                    .order_by(AuditEntry.id.desc()).limit(1))
    a = s.scalar(select(Answer).where(Answer.page_id == item.page_id, Answer.field_id == item.field_id))
    if last is None or a is None:
        raise ApiError(409, "nothing to undo")
    before = last.old or {}
    cur = {"value": a.value, "status": a.status, "source": a.source}
    a.value, a.status, a.source = before.get("value"), before.get("status", a.status), before.get("source", "engine")
    a.value_int = a.value if isinstance(a.value, int) and not isinstance(a.value, bool) else None
    s.add(AuditEntry(user=user.name, action="undo", page_id=item.page_id, field_id=item.field_id, old=cur, new=before))
    s.flush()
    from service.tallies import refresh_sheet

    page = s.get(Page, item.page_id)
    refresh_sheet(s, page.round_id, page.sheet)
    item.state, item.decided_by, item.decided_at = "pending", None, None
    item.claimed_by = user.name
    item.claim_expires_at = utcnow() + timedelta(seconds=request.app.state.settings.claim_seconds)
    s.commit()
    return item_json(s, item)


@router.get("/progress")
def progress(s: SessionDep, user: AnyUser, round: str | None = None, batch: int | None = None) -> dict[str, Any]:
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
    return {"total": total, "left": left, "done": total - left, "done_today": sum(today.values()), "by_reviewer": by}
