"""Questionnaire templates: load, validate and look up (`form_templates/*.yaml`).

The format is documented in ``docs/template-format.md``. Validation errors
are :class:`TemplateError` and always name the file, the path inside it
(``pages[0].sections[2].questions[1].options``) and the problem.
"""
from __future__ import annotations

import copy
import os
import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from omr.errors import TemplateError

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "form_templates"

DEFAULT_INSTRUCTIONS = (
    "Đánh dấu X vào ô lựa chọn. Muốn sửa, tô kín ô đã đánh dấu rồi đánh dấu X vào ô khác."
)

_ID = r"^[a-z0-9_]+$"
VERSIONS_DIR = "versions"  # <template folder>/versions/<id>/<version>.yaml: every version kept


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(_Model):
    value: int
    label: str = Field(min_length=1)


QuestionKind = Literal["single", "multiple", "text", "code"]


class Question(_Model):
    id: Annotated[str, Field(pattern=_ID)]
    kind: QuestionKind = "single"
    text: str = Field(min_length=1)
    number: str | None = None
    options: list[Option] | str = Field(default_factory=list)
    columns: int | None = Field(default=None, ge=1, le=6)
    digits: int | None = Field(default=None, ge=1, le=10)
    lines: int | None = Field(default=None, ge=1, le=12)

    @model_validator(mode="after")
    def _kind_fits(self) -> "Question":
        if self.kind in ("single", "multiple") and not self.options:
            raise ValueError(f"a {self.kind}-choice question needs options")
        if self.kind == "code" and self.digits is None:
            raise ValueError("a code question needs 'digits' (1-10)")
        if self.kind == "text" and self.lines is None:
            object.__setattr__(self, "lines", 3)
        if self.kind in ("text", "code") and self.options:
            raise ValueError(f"a {self.kind} question takes no options")
        return self

    @property
    def option_list(self) -> list[Option]:
        """The resolved options (set names are resolved by the loader)."""
        assert not isinstance(self.options, str), "unresolved option set"
        return self.options


class Section(_Model):
    title: str | None = None
    note: str | None = None
    grid: str | list[Option] | None = None
    questions: list[Question] = Field(min_length=1)


class Page(_Model):
    sections: list[Section] = Field(min_length=1)


class Element(_Model):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    criteria: list[str] = Field(min_length=1)


class Indices(_Model):
    satisfied_values: list[int] = Field(default_factory=lambda: [4, 5], min_length=1)
    scale: tuple[int, int] = (1, 5)
    elements: list[Element] = Field(min_length=1)


class Template(_Model):
    id: Annotated[str, Field(pattern=r"^[a-z0-9-]+$")]
    version: int = Field(ge=1)
    language: str = "vi"
    issuer: str = ""
    issuer_sub: str | None = None
    national_header: bool = True
    title: str = Field(min_length=1)
    subtitle: str | None = None
    intro: str | None = None
    instructions: str = DEFAULT_INSTRUCTIONS
    closing: str | None = None
    option_sets: dict[str, list[Option]] = Field(default_factory=dict)
    pages: list[Page] = Field(min_length=1, max_length=8)
    indices: Indices | None = None
    respondent_groups: list[str] = Field(default_factory=list)

    @field_validator("option_sets")
    @classmethod
    def _sets_nonempty(cls, v: dict[str, list[Option]]) -> dict[str, list[Option]]:
        for name, opts in v.items():
            if not opts:
                raise ValueError(f"option set '{name}' is empty")
        return v

    # -- lookups ---------------------------------------------------------
    def questions(self) -> Iterator[tuple[int, Question]]:
        """Every question in print order, with its 1-based page number."""
        for page_no, page in enumerate(self.pages, start=1):
            for section in page.sections:
                yield from ((page_no, q) for q in section.questions)

    def question(self, qid: str) -> Question:
        for _, q in self.questions():
            if q.id == qid:
                return q
        raise KeyError(qid)

    @property
    def page_count(self) -> int:
        return len(self.pages)


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _nfc(obj: Any) -> Any:
    """Normalise every string to Unicode NFC so diacritics compare and print alike."""
    if isinstance(obj, str):
        return unicodedata.normalize("NFC", obj)
    if isinstance(obj, list):
        return [_nfc(x) for x in obj]
    if isinstance(obj, dict):
        return {k: _nfc(v) for k, v in obj.items()}
    return obj


def _resolve_and_check(data: dict[str, Any], path: str) -> dict[str, Any]:
    """Resolve option-set names and check cross references, raising TemplateError."""
    sets = data.get("option_sets") or {}
    seen: dict[str, str] = {}
    for pi, page in enumerate(data.get("pages") or []):
        for si, section in enumerate((page or {}).get("sections") or []):
            grid = section.get("grid")
            where_s = f"pages[{pi}].sections[{si}]"
            if isinstance(grid, str):
                if grid not in sets:
                    raise TemplateError(path, f"{where_s}.grid", f"unknown option set '{grid}' (known: {', '.join(sets) or 'none'})")
                section["grid"] = sets[grid]
            for qi, q in enumerate(section.get("questions") or []):
                if not isinstance(q, dict):
                    continue
                where = f"{where_s}.questions[{qi}]"
                if grid is not None:
                    if q.setdefault("kind", "single") != "single":
                        raise TemplateError(path, f"{where}.kind", "questions in a grid section are single choice")
                    if "options" in q:
                        raise TemplateError(path, f"{where}.options", "questions in a grid section take the grid's options")
                    q["options"] = section["grid"]
                opts = q.get("options")
                if isinstance(opts, str):
                    if opts not in sets:
                        raise TemplateError(path, f"{where}.options", f"unknown option set '{opts}' (known: {', '.join(sets) or 'none'})")
                    q["options"] = sets[opts]
                qid = q.get("id")
                if isinstance(qid, str):
                    if qid in seen:
                        raise TemplateError(path, f"{where}.id", f"duplicate question id '{qid}' (first at {seen[qid]})")
                    seen[qid] = where
                values = [o.get("value") for o in q.get("options") or [] if isinstance(o, dict)]
                dup = {v for v in values if values.count(v) > 1}
                if dup:
                    raise TemplateError(path, f"{where}.options", f"duplicate option value(s) {sorted(dup)}")
    return data


def _check_indices(t: Template, path: str) -> None:
    if t.indices is None:
        return
    lo, hi = t.indices.scale
    if lo >= hi:
        raise TemplateError(path, "indices.scale", f"scale {lo}..{hi} is empty")
    used: dict[str, str] = {}
    for ei, el in enumerate(t.indices.elements):
        for ci, cid in enumerate(el.criteria):
            where = f"indices.elements[{ei}].criteria[{ci}]"
            try:
                q = t.question(cid)
            except KeyError:
                raise TemplateError(path, where, f"criterion '{cid}' is not a question of this template") from None
            if q.kind != "single":
                raise TemplateError(path, where, f"criterion '{cid}' is a {q.kind} question; criteria must be single choice")
            values = {o.value for o in q.option_list}
            missing = [v for v in t.indices.satisfied_values if v not in values]
            if missing:
                raise TemplateError(path, where, f"criterion '{cid}' has no option(s) {missing} named in indices.satisfied_values")
            if cid in used:
                raise TemplateError(path, where, f"criterion '{cid}' is already in element {used[cid]}")
            used[cid] = el.id
    for gi, gid in enumerate(t.respondent_groups):
        try:
            q = t.question(gid)
        except KeyError:
            raise TemplateError(path, f"respondent_groups[{gi}]", f"'{gid}' is not a question of this template") from None
        if q.kind != "single":
            raise TemplateError(path, f"respondent_groups[{gi}]", f"'{gid}' must be a single-choice question")


def parse_template(text: str, path: str = "<string>") -> Template:
    """Parse and validate template YAML text; `path` names it in errors."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(YAML)"
        problem = getattr(exc, "problem", None) or str(exc)
        raise TemplateError(path, where, f"not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise TemplateError(path, "(top level)", "a template must be a mapping with id, version, title and pages")
    data = _resolve_and_check(_nfc(data), path)
    try:
        t = Template.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        msg = err["msg"].removeprefix("Value error, ")
        raise TemplateError(path, _loc(err["loc"]), msg) from None
    _check_indices(t, path)
    return t


def template_problems(data: Any, path: str = "<draft>") -> tuple[Template | None, list[tuple[str, str]]]:
    """Every problem of a template given as a mapping (a form being designed), as (where, problem) pairs, and the
    template when there is none. Field errors are all reported at once; the cross checks (option sets, ids,
    indices) and the layout (does every page fit) report their first problem, as loading the YAML would."""
    from omr.layout import layout  # the layout imports this module

    if not isinstance(data, dict):
        return None, [("(top level)", "a template must be a mapping with id, version, title and pages")]
    try:
        resolved = _resolve_and_check(_nfc(copy.deepcopy(data)), path)
    except TemplateError as exc:
        return None, [(exc.where, exc.problem)]
    try:
        t = Template.model_validate(resolved)
    except ValidationError as exc:
        seen: list[tuple[str, str]] = []
        for err in exc.errors():
            item = (_loc(err["loc"]), err["msg"].removeprefix("Value error, "))
            if item not in seen:
                seen.append(item)
        return None, seen
    try:
        _check_indices(t, path)
        layout(t)
    except TemplateError as exc:  # LayoutError too; its place may end with the question id: "…questions[2] (c07)"
        return None, [(re.sub(r" \([^)]*\)$", "", exc.where), exc.problem)]
    return t, []


def load_template_file(path: str | Path) -> Template:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TemplateError(str(p), "(file)", "no such file") from None
    except UnicodeDecodeError as exc:
        raise TemplateError(str(p), f"byte {exc.start}", "not UTF-8 text") from None
    t = parse_template(text, str(p))
    if p.suffix in (".yaml", ".yml"):
        if p.parent.parent.name == VERSIONS_DIR:  # an archived version: versions/<id>/<version>.yaml
            if (p.parent.name, p.stem) != (t.id, str(t.version)):
                raise TemplateError(str(p), "id", f"'{t.id}' version {t.version} does not match its place "
                                                  f"{VERSIONS_DIR}/{p.parent.name}/{p.name}")
        elif p.stem != t.id:
            raise TemplateError(str(p), "id", f"the id '{t.id}' does not match the file name '{p.stem}'")
    return t


def template_dirs() -> list[Path]:
    """Where templates are looked up: the shipped folder, then ``OMR_TEMPLATE_PATH`` (os.pathsep-separated).

    The service puts its own forms folder (``<data dir>/forms``, where forms made in the browser are saved) on
    ``OMR_TEMPLATE_PATH``; pointing ``omr scan`` and ``omr tally`` at that folder the same way lets them read
    those forms too."""
    extra = [Path(p) for p in os.environ.get("OMR_TEMPLATE_PATH", "").split(os.pathsep) if p]
    return [TEMPLATES_DIR, *extra, *[d for d in _forms_dir if d not in extra]]


_forms_dir: list[Path] = []  # the service's own forms folder, when this process serves (or reads for) one


def use_forms_dir(path: str | Path | None) -> None:
    """Look templates up in ``path`` too (after the others): the service's folder of forms made in the browser.
    One per process; ``None`` forgets it."""
    _forms_dir[:] = [Path(path)] if path else []


def _files(name: str) -> list[Path]:
    """Every file that may hold a version of template ``name``: ``<dir>/<name>.yaml`` and the archived
    versions ``<dir>/versions/<name>/<version>.yaml``, in every template folder."""
    out = []
    for d in template_dirs():
        p = d / f"{name}.yaml"
        if p.is_file():
            out.append(p)
        archive = d / VERSIONS_DIR / name
        if archive.is_dir():
            out.extend(sorted(archive.glob("*.yaml")))
    return out


def _find(name: str, version: int | None = None) -> Path | None:
    """The file of ``name`` at ``version``, or of its latest version (the highest version number wins over the
    folder order, so a form edited in the service supersedes the shipped one of the same id)."""
    best: tuple[int, Path] | None = None
    for p in _files(name):
        try:
            t = _load_cached(str(p.resolve()), p.stat().st_mtime)
        except (TemplateError, OSError):
            if version is None and best is None and p.parent.parent.name != VERSIONS_DIR:
                best = (-1, p)  # a broken latest file: loading it again reports the problem
            continue
        if version is not None:
            if t.version == version:
                return p
        elif best is None or t.version > best[0]:
            best = (t.version, p)
    return best[1] if best else None


def find_template(name: str, version: int | None = None) -> Path | None:
    """The file of template ``name`` (an id, never a path) at ``version`` or its latest, or None."""
    return _find(name, version) if re.fullmatch(r"[a-z0-9-]+", name) else None


def template_versions(name: str) -> list[int]:
    """The versions of template ``name`` found in the template folders, ascending."""
    found = set()
    for p in _files(name):
        try:
            found.add(_load_cached(str(p.resolve()), p.stat().st_mtime).version)
        except (TemplateError, OSError):
            continue
    return sorted(found)


def list_templates() -> list[str]:
    return sorted({p.stem for d in template_dirs() if d.is_dir() for p in d.glob("*.yaml")})


@lru_cache(maxsize=64)
def _load_cached(path: str, mtime: float) -> Template:
    return load_template_file(path)


def load_template(name_or_path: str | Path, version: int | None = None) -> Template:
    """Load a template by id (``sipas-2017``; its latest version, or ``version``) or any YAML file by path."""
    s = str(name_or_path)
    p = Path(s)
    if not (s.endswith((".yaml", ".yml")) or p.is_file()):
        if not re.fullmatch(r"[a-z0-9-]+", s):
            raise TemplateError(s, "(name)", "not a template id or a YAML file")
        found = _find(s, version)
        if found is None:
            if version is not None and _files(s):
                have = ", ".join(str(v) for v in template_versions(s)) or "none readable"
                raise TemplateError(s, "(version)", f"no version {version} of this template (versions: {have})")
            raise TemplateError(s, "(name)", f"no such template (known: {', '.join(list_templates()) or 'none'})")
        p = found
    try:
        mtime = p.stat().st_mtime
    except FileNotFoundError:
        raise TemplateError(str(p), "(file)", "no such file") from None
    t = _load_cached(str(p.resolve()), mtime)
    if version is not None and t.version != version:
        raise TemplateError(str(p), "version", f"the file holds version {t.version}, not {version}")
    return t
