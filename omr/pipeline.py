"""One scanned page in, one page result out: load → align → identify → read marks → decide.

``process_page`` is the worker boundary: it takes an image and a little
context and returns a small value (:class:`PageOutput`), so it runs the same
in ``omr scan``'s process pool, in the service's workers, or on a task queue.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from omr import align, decide, defs, identify, marks, shading, streaks, text_fields
from omr.errors import OmrError
from omr.io import LoadedPage, iter_pages
from omr.layout import LAYOUT_LATEST, layout
from omr.results import FieldResult, PageResult
from omr.template import Template, load_template, template_versions

GrayImage = npt.NDArray[np.uint8]

BLANK_PAGE = "blank page: no content"  # the error of a page with no ink (an empty back side); others match on it


@dataclass(slots=True)
class PageOutput:
    result: PageResult
    aligned: GrayImage | None = None  # the page in template space, layout.PX_PER_MM px/mm


@dataclass(frozen=True, slots=True)
class ScanOptions:
    ocr: bool = True  # tesseract suggestions for free text, and the footer when the QR is unreadable


def process_page(image: GrayImage, *, source: str, index: int, options: ScanOptions = ScanOptions()) -> PageOutput:
    """Read one page image (grayscale uint8) into a :class:`PageResult`."""
    res = PageResult(source=source, index=index, status="error")
    try:
        return _process(image, res, options)
    except OmrError as exc:
        res.status, res.error = "error", exc.message
    except Exception as exc:  # noqa: BLE001 - one bad page never sinks a batch; the reason is kept
        res.status, res.error = "error", f"internal error reading the page: {type(exc).__name__}: {exc}"
    return PageOutput(res)


def _process(image: GrayImage, res: PageResult, options: ScanOptions) -> PageOutput:
    if image.ndim != 2 or image.dtype != np.uint8:
        raise OmrError(f"expected a grayscale uint8 image, got {image.dtype} {image.shape}")
    if is_blank(image):
        res.status, res.error = "unrecognized", BLANK_PAGE
        return PageOutput(res)
    found_streaks = streaks.find_streaks(image)
    if found_streaks:
        image = streaks.paint_out(image, found_streaks)
        res.warnings.extend(s.describe() for s in found_streaks)
    found, layout_version, marker_page = align.page_markers(align.find_markers(image))
    fit = align.fit(found)
    if fit is None or fit.quality <= 0.0:
        ident = identify.qr_anywhere(image)
        res.status = "unrecognized"
        if ident:
            _set_identity(res, ident, "qr")
            res.error = f"registration markers: found {len(found)} of 4; the page cannot be placed"
        else:
            res.error = f"not a known form: no QR code, {len(found)} of 4 registration markers"
        return PageOutput(res)
    aligned = fit.warp(image)
    res.alignment_quality = fit.quality
    ident = identify.qr_fast(aligned)
    how = "qr"
    if ident is None:  # a photo, a 1-bit scan: the code's region sampled from the scan at a fixed module size
        ident = identify.qr_rectified(fit.warp_region(image, *identify.QR_REGION, px_per_mm=identify.QR_RECTIFIED_PX_PER_MM))
    if ident is None:  # OpenCV's detectors with their variants, on the region only
        ident = identify.qr_from_aligned(aligned)
    if ident is None and layout_version >= 2 and marker_page is not None:  # the identity row, read like marks
        ident = identify.from_id_row(aligned, marker_page)
        how = "marks"
    if ident is None and fit.quality < 0.5:  # the fit may have put the code elsewhere: look everywhere
        ident = identify.qr_anywhere(image)
        how = "qr"
    if ident is None and options.ocr:
        ident = identify.ocr_footer(aligned)
        how = "ocr"
    if ident is None:
        res.status, res.error = "unrecognized", "registration markers found but the QR code and the printed serial are unreadable"
        return PageOutput(res, aligned)
    _set_identity(res, ident, how)
    try:
        template = load_template(ident.template, version=ident.version)  # every version printed stays readable
    except OmrError:
        known = template_versions(ident.template)
        res.status = "unrecognized"
        res.error = (f"form '{ident.template}' version {ident.version} is not known (known versions: "
                     f"{', '.join(map(str, known))})" if known else f"form '{ident.template}' is not a known template")
        return PageOutput(res, aligned)
    if not 1 <= ident.page <= template.page_count:
        res.status, res.error = "unrecognized", f"form '{ident.template}' has no page {ident.page}"
        return PageOutput(res, aligned)
    flat, _ = shading.flatten(aligned)  # after the QR code is read: its dark square is no paper to divide by
    res.fields = read_fields(flat, template, ident.page, options, warnings=res.warnings, layout_version=layout_version)
    res.status = "ok"
    return PageOutput(res, aligned)


def is_blank(image: GrayImage) -> bool:
    """No ink on the page: an empty back side from duplex scanning, even with the front showing through."""
    small = image[::8, ::8]
    if int(small.max()) - int(small.min()) < 24 or float(small.std()) < 2.0:
        return True  # uniform: an empty glass, a closed lid
    k = int(small.size * 0.9)
    paper = float(np.partition(small.ravel(), k)[k])
    ink = np.count_nonzero(small < paper * (1.0 - defs.BLANK_INK_DARKNESS))
    return ink < small.size * defs.BLANK_MAX_INK_SHARE


def _set_identity(res: PageResult, ident, how: str) -> None:
    res.template, res.version, res.page, res.sheet, res.agency = ident.template, ident.version, ident.page, ident.serial, ident.agency
    res.identified_by = how


def read_fields(
    aligned: GrayImage, template: Template, page: int, options: ScanOptions = ScanOptions(), *, warnings: list[str] | None = None,
    layout_version: int = LAYOUT_LATEST,
) -> dict[str, FieldResult]:
    """Read every field of one aligned page of ``template``.

    When too few printed box borders are found where the alignment puts them
    (a marker under a stain pulled the fit), no box reading on the page is
    trusted: every field goes to a reviewer, and ``warnings`` says why."""
    geo = layout(template, layout_version).pages[page - 1]
    boxed = [f for f in geo.fields if f.kind != "text"]
    printed = marks.printed_lines(geo)
    measured = [marks.measure_field(aligned, f, printed) for f in boxed]
    flat = marks.calibrate([m for ms in measured for m in ms])
    share = marks.located_share(flat)
    misplaced = share < defs.MIN_LOCATED_SHARE
    if misplaced and warnings is not None:
        warnings.append(f"page misaligned: {share:.0%} of the printed boxes found where expected; every answer goes to review")
    out: dict[str, FieldResult] = {}
    k = 0
    for f, ms in zip(boxed, measured):
        out[f.id] = decide.decide_field(f, flat[k : k + len(ms)])
        if misplaced:
            out[f.id] = decide.distrust(out[f.id], "page misaligned")
        k += len(ms)
    for f in geo.fields:
        if f.kind == "text":
            out[f.id] = text_fields.read_text_field(aligned, f, ocr=options.ocr)
    return {f.id: out[f.id] for f in geo.fields}


def scan_file(path: str, *, options: ScanOptions = ScanOptions()) -> Iterator[PageOutput]:
    """Every page of one file, read; unreadable pages come out as status "error"."""
    for lp in iter_pages(path):
        yield process_loaded(lp, options)


def process_loaded(lp: LoadedPage, options: ScanOptions = ScanOptions()) -> PageOutput:
    if lp.image is None:
        return PageOutput(PageResult(source=lp.source, index=lp.index, status="error", error=lp.error))
    return process_page(lp.image, source=lp.source, index=lp.index, options=options)
