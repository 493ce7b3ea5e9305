"""Count tables as files: XLSX with real numbers, CSV for Norwegian Excel, and an accessible SVG bar chart."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from xml.sax.saxutils import escape, quoteattr

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from intake.analysis.model import AnalysisQuery, CountTable
from shared.i18n import translate

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
SVG_MEDIA_TYPE = "image/svg+xml"


class CountRow(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def count(self) -> int: ...


@dataclass(frozen=True)
class ExportTable:
    """One table as the user reads it: translated headings, the rows and their computed total."""

    sheet_name: str  # at most 31 characters, no / \ ? * [ ] : (Excel's rules for sheet names)
    title: str
    label_heading: str
    count_heading: str
    total_label: str
    code_heading: str
    rows: Sequence[CountRow]

    @property
    def total(self) -> int:
        return sum(row.count for row in self.rows)


def xlsx_bytes(tables: Sequence[ExportTable]) -> bytes:
    """One sheet per table: a header, one numeric cell per row, and a bold total row."""
    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    bold = Font(bold=True)
    for table in tables:
        sheet = workbook.create_sheet(table.sheet_name[:31])
        sheet.append([table.label_heading, table.count_heading, table.code_heading])
        for cell in sheet[1]:
            cell.font = bold
        for row in table.rows:
            sheet.append([row.label, int(row.count), row.code])
        # The total is written as a number, not a =SUM() formula: openpyxl cannot compute a formula's
        # value, so readers that do not recalculate (previews, pandas, data_only=True) would see nothing.
        sheet.append([table.total_label, table.total])
        for cell in sheet[sheet.max_row]:
            cell.font = bold
        for number_cell in sheet["B"]:
            number_cell.alignment = Alignment(horizontal="right")
        sheet.column_dimensions["A"].width = max([len(table.label_heading), *(len(r.label) for r in table.rows)]) + 2
        sheet.column_dimensions["B"].width = len(table.count_heading) + 2
        sheet.column_dimensions["C"].width = max([len(table.code_heading), *(len(r.code) for r in table.rows)]) + 2
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(table: ExportTable) -> bytes:
    """`;`-separated UTF-8 with a BOM and CRLF: what Excel set to Norwegian opens without an import dialog.

    No total row: a CSV is data for further work, and a total among the rows would be summed twice.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([table.label_heading, table.count_heading, table.code_heading])
    for row in table.rows:
        writer.writerow([row.label, row.count, row.code])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# Chart geometry, in SVG user units (pixels at 100 %).
_ROW_HEIGHT = 26
_BAR_HEIGHT = 18
_TOP = 12
_CHARACTER_WIDTH = 7.2  # an average glyph at font-size 13, enough for mixed case in common sans-serif fonts
_BAR_WIDTH = 300
_NUMBER_WIDTH = 48
_MAX_LABEL_CHARACTERS = 50
_BAR_COLOUR = "#1e5d88"  # 7:1 against white, so the bars stand out beyond WCAG's 3:1 for graphics
_TEXT_COLOUR = "#1a1a1a"


def _shorten(label: str) -> str:
    return label if len(label) <= _MAX_LABEL_CHARACTERS else label[: _MAX_LABEL_CHARACTERS - 1].rstrip() + "…"


@dataclass(frozen=True)
class _Bar:
    label: str
    count: int


def chart_bars(rows: Sequence[CountRow], max_bars: int, rest_label: str) -> list[_Bar]:
    """The rows as bars; beyond `max_bars`, the smallest are one bar (400 municipalities make no readable chart)."""
    if len(rows) <= max_bars:
        return [_Bar(r.label, r.count) for r in rows]
    shown, rest = rows[: max_bars - 1], rows[max_bars - 1 :]
    return [*(_Bar(r.label, r.count) for r in shown), _Bar(rest_label, sum(r.count for r in rest))]


def bar_chart_svg(
    table: ExportTable, element_id: str, description: str, *, max_bars: int = 25, rest_label: str = "…"
) -> str:
    """A horizontal bar chart; role="img" with a title and a description, since the data table sits beside it."""
    rows = chart_bars(table.rows, max_bars, rest_label)
    largest = max((row.count for row in rows), default=0)
    longest = max((len(_shorten(row.label)) for row in rows), default=0)
    label_width = max(80, round(longest * _CHARACTER_WIDTH) + 16)  # room for the longest label, no more
    width = label_width + _BAR_WIDTH + _NUMBER_WIDTH
    height = _TOP * 2 + max(1, len(rows)) * _ROW_HEIGHT
    title_id, desc_id = f"{element_id}-title", f"{element_id}-desc"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id={quoteattr(element_id)} role="img" '
        f'aria-label={quoteattr(table.title)} aria-describedby="{desc_id}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'style="max-width: 100%; height: auto" '
        f'font-family="system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif" font-size="13">',
        f'<title id="{title_id}">{escape(table.title)}</title>',
        f'<desc id="{desc_id}">{escape(description)}</desc>',
    ]
    for index, row in enumerate(rows):
        y = _TOP + index * _ROW_HEIGHT
        middle = y + _ROW_HEIGHT / 2
        bar = 0.0 if largest == 0 else max(1.0, _BAR_WIDTH * row.count / largest)
        parts.append(
            f'<g><title>{escape(row.label)}: {row.count}</title>'
            f'<text x="{label_width - 8}" y="{middle:.1f}" text-anchor="end" dominant-baseline="middle" '
            f'fill="{_TEXT_COLOUR}">{escape(_shorten(row.label))}</text>'
            f'<rect x="{label_width}" y="{middle - _BAR_HEIGHT / 2:.1f}" width="{bar:.1f}" height="{_BAR_HEIGHT}" '
            f'fill="{_BAR_COLOUR}"/>'
            f'<text x="{label_width + bar + 6:.1f}" y="{middle:.1f}" dominant-baseline="middle" '
            f'fill="{_TEXT_COLOUR}">{row.count}</text></g>'
        )
    parts.append(
        f'<line x1="{label_width}" y1="{_TOP - 2}" x2="{label_width}" y2="{height - _TOP + 2}" '
        f'stroke="{_TEXT_COLOUR}" stroke-width="1"/>'
    )
    parts.append("</svg>")
    return "".join(parts)


# --- The analysis's tables in the user's language --------------------------------------------------------------------

MAX_BARS = 25


def export_table(table: CountTable, language: str) -> ExportTable:
    """A table with its headings in the user's language (the seed's own: "Enhet", "Antall forslag", "Totalsum")."""
    return ExportTable(
        sheet_name=translate(f"analysis.{table.name}.sheet", language),
        title=translate(f"analysis.{table.name}.title", language),
        label_heading=translate(f"analysis.{table.name}.heading", language),
        count_heading=translate("analysis.count", language),
        total_label=translate("analysis.total", language),
        code_heading=translate("analysis.code", language),
        rows=table.rows,
    )


def chart(table: CountTable, language: str) -> str:
    """The table's bar chart, described in the user's language."""
    shown = MAX_BARS - 1
    rest = len(table.rows) - shown
    if len(table.rows) > MAX_BARS:
        description = translate("analysis.chart.description.capped", language, shown=shown, rest=rest,
                                total=table.total)
    else:
        description = translate("analysis.chart.description", language, total=table.total)
    return bar_chart_svg(
        export_table(table, language), f"chart-{table.name.replace('_', '-')}", description, max_bars=MAX_BARS,
        rest_label=translate("analysis.chart.rest", language, rows=rest),
    )


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def file_stem(query: AnalysisQuery) -> str:
    """`analyse-vest-vest-2019-haust` or `analyse-vest-alle-runder[-2019-01-01-2019-12-31]`."""
    parts = ["analyse", query.region, query.round_id or "alle-runder"]
    parts += [day.isoformat() for day in (query.date_from, query.date_to) if day is not None]
    if query.basis == "current":
        parts.append("dagens-kommuner")
    return "-".join(_slug(p) for p in parts if p)
