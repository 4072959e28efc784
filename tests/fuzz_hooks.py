"""Schemathesis hooks for tests/test_fuzz.py (loaded by the schemathesis CLI through SCHEMATHESIS_HOOKS).

Every generated request is sent with a valid token of one of the four roles, in turn (admin every
other request: it may call every route, so it reaches the most code), so the fuzzer exercises the
handlers and not only the 401. The tokens come from the environment (OMR_FUZZ_TOKENS, JSON).
"""
from __future__ import annotations

import itertools
import json
import os

import schemathesis

_TOKENS: dict[str, str] = json.loads(os.environ.get("OMR_FUZZ_TOKENS", "{}"))
_ROLES = itertools.cycle(["admin", "reviewer", "admin", "operator", "admin", "viewer"])


@schemathesis.hook
def before_call(context, case, kwargs) -> None:  # noqa: ANN001
    if not _TOKENS:
        return
    role = next(_ROLES)
    headers = dict(case.headers or {})
    headers["Authorization"] = f"Bearer {_TOKENS[role]}"
    case.headers = headers
