"""Print runs of a round: the PDF of the next free serials for an agency, and the list with response rates."""
from __future__ import annotations

import io
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Response
from pydantic import Field
from sqlalchemy import select

from omr.render import render_pdf
from omr.template import load_template
from service.deps import Admin, AnyUser, SessionDep
from service.errors import ApiError
from service.params import RequestBody, id_path
from service.models import Agency, AuditEntry, Round
from service.print_runs import MAX_RUN, allocate, runs_json

router = APIRouter(prefix="/api", tags=["print runs"])
RoundId = Annotated[int, id_path("round")]


class PrintRunCreate(RequestBody):
    agency: str = Field(min_length=1, max_length=20, description="the agency the sheets go to (its code)")
    count: int = Field(ge=1, le=MAX_RUN, description=f"sheets to print (1 to {MAX_RUN})")


def _round(s, round_id: int) -> Round:  # noqa: ANN001
    r = s.get(Round, round_id)
    if r is None:
        raise ApiError(404, f"no round {round_id}")
    return r


@router.post("/rounds/{round_id}/print-runs", response_class=Response,
             responses={200: {"content": {"application/pdf": {}}, "description": "the sheets to print"}})
def create_print_run(round_id: RoundId, body: PrintRunCreate, s: SessionDep, user: Admin) -> Response:
    """Reserve the round's next free serials for an agency and return the PDF of those sheets (each with its
    own serial in its QR code and in digits). The range is recorded: a returned sheet's agency is then known
    from its serial, and a serial the round never printed is flagged."""
    r = _round(s, round_id)
    a = s.scalar(select(Agency).where(Agency.code == body.agency))
    if a is None or not a.active:
        raise ApiError(422, f"agency {body.agency!r} is not an active agency (create it first: /api/agencies)")
    t = load_template(r.template, version=r.version)
    if t.version != r.version:
        raise ApiError(409, f"the round reads {r.template} v{r.version}; this server has v{t.version}")
    try:
        alloc = allocate(s, r.id, a.code, body.count, user.name)
    except ValueError as exc:
        raise ApiError(422, str(exc)) from None
    buf = io.BytesIO()
    render_pdf(t, buf, sheets=body.count, first_serial=alloc.first, agency=a.code)
    s.add(AuditEntry(user=user.name, action="print run", new={"round": r.id, "agency": a.code, "first": alloc.first,
                                                               "last": alloc.last, "run": alloc.run.id}))
    s.commit()
    name = f"{r.template}-{a.code}-{alloc.first:06d}-{alloc.last:06d}.pdf"
    return Response(buf.getvalue(), media_type="application/pdf", headers={
        "Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}",
        "X-Print-Run": str(alloc.run.id), "X-Serials": f"{alloc.first:06d}-{alloc.last:06d}"})


@router.get("/rounds/{round_id}/print-runs")
def list_print_runs(round_id: RoundId, s: SessionDep, user: AnyUser) -> list[dict[str, Any]]:
    """The round's print runs: agency, serial range, sheets printed and returned, response rate."""
    _round(s, round_id)
    return runs_json(s, round_id)
