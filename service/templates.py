"""Questionnaire templates as the API sees them: looked up by id among the known templates, never by path."""
from __future__ import annotations

import re

from omr.errors import TemplateError
from omr.template import Template, list_templates, load_template, template_dirs
from service.errors import ApiError

_ID = re.compile(r"[a-z0-9-]{1,100}")


def known_template(template_id: object) -> Template:
    """The template with this id (``sipas-2017``) from the shipped folder or ``OMR_TEMPLATE_PATH``.

    Anything else (a path such as ``/etc/passwd``, ``../x.yaml``, an id no folder holds) is a 422 naming the
    known ids; a known template that does not load is a 422 naming the place and the problem, never the file's
    path on the server.
    """
    known = [t for t in list_templates() if _ID.fullmatch(t)]
    if not isinstance(template_id, str) or not _ID.fullmatch(template_id) or template_id not in known:
        shown = repr(template_id[:40]) if isinstance(template_id, str) else "(not text)"
        raise ApiError(422, f"unknown template {shown}: known templates are {', '.join(known) or 'none'} "
                            f"(không có mẫu phiếu này)")
    for d in template_dirs():
        path = d / f"{template_id}.yaml"
        if path.is_file():
            try:
                return load_template(path)
            except TemplateError as exc:
                raise ApiError(422, f"template {template_id}: {exc.where}: {exc.problem}") from None
    raise ApiError(422, f"unknown template {template_id!r} (không có mẫu phiếu này)")  # removed meanwhile
