"""Quality control: the blind double check of a sample of the engine's accepted answers, and the measured
error rate (service.quality)."""
from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import cv2
from fastapi import APIRouter, Query, Request, Response
from pydantic import Field
from sqlalchemy import or_, select, update

from omr.crops import field_crop
from omr.layout import layout
from omr.template import load_template
from service import openapi, quality
from service.deps import Admin, AnyUser, Reviewer, SessionDep
from service.errors import ApiError
from service.guards import require_open
from service.models import Answer, AuditEntry, Page, QualityCheck, utcnow
from service.params import MAX_ID, RequestBody, RoundRef, id_path
from service.queries import resolve_round
from service.routers.review import _aware, _check_value

router = APIRouter(prefix="/api", tags=["quality"])

CheckId = Annotated[int, id_path("quality check")]


def _field(page: Page, field_id: str):  # noqa: ANN202
    return layout(load_template(page.template, version=page.version)).field(field_id)[1]


def check_json(s, qc: QualityCheck) -> dict[str, Any]:  # noqa: ANN001
    """A check as a reviewer sees it: the question and its crop, never the engine's answer nor the first reading."""
    page = s.get(Page, qc.page_id)
    f = _field(page, qc.field_id)
    return {"id": qc.id, "round_id": qc.round_id, "page_id": qc.page_id, "field_id": qc.field_id, "question": f.text,
            "field_kind": f.kind, "digits": f.digits, "sheet": page.sheet, "page": page.page_no,
            "options": [{"value": o.value, "label": o.label} for o in f.options if o.digit in (None, 0)],
            "stage": qc.state, "claimed_by": qc.claimed_by, "revision": qc.revision,
            "image_url": f"/api/quality/{qc.id}/crop.png"}


@router.get("/quality")
def get_quality(s: SessionDep, user: AnyUser, round: RoundRef) -> dict[str, Any]:
    """The round's quality sample and the engine's measured error rate of accepted answers, with its Wilson 95%
    interval and the estimated number of wrong answers in the round; ``warning`` when the interval's upper bound
    is above the round's limit."""
    r = resolve_round(s, round)
    if r.state != "closed":
        quality.draw_pending(s, r, wait=False)
    out = quality.summary(s, r).to_json()
    out.update(round=r.name, round_id=r.id, min_sample=r.min_sample)
    return out


class QualitySettings(RequestBody):
    """A round's quality-control settings: ``rate`` (share of accepted answers checked, 0 to 1; 0 stops the
    sampling), ``limit`` (warn when the error rate's 95% upper bound is above it), ``min_sample`` (agencies with
    fewer valid sheets are not ranked; null: no minimum). Omitted fields stay as they are; null: the default."""

    rate: float | None = Field(default=None, ge=0, le=1)
    limit: float | None = Field(default=None, ge=0, le=1)
    min_sample: int | None = Field(default=None, ge=0, le=MAX_ID)


@router.put("/quality/settings", responses={409: openapi.CONFLICT})
def put_quality_settings(body: QualitySettings, s: SessionDep, user: Admin, round: RoundRef) -> dict[str, Any]:
    """Set a round's quality-control rate and limit and its minimum sample for ranking (admin)."""
    r = resolve_round(s, round)
    require_open(s, r.id)
    if "rate" in body.model_fields_set:
        if body.rate != r.qc_rate:
            r.qc_upto = 0  # the draw is monotone in the rate: a higher one adds answers read before it was set
        r.qc_rate = body.rate
    if "limit" in body.model_fields_set:
        r.qc_limit = body.limit
    if "min_sample" in body.model_fields_set:
        r.min_sample = body.min_sample
    s.add(AuditEntry(user=user.name, action="quality settings", page_id=None, field_id=None, old=None,
                     new={"round": r.id, **body.model_dump(include=body.model_fields_set)}))
    s.commit()
    return {"round": r.name, "rate": quality.round_rate(r), "limit": quality.round_limit(r), "min_sample": r.min_sample}


@router.get("/quality/next", responses={204: {"description": "nothing left to check"}, 409: openapi.CONFLICT})
def quality_next(request: Request, s: SessionDep, user: Reviewer, round: RoundRef) -> Any:
    """The next answer of the quality sample for the caller to read blind, claimed for them: second readings
    first (never one the caller read first), then first readings."""
    r = resolve_round(s, round)
    require_open(s, r.id)
    quality.draw_pending(s, r)
    now = utcnow()
    free = or_(QualityCheck.claimed_by.is_(None), QualityCheck.claimed_by == user.name, QualityCheck.claim_expires_at < now)
    for state in ("second", "first"):
        q = select(QualityCheck.id).where(QualityCheck.round_id == r.id, QualityCheck.state == state, free)
        if state == "second":
            q = q.where(QualityCheck.first_by != user.name)
        for (cid,) in s.execute(q.order_by((QualityCheck.claimed_by == user.name).desc(), QualityCheck.id).limit(20)).all():
            res = s.execute(update(QualityCheck).where(QualityCheck.id == cid, QualityCheck.state == state, free)
                            .values(claimed_by=user.name,
                                    claim_expires_at=now + timedelta(seconds=request.app.state.settings.claim_seconds)))
            if res.rowcount == 1:
                s.commit()
                return check_json(s, s.get(QualityCheck, cid))
            s.rollback()
    return Response(status_code=204)


@router.get("/quality/{check_id}", responses={404: {"description": "no such check"}})
def quality_get(check_id: CheckId, s: SessionDep, user: Reviewer) -> dict[str, Any]:
    """One check as the reviewer sees it (blind)."""
    qc = s.get(QualityCheck, check_id)
    if qc is None:
        raise ApiError(404, f"no quality check {check_id}")
    return check_json(s, qc)


@router.get("/quality/{check_id}/crop.png", response_class=Response,
            responses={200: {"content": {"image/png": {"schema": {"type": "string", "format": "binary"}}},
                             "description": "the crop (PNG), without the engine's reading"}})
def quality_crop(check_id: CheckId, request: Request, s: SessionDep, user: Reviewer) -> Response:
    """The question's row from the aligned page with every box outlined alike: nothing tells the engine's answer."""
    qc = s.get(QualityCheck, check_id)
    if qc is None:
        raise ApiError(404, f"no quality check {check_id}")
    page = s.get(Page, qc.page_id)
    if not page.aligned_sha256:
        raise ApiError(404, "this page has no aligned image")
    aligned = cv2.imread(str(request.app.state.store.path("aligned", page.aligned_sha256, ".jpg")), cv2.IMREAD_GRAYSCALE)
    ok, enc = cv2.imencode(".png", field_crop(aligned, _field(page, qc.field_id)))
    return Response(enc.tobytes(), media_type="image/png", headers={"Cache-Control": "private, no-cache"})


class Reading(RequestBody):
    """A blind reading: ``value`` (null: blank) or ``invalid: true`` (several marks); ``revision`` as shown."""

    value: Any = None
    invalid: bool = False
    revision: int | None = Field(default=None, ge=0, le=MAX_ID)


@router.post("/quality/{check_id}", responses={409: openapi.CONFLICT})
def quality_read(check_id: CheckId, body: Reading, s: SessionDep, user: Reviewer) -> dict[str, Any]:
    """Record a blind reading. The first that matches the engine's answer closes the check (the engine was right);
    one that differs sends it to a second reviewer, whose reading stands: it corrects the answer when it differs
    from the engine's (audited). 409 when someone else holds the check, it changed since ``revision``, or the
    caller gave its first reading."""
    qc = s.get(QualityCheck, check_id)
    if qc is None:
        raise ApiError(404, f"no quality check {check_id}")
    require_open(s, qc.round_id)
    now = utcnow()
    if qc.state == "done":
        raise ApiError(409, "this check is settled already (đã kiểm tra xong)", revision=qc.revision)
    if qc.claimed_by not in (None, user.name) and qc.claim_expires_at is not None and _aware(qc.claim_expires_at) > now:
        raise ApiError(409, f"being checked by {qc.claimed_by} (đang được {qc.claimed_by} kiểm tra)", claimed_by=qc.claimed_by)
    if qc.state == "second" and qc.first_by == user.name:
        raise ApiError(409, "a disagreement is settled by another reviewer than the first (cần người duyệt thứ hai)")
    seen = qc.revision
    if body.revision is not None and body.revision != seen:
        raise ApiError(409, "the check changed meanwhile (mục kiểm tra vừa thay đổi)", revision=seen)
    page = s.get(Page, qc.page_id)
    f = _field(page, qc.field_id)
    if body.invalid:
        if f.kind not in ("single", "code"):
            raise ApiError(422, f"{f.id}: only a single-choice or code question can be invalid (several marks)")
        value, status = None, "multiple"
    else:
        value, status = _check_value(f, body.value)
    agrees = (value, status) == (qc.engine_value, qc.engine_status)
    values: dict[str, Any] = {"revision": seen + 1, "claimed_by": None, "claim_expires_at": None}
    if qc.state == "first":
        values.update(first_value=value, first_status=status, first_by=user.name, first_at=now)
        values.update(state="done", wrong=False) if agrees else values.update(state="second")
    else:
        values.update(second_value=value, second_status=status, second_by=user.name, second_at=now, state="done",
                      wrong=not agrees)
    res = s.execute(update(QualityCheck).where(QualityCheck.id == qc.id, QualityCheck.revision == seen,
                                               QualityCheck.state == qc.state).values(**values))
    if res.rowcount != 1:
        s.rollback()
        raise ApiError(409, "the check changed meanwhile (mục kiểm tra vừa thay đổi)")
    s.refresh(qc)
    corrected = False
    if qc.state == "done" and qc.wrong:
        a = s.scalar(select(Answer).where(Answer.page_id == qc.page_id, Answer.field_id == qc.field_id))
        if a is not None:
            old = {"value": a.value, "status": a.status, "source": a.source}
            a.value, a.status, a.source, a.updated_by, a.confidence = value, status, "reviewer", user.name, 1.0
            a.value_int = value if isinstance(value, int) and not isinstance(value, bool) else None
            s.add(AuditEntry(user=user.name, action="quality correct", page_id=page.id, field_id=qc.field_id, old=old,
                             new={"value": value, "status": status, "check": qc.id}))
            s.flush()
            from service.worker import recount

            recount(s, page)
            corrected = True
    s.commit()
    return {"id": qc.id, "stage": qc.state, "revision": qc.revision, "settled": qc.state == "done",
            "corrected": corrected}
