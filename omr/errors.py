"""The recognition core's exception types.

Each carries a user-facing message and the process exit code the CLI uses for
it; ``omr.cli`` has the one handler that turns them into output.
"""
from __future__ import annotations


class OmrError(Exception):
    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TemplateError(OmrError):
    """A questionnaire template is invalid: names the file, the place in it and the problem."""

    exit_code = 3

    def __init__(self, file: str, where: str, problem: str) -> None:
        super().__init__(f"{file}: {where}: {problem}")
        self.file = file
        self.where = where
        self.problem = problem


class LayoutError(TemplateError):
    """A template's content does not fit the printed page."""


class InputError(OmrError):
    """An input file cannot be read: names the file (and page) and the problem."""

    exit_code = 4


class ExternalToolError(OmrError):
    """An external program (tesseract, poppler) is missing, failed or timed out."""

    exit_code = 5
