"""Sheet identity: what a page's QR code says, and the ArUco dictionary used.

QR payload (stable; printed forms live for years):
``OMR1|<template>|<version>|<page>|<serial>|<agency>``, agency empty when the
office did not print per agency.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

QR_PREFIX = "OMR1"
SERIAL_DIGITS = 6
ARUCO_DICT = cv2.aruco.DICT_4X4_50
ARUCO_CELLS = 6  # 4x4 data cells plus a one-cell black border on each side

_AGENCY_RE = re.compile(r"^[A-Za-z0-9._-]{0,20}$")


@dataclass(frozen=True, slots=True)
class PageIdentity:
    template: str
    version: int
    page: int
    serial: str
    agency: str | None = None

    def payload(self) -> str:
        return "|".join([QR_PREFIX, self.template, str(self.version), str(self.page), self.serial, self.agency or ""])


def format_serial(n: int) -> str:
    if n < 0 or n >= 10**SERIAL_DIGITS:
        raise ValueError(f"sheet serial {n} is out of range 0..{10**SERIAL_DIGITS - 1}")
    return f"{n:0{SERIAL_DIGITS}d}"


def valid_agency(code: str) -> bool:
    return bool(_AGENCY_RE.match(code))


def parse_payload(text: str) -> PageIdentity | None:
    """Parse a QR payload; None when it is not one of ours."""
    parts = text.strip().split("|")
    if len(parts) != 6 or parts[0] != QR_PREFIX:
        return None
    _, template, version, page, serial, agency = parts
    if not (re.fullmatch(r"[a-z0-9-]+", template) and version.isdigit() and page.isdigit() and serial.isdigit()):
        return None
    return PageIdentity(template, int(version), int(page), serial, agency or None)


def qr_modules(payload: str) -> npt.NDArray[np.bool_]:
    """The QR code's modules (True = dark), without quiet zone; error correction level Q."""
    params = cv2.QRCodeEncoder.Params()
    params.correction_level = cv2.QRCodeEncoder_CORRECT_LEVEL_Q
    img = cv2.QRCodeEncoder.create(params).encode(payload)
    return img < 128


def aruco_dictionary() -> cv2.aruco.Dictionary:
    return cv2.aruco.getPredefinedDictionary(ARUCO_DICT)


def aruco_cells(marker_id: int) -> npt.NDArray[np.bool_]:
    """The marker's cells (True = black), ARUCO_CELLS x ARUCO_CELLS, border included."""
    img = cv2.aruco.generateImageMarker(aruco_dictionary(), marker_id, ARUCO_CELLS)
    return img < 128
