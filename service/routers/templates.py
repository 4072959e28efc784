"""The questionnaires the service knows, by id and version: list, design (check, preview, save), compare,
import a question list, and their geometry, preview images and trial PDFs."""
from __future__ import annotations

import io
from typing import Annotated, Any

from fastapi import APIRouter, File, Path, Query, Request, Response, UploadFile
from pydantic import BaseModel, Field

from omr.errors import TemplateError
from omr.layout import geometry
from omr.preview import page_png
from omr.render import render_pdf
from omr.template import Template, template_versions
from service import forms
from service.deps import Admin, AnyUser, SessionDep
from service.errors import ApiError
from service.openapi import file_response
from service.params import RequestBody
from service.routers.results import content_disposition
from service.templates import known_template

router = APIRouter(prefix="/api", tags=["templates"])

TemplateId = Annotated[str, Path(min_length=1, max_length=80, pattern=r"^[a-z0-9-]+$", description="the template's id")]
Version = Annotated[int, Path(ge=1, le=10_000, description="the template's version")]
MAX_TRIAL_SHEETS = 50
MAX_IMPORT_BYTES = 2 << 20


class Draft(RequestBody):
    """A form: ``template`` (the YAML structure as JSON, see docs/template-format.md) or ``yaml`` (its text)."""

    template: dict[str, Any] | None = Field(None, description="the form as a JSON object")
    yaml: str | None = Field(None, max_length=forms.MAX_TEMPLATE_BYTES, description="the form as YAML text")

    def data(self) -> dict[str, Any]:
        if (self.template is None) == (self.yaml is None):
            raise ApiError(422, "send the form as 'template' (JSON) or as 'yaml' (text), one of them")
        try:
            return forms.draft_from_body(self.template, self.yaml)
        except forms.FormError as exc:
            raise ApiError(422, str(exc), problems=exc.problems) from None


class TemplateOut(BaseModel):
    """A questionnaire template the service knows, at its latest version."""

    id: str
    version: int = Field(description="the latest version")
    title: str
    subtitle: str | None = None
    pages: int = Field(description="printed pages per sheet")
    versions: list[int] = Field(description="every version kept, ascending")
    origin: str = Field(description="shipped (with the product) | office (made or edited in the designer, or in OMR_TEMPLATE_PATH)")
    frozen: bool = Field(description="the latest version is used by a round or read from scans (or shipped): saving makes a new version")


def _form_error(exc: forms.FormError) -> ApiError:
    return ApiError(422, f"{exc}: {exc.problems[0]['where']}: {exc.problems[0]['problem']}" if exc.problems else str(exc),
                    problems=exc.problems)


def _version(template_id: str, version: int) -> Template:
    if version not in template_versions(template_id):
        have = ", ".join(map(str, template_versions(template_id)))
        raise ApiError(404, f"{template_id} has no version {version}" + (f" (versions: {have})" if have else " (no such template)"))
    return known_template(template_id, version)


@router.get("/templates", response_model=list[TemplateOut])
def templates(s: SessionDep, user: AnyUser) -> list[dict[str, Any]]:
    """The questionnaires a round can use (shipped, in OMR_TEMPLATE_PATH, or made in the designer), each at its
    latest version with every version kept (``versions``), where it comes from (``origin``: shipped | office) and
    whether that version is ``frozen`` (used by a round or read from scans: editing it makes a new version).
    Broken ones are left out."""
    return forms.catalogue(s)


@router.get("/templates/option-sets")
def option_sets(user: AnyUser) -> dict[str, list[dict[str, Any]]]:
    """The option sets of the known forms by name (``likert5``: the five levels of satisfaction, from very
    dissatisfied to very satisfied, …), to reuse in a new form."""
    return forms.shared_option_sets()


@router.get("/templates/question-list-sample.xlsx", response_class=Response,
            responses={200: file_response("the sample sheet", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")})
def question_list_sample(user: AnyUser) -> Response:
    """The question-list sheet to fill in for ``POST /api/templates/import``: one row per question, with the
    sheet's Vietnamese headers (section, number, id, question, kind, option set, options, element) and example
    rows."""
    return Response(forms.sample_sheet(), media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": content_disposition("mau-danh-sach-cau-hoi.xlsx")})


@router.post("/templates/check")
def check(body: Draft, user: Admin) -> dict[str, Any]:
    """Check a form as loading its YAML would (fields, option sets, ids, the index definition, whether every page
    fits), without saving it: ``{"ok", "problems": [{"where", "problem"}], "pages", "yaml"}``, always 200."""
    t, problems = forms.check(body.data())
    out: dict[str, Any] = {"ok": t is not None, "problems": problems, "pages": t.page_count if t else None}
    if t is not None:
        out["yaml"] = forms.to_yaml({k: v for k, v in body.data().items()})
    return out


@router.post("/templates/preview", response_class=Response, responses={200: file_response("the page as printed", "image/png")})
def preview(body: Draft, user: Admin,
            page: Annotated[int, Query(ge=1, le=8, description="the page (1-based)")] = 1) -> Response:
    """A page of a form being designed, drawn from the same layout that prints and reads it (sample serial
    000000). 422 with ``problems`` when the form is not valid or has no such page."""
    t, problems = forms.check(body.data())
    if t is None:
        first = problems[0]
        raise ApiError(422, f"the form has problems: {first['where']}: {first['problem']}", problems=problems)
    if page > t.page_count:
        raise ApiError(422, f"the form has {t.page_count} page(s), not {page}")
    return Response(page_png(t, page), media_type="image/png", headers={"Cache-Control": "no-store"})


@router.post("/templates", status_code=201)
def save(body: Draft, request: Request, s: SessionDep, user: Admin) -> dict[str, Any]:
    """Save a form (admin). A new id is version 1; when the latest version is frozen (used by a round, read from
    scans, or shipped) the form is saved as the next version, so sheets printed before keep reading; otherwise
    the latest version is replaced. An unchanged form makes no new version. 422 lists each problem and its place."""
    try:
        return forms.save(s, request.app.state.settings.forms_dir, body.data(), user.name)
    except forms.FormError as exc:
        raise _form_error(exc) from None


@router.post("/templates/import")
async def import_question_list(user: Admin, file: Annotated[UploadFile, File(description="an .xlsx question list (see the sample sheet) or a .yaml form")]) -> dict[str, Any]:
    """A draft form from a question list (XLSX, one row per question) or a YAML file, to open in the designer;
    nothing is saved. Problems name the row and column (or the place in the YAML)."""
    data = await file.read(MAX_IMPORT_BYTES + 1)
    name = (file.filename or "questions.xlsx").replace("\x00", "")[:100]
    if len(data) > MAX_IMPORT_BYTES:
        raise ApiError(413, f"{name}: larger than {MAX_IMPORT_BYTES >> 20} MB")
    low = name.lower()
    try:
        if low.endswith((".yaml", ".yml")):
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                raise ApiError(422, f"{name}: not UTF-8 text") from None
            draft = forms.draft_from_body(text=text)
            _, problems = forms.check(draft)
            return {"template": draft, "problems": problems}
        draft, problems = forms.draft_from_sheet(data, name)
    except forms.FormError as exc:
        raise ApiError(415 if "send an .xlsx" in str(exc) else 422, str(exc), problems=exc.problems) from None
    _, checked = forms.check(draft)
    return {"template": draft, "problems": problems + checked}


@router.get("/templates/{template_id}/compare")
def compare(template_id: TemplateId, user: AnyUser,
            from_: Annotated[int, Query(alias="from", ge=1, le=10_000, description="the earlier version")],
            to: Annotated[int, Query(ge=1, le=10_000, description="the later version")]) -> dict[str, Any]:
    """What changed from one version to another: questions added, removed and changed (which of their fields,
    before and after), and whether the index definition changed."""
    return forms.compare(_version(template_id, from_), _version(template_id, to))


@router.get("/templates/{template_id}/{version}")
def template(template_id: TemplateId, version: Version, s: SessionDep, user: AnyUser) -> dict[str, Any]:
    """One version as stored: ``template`` (the YAML structure as JSON, option sets by name), ``yaml`` (its text),
    ``origin`` and ``frozen``."""
    _version(template_id, version)
    try:
        data, text, path = forms.raw(template_id, version)
    except forms.FormError as exc:
        raise ApiError(404, str(exc)) from None
    return {"id": template_id, "version": version, "origin": forms.origin(path),
            "frozen": forms.is_frozen(s, template_id, version), "yaml": text, "template": data}


@router.get("/templates/{template_id}/{version}/geometry")
def template_geometry(template_id: TemplateId, version: Version, user: AnyUser) -> dict[str, Any]:
    """Every page, marker, QR slot and field of one version of a questionnaire, in millimetres: the JSON of
    ``omr form geometry`` (fields with their kind, text as printed, options with value and label)."""
    return geometry(_version(template_id, version))


@router.get("/templates/{template_id}/{version}/preview/{page}.png", response_class=Response,
            responses={200: file_response("the page as printed", "image/png")})
def stored_preview(template_id: TemplateId, version: Version, user: AnyUser,
                   page: Annotated[int, Path(ge=1, le=8, description="the page (1-based)")]) -> Response:
    """A page of a stored version as printed (sample serial 000000)."""
    t = _version(template_id, version)
    if page > t.page_count:
        raise ApiError(404, f"{template_id} v{version} has {t.page_count} page(s), not {page}")
    return Response(page_png(t, page), media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


@router.get("/templates/{template_id}/{version}/pdf", response_class=Response, responses={200: file_response("a trial print", "application/pdf")})
def trial_pdf(template_id: TemplateId, version: Version, user: Admin,
              sheets: Annotated[int, Query(ge=1, le=MAX_TRIAL_SHEETS, description=f"sheets (1 to {MAX_TRIAL_SHEETS})")] = 1) -> Response:
    """A trial print of one version (serials 1..N, no agency). Sheets to hand out are printed through a round's
    print run (``POST /api/rounds/{id}/print-runs``), which reserves their serials."""
    t = _version(template_id, version)
    buf = io.BytesIO()
    try:
        render_pdf(t, buf, sheets=sheets, first_serial=1)
    except TemplateError as exc:
        raise ApiError(422, f"{template_id} v{version}: {exc.where}: {exc.problem}") from None
    return Response(buf.getvalue(), media_type="application/pdf",
                    headers={"Content-Disposition": content_disposition(f"{template_id}-v{version}-thu.pdf")})

