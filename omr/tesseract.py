"""The one place that runs tesseract (through pytesseract), with timeouts.

Its known failures become :class:`omr.errors.ExternalToolError`; callers
that can do without OCR (it only ever makes suggestions) catch it.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt

from omr.errors import ExternalToolError

OCR_TIMEOUT_S = 20


@lru_cache(maxsize=1)
def probe() -> tuple[str, frozenset[str]]:
    """tesseract's version and installed languages; raises when it is missing."""
    import pytesseract

    try:
        version = str(pytesseract.get_tesseract_version())
        langs = frozenset(pytesseract.get_languages(config=""))
    except (pytesseract.TesseractNotFoundError, OSError) as exc:
        raise ExternalToolError(f"tesseract is not installed ({exc}): apt-get install tesseract-ocr tesseract-ocr-vie") from None
    return version, langs


def available() -> bool:
    try:
        probe()
    except ExternalToolError:
        return False
    return True


def read_text(image: npt.NDArray[np.uint8], *, lang: str = "vie", psm: int = 6, timeout: float = OCR_TIMEOUT_S) -> str:
    """OCR a grayscale crop; returns the text with whitespace tidied."""
    import pytesseract

    _, langs = probe()
    if lang not in langs:
        lang = "eng" if "eng" in langs else next(iter(langs), "eng")
    try:
        text = pytesseract.image_to_string(image, lang=lang, config=f"--psm {psm}", timeout=timeout)
    except RuntimeError as exc:  # pytesseract raises RuntimeError on timeout
        raise ExternalToolError(f"tesseract timed out after {timeout:.0f} s") from exc
    except pytesseract.TesseractError as exc:
        raise ExternalToolError(f"tesseract failed: {exc}") from exc
    return " ".join(text.split())
