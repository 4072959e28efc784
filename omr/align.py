"""Find the four corner markers and map a scanned page onto the template's page.

Coordinates: image pixels (x right, y down) in, template millimetres out; the
aligned page is rendered at ``layout.PX_PER_MM``. Every corner marker has its
own ArUco id, so the fit also undoes any rotation (90°, 180°, upside down).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from omr import defs
from omr.identity import aruco_dictionary
from omr.layout import MAX_PAGES, PAGE_H, PAGE_W, PX_PER_MM, marker_group, marker_positions

GrayImage = npt.NDArray[np.uint8]
Corners = npt.NDArray[np.float32]  # (4, 2): marker corners TL, TR, BR, BL in its own upright frame

_DETECT_LONG_SIDE = 1000  # markers are 9 mm; ~3.4 px/mm (30 px a marker) is plenty to find them
_DETECT_PAD_PX = 12  # white margin added around the detection image
CORNER_NEAR = 0.15  # markers are looked for first in this share of each side from each corner ...
CORNER_FAR = 0.3  # ... then, where none is found there, in this share
_CORNER_CLEAR_PX = 20  # a marker this far from the near window's inner edges is found the same in the far one
# (the widest threshold window, 27 px, reaches 13 px; corner refinement 5 px)


@dataclass(slots=True)
class Alignment:
    matrix: npt.NDArray[np.float64]  # 3x3, image px -> aligned px
    markers_found: list[int]
    model: str  # "homography" | "affine" | "similarity"
    rms_mm: float  # residual of the marker corners after the fit
    quality: float  # 0..1

    def warp(self, gray: GrayImage) -> GrayImage:
        size = (round(PAGE_W * PX_PER_MM), round(PAGE_H * PX_PER_MM))
        return cv2.warpPerspective(gray, self.matrix, size, flags=cv2.INTER_AREA, borderValue=255)

    def warp_region(self, gray: GrayImage, x: float, y: float, w: float, h: float, px_per_mm: float) -> GrayImage:
        """One region of the page (mm) straight from the scan, at its own resolution."""
        f = px_per_mm / PX_PER_MM
        shift = np.array([[f, 0, -x * px_per_mm], [0, f, -y * px_per_mm], [0, 0, 1]], np.float64)
        size = (round(w * px_per_mm), round(h * px_per_mm))
        return cv2.warpPerspective(gray, shift @ self.matrix, size, flags=cv2.INTER_CUBIC, borderValue=255)


def _detector(thorough: bool) -> cv2.aruco.ArucoDetector:
    params = cv2.aruco.DetectorParameters()
    params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    if thorough:  # many threshold windows: low contrast, uneven light
        params.adaptiveThreshWinSizeMin = 5
        params.adaptiveThreshWinSizeMax = 53
        params.adaptiveThreshWinSizeStep = 8
    else:  # a marker is ~30 px here: two windows around that size find it on a clean scan
        params.adaptiveThreshWinSizeMin = 11
        params.adaptiveThreshWinSizeMax = 27
        params.adaptiveThreshWinSizeStep = 16
    params.minMarkerPerimeterRate = 0.02
    params.polygonalApproxAccuracyRate = 0.05
    # sample only the middle of each cell: ink bleed or a heavy threshold eats the cell edges
    params.perspectiveRemoveIgnoredMarginPerCell = 0.3
    params.maxErroneousBitsInBorderRate = 0.5
    return cv2.aruco.ArucoDetector(aruco_dictionary(), params)


_DETS: dict[bool, cv2.aruco.ArucoDetector] = {}


def _det(thorough: bool) -> cv2.aruco.ArucoDetector:
    if thorough not in _DETS:
        _DETS[thorough] = _detector(thorough)
    return _DETS[thorough]


def find_markers(gray: GrayImage) -> dict[int, Corners]:
    """Our corner markers found in the image, in full-image pixels (every layout's ids:
    0-3, and 4p..4p+3 for page p of layout 2); :func:`page_markers` keeps one page's."""
    wanted = set(range(4 * (MAX_PAGES + 1)))
    h, w = gray.shape
    f = min(1.0, _DETECT_LONG_SIDE / max(h, w))
    small = cv2.resize(gray, (round(w * f), round(h * f)), interpolation=cv2.INTER_LINEAR) if f < 1 else gray
    # a white margin: a marker at the very edge of the scan (a copier's shift, a skewed feed) still
    # has paper around it, and ArUco skips contours that touch the image border
    pad = _DETECT_PAD_PX
    small = cv2.copyMakeBorder(small, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)
    found: dict[int, Corners] = {}

    def candidates(img: GrayImage, thorough: bool = False) -> list[tuple[int, npt.NDArray[np.float32]]]:
        """Our markers found in ``img`` (its own pixels)."""
        corners, ids, _ = _det(thorough).detectMarkers(img)
        if ids is None:
            return []
        return [(int(i), c.reshape(4, 2)) for c, i in zip(corners, ids.ravel()) if int(i) in wanted]

    def add(cands: list[tuple[int, npt.NDArray[np.float32]]], ox: int, oy: int) -> None:
        for i, c in cands:
            c = (c + (ox - pad, oy - pad)) / f
            if c.min() < 0 or c[:, 0].max() > w - 1 or c[:, 1].max() > h - 1:
                continue  # cut off by the edge of the scan: its corners are not where the paper's are
            area = cv2.contourArea(c.astype(np.float32))
            if i not in found or area > cv2.contourArea(found[i]):
                found[i] = c.astype(np.float32)

    def detect(img: GrayImage, ox: int = 0, oy: int = 0, thorough: bool = False) -> None:
        add(candidates(img, thorough), ox, oy)

    # A scan has its markers in the image's corners: look there first (4x less work), in the
    # corner's first CORNER_NEAR share of each side; only where nothing is found there clear of
    # the window's inner edges, in its CORNER_FAR share. Detection is local (the thresholds'
    # windows, the contours), so a marker found clear of those edges is found the same in the
    # larger window: the same corners at a third of the work.
    sh, sw = small.shape
    cw, ch = int(sw * CORNER_FAR), int(sh * CORNER_FAR)
    nw, nh = int(sw * CORNER_NEAR), int(sh * CORNER_NEAR)
    for right, bottom in ((False, False), (True, False), (False, True), (True, True)):
        nx, ny = (sw - nw if right else 0), (sh - nh if bottom else 0)
        near = candidates(small[ny : ny + nh, nx : nx + nw])

        def clear(c: npt.NDArray[np.float32]) -> bool:  # far enough from the inner edges of the near window
            g = _CORNER_CLEAR_PX
            return bool((c[:, 0].min() >= g) if right else (c[:, 0].max() <= nw - 1 - g)) and bool(
                (c[:, 1].min() >= g) if bottom else (c[:, 1].max() <= nh - 1 - g))

        if near and all(clear(c) for _, c in near):
            add(near, nx, ny)
            continue
        ox, oy = (sw - cw if right else 0), (sh - ch if bottom else 0)
        detect(small[oy : oy + ch, ox : ox + cw], ox, oy)
    known = _placed_corners(found)
    if known is not None and len(found) < 4:
        # two or three corners of one page found: they say where the others must be; look only
        # there (a tenth of the work of the whole image each), thoroughly, then harder
        to_small = _lstsq_similarity(
            np.concatenate([_canonical_corners(i) for i in known]), np.concatenate([c * f + pad for c in known.values()])
        )
        for k in range(4):
            if k in {i % 4 for i in found} or to_small is None:
                continue
            ex, ey = cv2.perspectiveTransform(_canonical_corners(k).mean(axis=0).reshape(1, 1, 2), to_small).ravel()
            x0, y0 = int(np.clip(ex - cw / 2, 0, sw - cw)), int(np.clip(ey - ch / 2, 0, sh - ch))
            win = np.ascontiguousarray(small[y0 : y0 + ch, x0 : x0 + cw])
            for variant in (lambda g: g, lambda g: cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8)).apply(g),
                            lambda g: cv2.dilate(g, np.ones((3, 3), np.uint8))):
                detect(variant(win), x0, y0, thorough=True)
                if k in {i % 4 for i in found}:
                    break
    else:
        if len(found) < 4:  # a photo, a shifted scan: the whole image, every threshold window
            detect(small, thorough=True)
        if len(found) < 4:  # uneven light, low contrast: normalise locally and try again
            detect(cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8)).apply(small), thorough=True)
        if len(found) < 3:  # ink bleed / heavy threshold: thin the black back down
            detect(cv2.dilate(small, np.ones((3, 3), np.uint8)), thorough=True)
    if found and f < 1:
        # refine the corners on the full-resolution image
        pts = np.concatenate(list(found.values())).reshape(-1, 1, 2)
        win = max(2, int(round(1.5 / f)))
        crit = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.05)
        init = pts.astype(np.float32)
        pts = cv2.cornerSubPix(gray, init.copy(), (win, win), (-1, -1), crit)
        # a corner that wandered off (blur, a stroke touching the marker) keeps its first estimate
        moved = np.linalg.norm((pts - init).reshape(-1, 2), axis=1) > 1.5 / f
        pts[moved] = init[moved]
        for k, i in enumerate(list(found)):
            found[i] = pts[4 * k : 4 * k + 4].reshape(4, 2)
    return found


def _placed_corners(found: dict[int, Corners]) -> dict[int, Corners] | None:
    """The markers found when they are two or three distinct corners of one page, else None."""
    if not 2 <= len(found) <= 3 or len({marker_group(i) for i in found}) != 1 or len({i % 4 for i in found}) != len(found):
        return None
    return found


def page_markers(found: dict[int, Corners]) -> tuple[dict[int, Corners], int, int | None]:
    """The markers of one page (the layout and page with most markers found), its layout
    version and its page number (None for layout 1, whose markers are the same on every page)."""
    groups: dict[tuple[int, int | None], dict[int, Corners]] = {}
    for i, c in found.items():
        groups.setdefault(marker_group(i), {})[i] = c
    if not groups:
        return {}, 1, None
    (version, page), markers = max(groups.items(), key=lambda kv: (len(kv[1]), sum(cv2.contourArea(c) for c in kv[1].values())))
    return markers, version, page


def _canonical_corners(marker_id: int) -> Corners:
    for m in marker_positions():
        if m.id == marker_id % 4:  # the corner is the id modulo 4 in every layout
            x, y, s = m.x * PX_PER_MM, m.y * PX_PER_MM, m.size * PX_PER_MM
            return np.array([[x, y], [x + s, y], [x + s, y + s], [x, y + s]], np.float32)
    raise KeyError(marker_id)


def _lstsq_affine(src: npt.NDArray[np.float32], dst: npt.NDArray[np.float32]) -> npt.NDArray[np.float64] | None:
    """The 3x3 affine matrix minimising the squared corner distances (src, dst: N x 2)."""
    a = np.hstack([src.astype(np.float64), np.ones((len(src), 1))])
    sol, _, rank, _ = np.linalg.lstsq(a, dst.astype(np.float64), rcond=None)
    if rank < 3:
        return None
    return np.vstack([sol.T, [0.0, 0.0, 1.0]])


def _lstsq_similarity(src: npt.NDArray[np.float32], dst: npt.NDArray[np.float32]) -> npt.NDArray[np.float64] | None:
    """The 3x3 similarity (rotation, uniform scale, shift) minimising the squared corner distances."""
    x, y = src[:, 0].astype(np.float64), src[:, 1].astype(np.float64)
    one, zero = np.ones_like(x), np.zeros_like(x)
    a = np.vstack([np.stack([x, -y, one, zero], 1), np.stack([y, x, zero, one], 1)])
    b = np.concatenate([dst[:, 0], dst[:, 1]]).astype(np.float64)
    (p, q, tx, ty), _, rank, _ = np.linalg.lstsq(a, b, rcond=None)
    if rank < 4:
        return None
    return np.array([[p, -q, tx], [q, p, ty], [0.0, 0.0, 1.0]])


def fit(markers: dict[int, Corners]) -> Alignment | None:
    """The transform from image to aligned page, or None when too few markers were found."""
    ids = sorted(markers)
    if len(ids) < 2 or len({i % 4 for i in ids}) < len(ids):
        return None
    src = np.concatenate([markers[i] for i in ids]).astype(np.float32)
    dst = np.concatenate([_canonical_corners(i) for i in ids]).astype(np.float32)
    if len(ids) == 4:
        # robust: one bad corner (a stroke or stain on a marker) must not bend the page
        m, _ = cv2.findHomography(src, dst, cv2.RANSAC, ransacReprojThreshold=0.6 * PX_PER_MM)
        model = "homography"
    elif len(ids) == 3:
        # Least squares over all twelve corners. A robust estimator is no use here: dropping a
        # marker leaves too few to fit, and LMEDS degenerates (the eight corners of two markers
        # make a majority it fits exactly, leaving the third marker millimetres off).
        m = _lstsq_affine(src, dst)
        model = "affine"
    else:
        m = _lstsq_similarity(src, dst)
        model = "similarity"
    if m is None or not np.isfinite(m).all():
        return None
    proj = cv2.perspectiveTransform(src.reshape(-1, 1, 2), m).reshape(-1, 2)
    err = np.sqrt(np.sum((proj - dst) ** 2, axis=1)) / PX_PER_MM
    # residual of the corners that agree (at most a quarter may be outliers), and how many did not
    keep = np.sort(err)[: max(4, int(np.ceil(len(err) * 0.75)))]
    rms_mm = float(np.sqrt(np.mean(keep**2)))
    outliers = int((err > 1.0).sum())
    # The fit also has to look like a page: markers a sensible size after mapping.
    quality = float(np.clip(1.0 - max(0.0, rms_mm - defs.ALIGN_GOOD_RMS_MM) / defs.ALIGN_MAX_RMS_MM, 0.0, 1.0))
    quality *= 1.0 - 0.5 * outliers / len(err)
    if len(ids) == 3:
        quality *= 0.9
    elif len(ids) == 2:
        quality *= 0.6
    return Alignment(m, ids, model, rms_mm, quality)
