"""Scanner streaks: thin dark lines that dust or a scratch on the scanner glass draws
along the whole page in the feed direction.

A streak through a column of check boxes puts a thin stroke in every box of
that column; read as it is, it would send a whole column of answers to review
or, worse, look like a mark. Ballot scanners detect streaks and reject the
sheet; we detect them, paint them out, and say so on the page result, so the
operator knows to clean the glass.

Input: a raw scan, grayscale ``uint8`` (H x W, y down), before alignment.
A streak is told apart from printed rules by where it runs: printed lines stop
in the page margins; a streak crosses the margins too, from edge to edge.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from omr import defs

GrayImage = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class Streak:
    axis: str  # "x": a vertical line at columns start..start+width; "y": a horizontal one at rows
    start: int
    width: int

    def describe(self) -> str:
        where = "column" if self.axis == "x" else "row"
        return f"scanner streak at {where} {self.start} px ({self.width} px wide): clean the scanner glass"


def _line_profile(gray: GrayImage, step: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """For each column: the share of (every ``step``-th) rows where it is darker than
    both its neighbours ``STREAK_NEIGHBOUR_PX`` away; overall, in the first and in the last tenth."""
    off = defs.STREAK_NEIGHBOUR_PX
    if gray.strides[0] < gray.strides[1]:  # a transposed view (rows of the scan's columns): sample the scan, then turn it
        s = cv2.transpose(np.ascontiguousarray(gray.T[:, ::step]))  # the same pixels as gray[::step], read along memory
    else:
        s = np.ascontiguousarray(gray[::step])
    if s.shape[1] <= 2 * off + 1 or s.shape[0] < 10:
        z = np.zeros(0)
        return z, z, z
    bg = cv2.min(s[:, : -2 * off], s[:, 2 * off :])
    line = cv2.subtract(bg, np.ascontiguousarray(s[:, off:-off]))
    dark = (line > defs.STREAK_CONTRAST).astype(np.uint8)
    n = dark.shape[0]
    k = max(1, n // 10)
    total = dark.sum(axis=0, dtype=np.int32) / n
    head = dark[:k].sum(axis=0, dtype=np.int32) / k
    tail = dark[-k:].sum(axis=0, dtype=np.int32) / k
    return total, head, tail


def _runs(mask: npt.NDArray[np.bool_], offset: int) -> list[tuple[int, int]]:
    out = []
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return out
    start = prev = int(idx[0])
    for i in idx[1:]:
        i = int(i)
        if i != prev + 1:
            out.append((start + offset, prev - start + 1))
            start = i
        prev = i
    out.append((start + offset, prev - start + 1))
    return out


def find_streaks(gray: GrayImage) -> list[Streak]:
    """Vertical and horizontal streaks running the length of the scan."""
    found: list[Streak] = []
    edge = defs.STREAK_EDGE_PX
    for axis, img in (("x", gray), ("y", gray.T)):
        total, head, tail = _line_profile(img, defs.STREAK_SAMPLE_STEP)
        if total.size == 0:
            continue
        long = total >= defs.STREAK_MIN_SHARE
        # through the margins at both ends: a streak. A column of it that crosses dark print there (a QR
        # code, a marker) scores lower, so one such column makes its whole run a streak.
        seed = long & (head >= defs.STREAK_END_SHARE) & (tail >= defs.STREAK_END_SHARE)
        off = defs.STREAK_NEIGHBOUR_PX
        for start, width in _runs(long, off):
            if not seed[start - off : start - off + width].any():
                continue
            if width > defs.STREAK_MAX_WIDTH_PX or start < edge or start + width > img.shape[1] - edge:
                continue  # a wide band or the scanner bed's edge, not a streak
            found.append(Streak(axis, start, width))
    return found


def paint_out(gray: GrayImage, streaks: list[Streak]) -> GrayImage:
    """The scan with each streak replaced, row by row, by the pixels beside it, interpolated
    across its width.

    Ink that crosses the streak (a mark, a printed rule) is on both sides too, so it stays; an
    edge that the streak covers (a QR module's, a box border's) stays where it was, as a grey
    step, instead of moving to one side of the streak."""
    if not streaks:
        return gray
    out = gray.copy()
    for s in streaks:
        view = out if s.axis == "x" else out.T
        lo = max(0, s.start - 2)
        hi = min(view.shape[1] - 1, s.start + s.width + 1)
        left = view[:, lo].astype(np.float32)
        right = view[:, hi].astype(np.float32)
        for j in range(s.start, s.start + s.width):
            t = (j - lo) / max(1, hi - lo)
            view[:, j] = np.rint(left + (right - left) * t).astype(np.uint8)
    return out
