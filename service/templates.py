"""Questionnaire templates as the API sees them: looked up by id among the known templates, never by path."""
from __future__ import annotations

import re

from omr.errors import TemplateError
from omr.template import Template, find_template, list_templates, load_template, template_versions
from service.errors import ApiError

_ID = re.compile(r"[a-z0-9-]{1,100}")


def known_template(template_id: object, version: int | None = None) -> Template:
    """The template with this id (``sipas-2017``) and version (default its latest) from the shipped folder,
    ``OMR_TEMPLATE_PATH`` or the service's forms folder.

    Anything else (a path such as ``/etc/passwd``, ``../x.yaml``, an id no folder holds) is a 422 naming the
    known ids; a known template that does not load is a 422 naming the place and the problem, never the file's
    path on the server.
    """
    known = [t for t in list_templates() if _ID.fullmatch(t)]
    if not isinstance(template_id, str) or not _ID.fullmatch(template_id) or template_id not in known:
        shown = repr(template_id[:40]) if isinstance(template_id, str) else "(not text)"
        raise ApiError(422, f"unknown template {shown}: known templates are {', '.join(known) or 'none'} "
                            f"(không có mẫu phiếu này)")
    path = find_template(template_id, version)  # by id among the template folders only: never a path
    if path is None:
        have = ", ".join(map(str, template_versions(template_id))) or "none readable"
        raise ApiError(422,
                       f"template {template_id}: no version {version} (versions: {have}) (không có phiên bản này)"
                       if version is not None else f"template {template_id}: cannot be read (không đọc được mẫu phiếu)")
    try:
        return load_template(path)
    except TemplateError as exc:
        raise ApiError(422, f"template {template_id}: {exc.where}: {exc.problem}") from None
