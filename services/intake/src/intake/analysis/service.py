"""The analysis use case: the region's proposals counted by unit, service area and theme, grouped in SQL."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from intake.analysis.model import (
    UNCLASSIFIED,
    Analysis,
    AnalysisQuery,
    AnalysisRoundNotFound,
    Basis,
    CountTable,
    Row,
    UnitCount,
)
from intake.analysis.repository import Counts
from intake.reference.model import Labelled, municipality_as_of, service_areas, sort_key, themes, units
from shared.i18n import translate
from shared.messaging.ports import ReadOnly


class AnalysisReader(ReadOnly, Protocol):
    @property
    def analysis(self) -> Counts: ...


async def analyse(query: AnalysisQuery, reader: AnalysisReader, *, with_rounds: bool = False) -> Analysis:
    """Count the region's proposals three ways; `with_rounds` also lists the region's rounds (for the page)."""
    async with reader:
        round_ = None
        if query.round_id is not None:
            round_ = await reader.analysis.round(query.round_id)
            if round_ is None or round_.region != query.region:
                raise AnalysisRoundNotFound(f"round {query.round_id!r} does not exist in region {query.region!r}")
        selection = query.proposal_filter()
        unit_counts = await reader.analysis.count_by_unit(selection)
        area_counts = await reader.analysis.count_by_service_area(selection)
        theme_counts = await reader.analysis.count_by_theme(selection)
        region_rounds = tuple(await reader.analysis.rounds(query.region)) if with_rounds else ()
    language = query.language
    unclassified = translate("analysis.unclassified", language)
    return Analysis(
        query=query,
        round=round_,
        by_unit=CountTable("by_unit", _sorted(_unit_rows(unit_counts, query.basis, unclassified))),
        by_service_area=CountTable("by_service_area", _sorted(
            _coded_rows(((c.code, c.count) for c in area_counts), service_areas(), language, unclassified)
        )),
        by_theme=CountTable("by_theme", _sorted(
            _coded_rows(((c.code, c.count) for c in theme_counts), themes(), language, unclassified)
        )),
        rounds=region_rounds,
    )


def _unit_rows(counts: Iterable[UnitCount], basis: Basis, unclassified: str) -> dict[str, Row]:
    merged: dict[str, Row] = {}
    for item in counts:
        if item.unit_code:
            # A non-municipal unit (USHT) is the more specific proposer, even when it names a host municipality.
            unit = units().get(item.unit_code)
            code, label = item.unit_code, unit.name if unit else item.unit_code
        elif item.municipality_number:
            municipality = municipality_as_of(item.municipality_number, current=basis == "current")
            code = municipality.number if municipality else item.municipality_number
            label = municipality.name if municipality else item.municipality_number
        else:
            code, label = UNCLASSIFIED, unclassified
        _add(merged, code, label, item.count)
    return merged


def _coded_rows(
    counts: Iterable[tuple[str | None, int]], labels: dict[str, Labelled], language: str, unclassified: str,
) -> dict[str, Row]:
    merged: dict[str, Row] = {}
    for code, count in counts:
        if not code:
            _add(merged, UNCLASSIFIED, unclassified, count)
            continue
        known = labels.get(code)
        _add(merged, code, known.label(language) if known else code, count)
    return merged


def _add(rows: dict[str, Row], code: str, label: str, count: int) -> None:
    earlier = rows.get(code)
    rows[code] = Row(code, label, count + (earlier.count if earlier else 0))


def _sorted(rows: dict[str, Row]) -> tuple[Row, ...]:
    """Count descending, then label; the unclassified row goes last whatever its count."""
    # Bergen was 1201 until 2019 and is 4601 since: two rows, so the number tells them apart.
    seen: dict[str, int] = {}
    for row in rows.values():
        seen[row.label] = seen.get(row.label, 0) + 1
    labelled = [Row(r.code, f"{r.label} ({r.code})", r.count) if seen[r.label] > 1 else r for r in rows.values()]
    return tuple(sorted(labelled, key=lambda r: (r.code == UNCLASSIFIED, -r.count, sort_key(r.label), r.code)))
