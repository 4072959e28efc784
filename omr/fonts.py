"""Fonts for printed forms: a serif face with full Vietnamese coverage.

Looks for Noto Serif (Debian ``fonts-noto-core``), then DejaVu Serif
(``fonts-dejavu-core``); registers them with reportlab so that the PDF embeds
them and so that the layout engine measures text exactly as it is printed.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from omr.errors import OmrError

_PT_PER_MM = 72.0 / 25.4

_FAMILIES = [
    ("/usr/share/fonts/truetype/noto", "NotoSerif-Regular.ttf", "NotoSerif-Bold.ttf", "NotoSerif-Italic.ttf"),
    ("/usr/share/fonts/truetype/dejavu", "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf"),
]

REGULAR = "Form"
BOLD = "Form-Bold"
ITALIC = "Form-Italic"


@lru_cache(maxsize=1)
def register() -> str:
    """Register the form fonts once; returns the family file name used."""
    for folder, regular, bold, italic in _FAMILIES:
        paths = [Path(folder) / f for f in (regular, bold, italic)]
        if all(p.is_file() for p in paths):
            for name, p in zip((REGULAR, BOLD, ITALIC), paths):
                pdfmetrics.registerFont(TTFont(name, str(p)))
            return regular
    raise OmrError(
        "no font with Vietnamese coverage found: install Debian's fonts-noto-core or fonts-dejavu-core"
    )


@lru_cache(maxsize=1)
def font_files() -> dict[str, str]:
    """The file of each form font (the same faces the PDF embeds), for drawing previews."""
    for folder, regular, bold, italic in _FAMILIES:
        paths = [Path(folder) / f for f in (regular, bold, italic)]
        if all(p.is_file() for p in paths):
            return {name: str(p) for name, p in zip((REGULAR, BOLD, ITALIC), paths)}
    raise OmrError("no font with Vietnamese coverage found: install Debian's fonts-noto-core or fonts-dejavu-core")


@lru_cache(maxsize=65536)  # a form's layout measures the same words and lines again on every redraw
def text_width_mm(text: str, font: str, size_pt: float) -> float:
    register()
    return pdfmetrics.stringWidth(text, font, size_pt) / _PT_PER_MM


def wrap(text: str, font: str, size_pt: float, width_mm: float) -> list[str]:
    """Greedy word wrap to ``width_mm``; a word longer than the width stands alone."""
    lines: list[str] = []
    for para in text.split("\n"):
        words = para.split()
        line = ""
        for w in words:
            trial = f"{line} {w}" if line else w
            if line and text_width_mm(trial, font, size_pt) > width_mm:
                lines.append(line)
                line = w
            else:
                line = trial
        lines.append(line)
    return lines
