"""Which form, page and sheet an aligned page is: its QR code, or failing that its printed footer.

Works on the aligned page (``layout.PX_PER_MM`` px/mm), where the QR code and
the footer text are at known places whatever the template.
"""
from __future__ import annotations

import re
import unicodedata

import cv2
import numpy as np
import numpy.typing as npt

from omr import tesseract
from omr.errors import ExternalToolError
from omr.identity import PageIdentity, parse_payload
from omr import idrow
from omr.layout import CONTENT_LEFT, ID_ROW_X, ID_ROW_Y, PX_PER_MM, QR_SIZE, QR_X, QR_Y, IdRow
from omr.template import list_templates, load_template

GrayImage = npt.NDArray[np.uint8]

_QR = cv2.QRCodeDetector()
_QR_FAST = cv2.QRCodeDetectorAruco()  # ~3x faster on a clean crop; the classic detector is the fallback


def _crop(img: GrayImage, x: float, y: float, w: float, h: float) -> GrayImage:
    H, W = img.shape
    x0, y0 = max(0, int(x * PX_PER_MM)), max(0, int(y * PX_PER_MM))
    x1, y1 = min(W, int((x + w) * PX_PER_MM)), min(H, int((y + h) * PX_PER_MM))
    return img[y0:y1, x0:x1]


def decode_qr(img: GrayImage) -> PageIdentity | None:
    """Decode our QR payload from an image (any orientation); None when there is none."""
    def variants():
        yield img
        big = cv2.resize(img, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
        yield big
        yield cv2.threshold(cv2.GaussianBlur(big, (5, 5), 0), 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[1]
        yield cv2.dilate(big, np.ones((3, 3), np.uint8))  # ink bleed: thin the modules back

    for k, v in enumerate(variants()):
        for det in (_QR_FAST, _QR) if k == 0 else (_QR,):
            try:
                text, _, _ = det.detectAndDecode(v)
            except cv2.error:
                continue
            if text:
                ident = parse_payload(text)
                if ident:
                    return ident
    return None


PAGE_SEARCH_LONG_SIDE = 2400  # a whole page is searched for a code at most this large (~290 dpi on A4)


def qr_anywhere(image: GrayImage) -> PageIdentity | None:
    """A code anywhere on a page that could not be placed (no markers, a poor fit): zxing-cpp,
    then OpenCV, on the page scaled to at most ``PAGE_SEARCH_LONG_SIDE`` (bounded cost)."""
    h, w = image.shape
    f = min(1.0, PAGE_SEARCH_LONG_SIDE / max(h, w))
    small = cv2.resize(image, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA) if f < 1 else image
    ident = _zxing(small)
    if ident is None:
        try:
            text, _, _ = _QR.detectAndDecode(small)
        except cv2.error:
            text = ""
        ident = parse_payload(text) if text else None
    return ident


QR_MARGIN = 4.0
QR_REGION = (QR_X - QR_MARGIN, QR_Y - QR_MARGIN, QR_SIZE + 2 * QR_MARGIN, QR_SIZE + 2 * QR_MARGIN)  # mm


def qr_from_aligned(aligned: GrayImage) -> PageIdentity | None:
    crop = _crop(aligned, *QR_REGION)
    return decode_qr(np.ascontiguousarray(crop))


def qr_fast(aligned: GrayImage) -> PageIdentity | None:
    """The one cheap try on a clean scan: OpenCV's fast detector on the code's place in the aligned page."""
    crop = np.ascontiguousarray(_crop(aligned, *QR_REGION))
    try:
        text, _, _ = _QR_FAST.detectAndDecode(crop)
    except cv2.error:
        return None
    return parse_payload(text) if text else None


# The code's place sampled straight from the scan at this resolution: ~4.9 px a module (0.49 mm)
# whatever the scan's own resolution, the size zxing's detector reads best.
QR_RECTIFIED_PX_PER_MM = 10.0


def _zxing(img: GrayImage) -> PageIdentity | None:
    try:
        import zxingcpp
    except ImportError:  # an install without it still reads with OpenCV alone
        return None
    for b in zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode, try_rotate=False, try_downscale=False):
        ident = parse_payload(b.text)
        if ident:
            return ident
    return None


def qr_rectified(crop: GrayImage) -> PageIdentity | None:
    """zxing-cpp on the code's region rectified at ``QR_RECTIFIED_PX_PER_MM``: as it is, then
    sharpened (a phone's blur smears the modules into each other)."""
    ident = _zxing(crop)
    if ident is None:
        blurred = cv2.GaussianBlur(crop, (0, 0), 2.0)
        ident = _zxing(cv2.addWeighted(crop, 2.0, blurred, -1.0, 0))
    return ident


def from_id_row(aligned: GrayImage, page: int) -> PageIdentity | None:
    """Layout 2's identity row (template code, serial, check) with the page from the markers."""
    got = idrow.read_row(aligned, IdRow(ID_ROW_X, ID_ROW_Y, idrow.ID_ROW_CELLS))
    if got is None:
        return None
    code, serial = got
    matches = []
    for tid in list_templates():
        try:
            t = load_template(tid)
        except Exception:  # noqa: BLE001 - a broken template must not break identification
            continue
        if idrow.template_code(t.id, t.version) == code:
            matches.append(t)
    if len(matches) != 1 or not 1 <= page <= matches[0].page_count:
        return None  # no installed template, or two with the same code: a person says which
    return PageIdentity(matches[0].id, matches[0].version, page, serial, None)


def _norm(s: str) -> str:
    s = unicodedata.normalize("NFKD", s.lower())
    return "".join(ch for ch in s if ch.isalnum() or ch in "-|·.:/ ")


FOOTER_OCR_TIMEOUT_S = 10.0  # the last fallback is bounded (tesseract reads a footer in ~0.5-1 s on an idle core; half the free-text limit)


def ocr_footer(aligned: GrayImage) -> PageIdentity | None:
    """Read the printed serial, page number and template id from the footer with tesseract."""
    try:
        if not tesseract.available():
            return None
        band = _crop(aligned, CONTENT_LEFT - 2, 274.0, QR_X - CONTENT_LEFT, 19.0)
        big = cv2.resize(band, None, fx=2.5, fy=2.5, interpolation=cv2.INTER_CUBIC)
        text = tesseract.read_text(big, lang="vie", psm=6, timeout=FOOTER_OCR_TIMEOUT_S)
    except ExternalToolError:
        return None
    t = _norm(text)
    serial = re.search(r"s\w{0,2}\s*ph\w*\s*[:.]?\s*(\d{6})\b", t) or re.search(r"\b(\d{6})\b", t)
    page = re.search(r"trang\s*(\d+)\s*/\s*(\d+)", t)
    ver = re.search(r"([a-z0-9][a-z0-9-]*[a-z0-9])\s*[·.\-–]?\s*v\s*(\d+)\s*$", t) or re.search(
        r"([a-z0-9][a-z0-9-]*[a-z0-9])\s*[·.\-–]?\s*v\s*(\d+)", t
    )
    agency = re.search(r"(?i)đơn\s*vị\s*[:.]?\s*([A-Za-z0-9._-]{1,20})", unicodedata.normalize("NFC", text))
    if not (serial and page):
        return None
    known = list_templates()
    template = None
    version = None
    if ver:
        cand = ver.group(1)
        best = max(known, key=lambda k: _similar(k, cand), default=None)
        if best and _similar(best, cand) >= 0.8:
            template, version = best, int(ver.group(2))
    if template is None:
        return None
    try:
        t_obj = load_template(template)
    except Exception:  # noqa: BLE001 - a broken template must not break identification
        return None
    if version != t_obj.version:
        version = t_obj.version
    return PageIdentity(template, version, int(page.group(1)), serial.group(1), agency.group(1) if agency else None)


def _similar(a: str, b: str) -> float:
    from difflib import SequenceMatcher

    return SequenceMatcher(None, a, b).ratio()
