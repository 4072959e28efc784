"""Spreadsheets people send: the rows of an XLSX (first sheet) or CSV (UTF-8, comma or semicolon) as text."""
from __future__ import annotations

import csv
import io
import unicodedata

MAX_ROWS = 50_000


class TableError(ValueError):
    """The file cannot be read as a table; the message names it and says why."""


def read_table(data: bytes, filename: str, *, max_rows: int = MAX_ROWS) -> list[list[str]]:
    name = filename[:100]
    low = filename.lower()
    if low.endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:  # noqa: BLE001 - any damage gives one clear message
            raise TableError(f"{name}: not a readable XLSX workbook") from None
        try:
            ws = wb.worksheets[0]
            return [["" if v is None else _cell(v) for v in row] for row in ws.iter_rows(values_only=True, max_row=max_rows + 1)]
        finally:
            wb.close()
    if low.endswith(".csv"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise TableError(f"{name}: the CSV is not UTF-8 (save it as 'CSV UTF-8')") from None
        if "\x00" in text:
            raise TableError(f"{name}: holds NUL characters, so it is not a text CSV (save it as 'CSV UTF-8')")
        sample = text[:4096]
        delim = ";" if sample.count(";") > sample.count(",") else ","
        rows = []
        for row in csv.reader(io.StringIO(text), delimiter=delim):
            rows.append([c.strip() for c in row])
            if len(rows) > max_rows + 1:
                break
        return rows
    raise TableError(f"{name}: send an .xlsx or .csv file")


def _cell(v: object) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def fold(text: str) -> str:
    """Lower case without diacritics ("Đất đai" → "dat dai"), spaces collapsed: for matching what people type."""
    t = unicodedata.normalize("NFD", str(text).strip().lower().replace("đ", "d"))
    return " ".join("".join(ch for ch in t if not unicodedata.combining(ch)).split())
