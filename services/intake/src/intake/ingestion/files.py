"""Reading a region's file: CSV (`;` or `,`, UTF-8 with or without BOM) or XLSX, into rows of column → text."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

from intake.ingestion.model import COLUMNS, MAX_ROWS, REQUIRED_COLUMNS, IngestFileUnreadable


def _cell_text(column: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if column == "decision_date" else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and column == "municipality":
        return f"{value:04d}"  # a spreadsheet drops the leading zero of 0301 Oslo
    return str(value).strip()


def _rows_from_table(table: list[list[Any]]) -> list[tuple[int, dict[str, str]]]:
    if not table:
        raise IngestFileUnreadable("the file is empty: the first row must name the columns")
    header = [str(h or "").strip().lower().lstrip("\ufeff") for h in table[0]]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if "municipality" not in header and "unit" not in header:
        missing.append("municipality or unit")
    if missing:
        raise IngestFileUnreadable(f"the header row lacks the columns: {', '.join(missing)}")
    known = [(i, name) for i, name in enumerate(header) if name in COLUMNS]
    rows = []
    for offset, values in enumerate(table[1:], start=2):
        if not any(str(v or "").strip() for v in values):
            continue  # blank lines are not submissions
        rows.append(
            (offset, {name: _cell_text(name, values[i] if i < len(values) else None) for i, name in known})
        )
    if len(rows) > MAX_ROWS:
        raise IngestFileUnreadable(f"the file has {len(rows)} rows; send at most {MAX_ROWS} at a time")
    return rows


def read_rows(filename: str, content: bytes) -> list[tuple[int, dict[str, str]]]:
    """A CSV (`;` or `,`, UTF-8 with or without BOM) or XLSX file's rows: (row number in the file, column → text)."""
    if filename.lower().endswith(".xlsx") or content[:4] == b"PK\x03\x04":
        return _rows_from_table(_xlsx_table(content))
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise IngestFileUnreadable("the file is not UTF-8 text (save the CSV as UTF-8)") from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    return _rows_from_table([list(r) for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)])


def _xlsx_table(content: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:
        raise IngestFileUnreadable("the file is not a readable XLSX workbook") from None
    try:
        sheet = workbook.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()
