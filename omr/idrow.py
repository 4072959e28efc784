"""Layout 2's second identity: the sheet printed as a row of bit cells the reader measures like marks.

The QR code is the densest print on the page and the first thing a phone's
blur or a 1-bit threshold destroys; these cells are 1.4 mm, three times a QR
module, and each bit is a pair of them (Manchester: filled-empty is 1,
empty-filled is 0), so every bit is read against its own neighbour whatever
the light. The row carries 38 bits:

- 10: the template's code, ``crc32("<template>|<version>") mod 1024`` (the
  reader knows every installed template and matches it);
- 20: the sheet serial (``identity.SERIAL_DIGITS`` = 6 decimal digits < 2**20);
- 8: a CRC-8 check over the 30 bits above: a misread bit is a rejected row,
  never a wrong sheet.

The page number is in the corner markers' ids (layout 2: page p has ids
4p..4p+3). The agency is not in the row (the QR code has it; the service
knows the batch's agency).
"""
from __future__ import annotations

import zlib

import cv2
import numpy as np
import numpy.typing as npt

from omr.layout import PX_PER_MM, IdRow

GrayImage = npt.NDArray[np.uint8]

TEMPLATE_BITS = 10
SERIAL_BITS = 20
CHECK_BITS = 8
ID_ROW_BITS = TEMPLATE_BITS + SERIAL_BITS + CHECK_BITS
ID_ROW_CELLS = 2 * ID_ROW_BITS
SEARCH_MM = 1.0  # the row is looked for this far around where the alignment puts it
MIN_BIT_MARGIN = 0.35  # every bit's two cells must differ by this share of the typical difference


def template_code(template: str, version: int) -> int:
    return zlib.crc32(f"{template}|{version}".encode()) % (1 << TEMPLATE_BITS)


def _crc8(value: int, nbits: int) -> int:
    """CRC-8 (polynomial x^8 + x^2 + x + 1) of the ``nbits`` low bits of ``value``, most significant first."""
    crc = 0
    for i in range(nbits - 1, -1, -1):
        bit = (value >> i) & 1
        top = (crc >> 7) & 1
        crc = (crc << 1) & 0xFF
        if top ^ bit:
            crc ^= 0x07
    return crc


def encode(template: str, version: int, serial: str) -> list[bool]:
    """The row's cells (True = filled), left to right."""
    n = int(serial)
    if not 0 <= n < (1 << SERIAL_BITS):
        raise ValueError(f"serial {serial} does not fit the identity row")
    data = (template_code(template, version) << SERIAL_BITS) | n
    word = (data << CHECK_BITS) | _crc8(data, TEMPLATE_BITS + SERIAL_BITS)
    cells: list[bool] = []
    for i in range(ID_ROW_BITS - 1, -1, -1):
        one = bool((word >> i) & 1)
        cells += [one, not one]
    return cells


def decode_bits(word: int) -> tuple[int, str] | None:
    """(template code, serial) of a row word, or None when its check fails."""
    data, check = word >> CHECK_BITS, word & ((1 << CHECK_BITS) - 1)
    if _crc8(data, TEMPLATE_BITS + SERIAL_BITS) != check:
        return None
    from omr.identity import format_serial

    serial = data & ((1 << SERIAL_BITS) - 1)
    if serial >= 10**6:
        return None
    return data >> SERIAL_BITS, format_serial(serial)


def read_row(aligned: GrayImage, row: IdRow) -> tuple[int, str] | None:
    """(template code, serial) read from the aligned page (``PX_PER_MM``), or None when unsure."""
    s = int(round(SEARCH_MM * PX_PER_MM))
    x0, y0 = int(round(row.x * PX_PER_MM)) - s, int(round(row.y * PX_PER_MM)) - s
    x1 = int(round((row.x + (row.cells - 1) * row.pitch + row.cell) * PX_PER_MM)) + s
    y1 = int(round((row.y + row.cell) * PX_PER_MM)) + s
    H, W = aligned.shape
    if x0 < 0 or y0 < 0 or x1 > W or y1 > H:
        return None
    band = aligned[y0:y1, x0:x1].astype(np.float32)
    k = max(3, int(row.cell * 0.6 * PX_PER_MM))  # the middle 60% of a cell
    mean = cv2.blur(band, (k, k))  # mean[y, x]: the k x k square centred on (x, y)
    centres = (np.arange(row.cells) * row.pitch + row.cell / 2) * PX_PER_MM
    best = None
    for dy in range(0, 2 * s + 1):
        yc = int(round(dy + row.cell / 2 * PX_PER_MM))
        if yc >= mean.shape[0]:
            break
        line = mean[yc]
        for dx in range(0, 2 * s + 1):
            xs = np.round(dx + centres).astype(int)
            if xs[-1] >= line.size:
                break
            v = line[xs]
            diff = v[1::2] - v[0::2]  # > 0: the first cell of the pair is darker, a 1
            score = float(np.abs(diff).sum())
            if best is None or score > best[0]:
                best = (score, diff)
    if best is None:
        return None
    diff = best[1]
    typical = float(np.median(np.abs(diff)))
    if typical < 20.0 or float(np.abs(diff).min()) < MIN_BIT_MARGIN * typical:
        return None  # no contrast, or some bit unclear: not read rather than guessed
    word = 0
    for d in diff:
        word = (word << 1) | int(d > 0)
    return decode_bits(word)
