"""The secretariat's analysis: proposals by unit, service area and theme, per round or across rounds."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intake.adapters.analysis_repository import AnalysisRepository, ProposalFilter, RoundSummary, UnitCount
from intake.domain.reference import Labelled, Municipality, municipalities, service_areas, themes, units
from shared.web.problems import NotFound

TableName = Literal["by_unit", "by_service_area", "by_theme"]
TABLES: tuple[TableName, ...] = ("by_unit", "by_service_area", "by_theme")
Basis = Literal["submitted", "current"]
OSLO = ZoneInfo("Europe/Oslo")
UNCLASSIFIED = "unclassified"
_UNCLASSIFIED_LABEL = {"nb": "Ikke klassifisert", "nn": "Ikkje klassifisert", "en": "Not classified"}


class AnalysisRoundNotFound(NotFound):
    code = "round-not-found"
    field = "round"


@dataclass(frozen=True)
class AnalysisQuery:
    """What to count. Dates are calendar days in Europe/Oslo, both inclusive."""

    region: str
    round_id: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    language: str = "nb"
    # "submitted": municipalities as they were when the proposal came in (Meland in 2019);
    # "current": old numbers mapped to their successors (Meland → Alver) to compare across years.
    basis: Basis = "submitted"

    def proposal_filter(self) -> ProposalFilter:
        """The query as UTC bounds on submitted_at."""
        start = datetime.combine(self.date_from, time.min, OSLO) if self.date_from else None
        end = datetime.combine(self.date_to + timedelta(days=1), time.min, OSLO) if self.date_to else None
        return ProposalFilter(self.region, self.round_id, start, end)


@dataclass(frozen=True)
class Row:
    code: str
    label: str
    count: int


@dataclass(frozen=True)
class CountTable:
    name: TableName
    rows: tuple[Row, ...]

    @property
    def total(self) -> int:
        """Always the sum of the rows: a total is computed, never stored or copied."""
        return sum(row.count for row in self.rows)


@dataclass(frozen=True)
class Analysis:
    query: AnalysisQuery
    round: RoundSummary | None
    by_unit: CountTable
    by_service_area: CountTable
    by_theme: CountTable
    rounds: tuple[RoundSummary, ...] = field(default=())

    @property
    def total(self) -> int:
        return self.by_unit.total

    def table(self, name: TableName) -> CountTable:
        return {"by_unit": self.by_unit, "by_service_area": self.by_service_area, "by_theme": self.by_theme}[name]

    def tables(self) -> tuple[CountTable, ...]:
        return (self.by_unit, self.by_service_area, self.by_theme)


async def analyse(
    query: AnalysisQuery, reader: async_sessionmaker[AsyncSession], *, with_rounds: bool = False
) -> Analysis:
    """Count the region's proposals three ways; `with_rounds` also lists the region's rounds (for the page)."""
    async with reader() as session:
        repository = AnalysisRepository(session)
        round_ = None
        if query.round_id is not None:
            round_ = await repository.round(query.round_id)
            if round_ is None or round_.region != query.region:
                raise AnalysisRoundNotFound(f"round {query.round_id!r} does not exist in region {query.region!r}")
        selection = query.proposal_filter()
        unit_counts = await repository.count_by_unit(selection)
        area_counts = await repository.count_by_service_area(selection)
        theme_counts = await repository.count_by_theme(selection)
        region_rounds = tuple(await repository.rounds(query.region)) if with_rounds else ()
    language = query.language
    return Analysis(
        query=query,
        round=round_,
        by_unit=CountTable("by_unit", _sorted(_unit_rows(unit_counts, query.basis, language))),
        by_service_area=CountTable(
            "by_service_area", _sorted(_coded_rows(((c.code, c.count) for c in area_counts), service_areas(), language))
        ),
        by_theme=CountTable(
            "by_theme", _sorted(_coded_rows(((c.code, c.count) for c in theme_counts), themes(), language))
        ),
        rounds=region_rounds,
    )


def _unit_rows(counts: Iterable[UnitCount], basis: Basis, language: str) -> dict[str, Row]:
    merged: dict[str, Row] = {}
    for item in counts:
        if item.unit_code:
            # A non-municipal unit (USHT) is the more specific proposer, even when it names a host municipality.
            code, label = item.unit_code, _unit_name(item.unit_code)
        elif item.municipality_number:
            municipality = _municipality(item.municipality_number, basis)
            code = municipality.number if municipality else item.municipality_number
            label = municipality.name if municipality else item.municipality_number
        else:
            code, label = UNCLASSIFIED, _UNCLASSIFIED_LABEL.get(language, _UNCLASSIFIED_LABEL["nb"])
        _add(merged, code, label, item.count)
    return merged


def _municipality(number: str, basis: Basis) -> Municipality | None:
    """The municipality a stored number names: as it was (the number is never reused), or its successor today."""
    known = municipalities()
    found = known.get(number)
    if basis == "current":
        seen = set()
        while found is not None and found.successor and found.successor in known and found.number not in seen:
            seen.add(found.number)
            found = known[found.successor]
    return found


def _unit_name(code: str) -> str:
    unit = units().get(code)
    return unit.name if unit else code


def _coded_rows(
    counts: Iterable[tuple[str | None, int]], labels: dict[str, Labelled], language: str
) -> dict[str, Row]:
    merged: dict[str, Row] = {}
    for code, count in counts:
        if not code:
            _add(merged, UNCLASSIFIED, _UNCLASSIFIED_LABEL.get(language, _UNCLASSIFIED_LABEL["nb"]), count)
            continue
        known = labels.get(code)
        _add(merged, code, known.label(language) if known else code, count)
    return merged


def _add(rows: dict[str, Row], code: str, label: str, count: int) -> None:
    earlier = rows.get(code)
    rows[code] = Row(code, label, count + (earlier.count if earlier else 0))


# Python compares code points, which puts Å before Æ and Ø; Norwegian sorts them Æ, Ø, Å after Z.
_NORWEGIAN_ORDER = str.maketrans({"æ": "{", "ø": "|", "å": "}", "ä": "{", "ö": "|"})


def sort_key(label: str) -> str:
    """A label's place in Norwegian alphabetical order."""
    return label.casefold().translate(_NORWEGIAN_ORDER)


def _sorted(rows: dict[str, Row]) -> tuple[Row, ...]:
    """Count descending, then label; the unclassified row goes last whatever its count."""
    # Bergen was 1201 until 2019 and is 4601 since: two rows, so the number tells them apart.
    seen: dict[str, int] = {}
    for row in rows.values():
        seen[row.label] = seen.get(row.label, 0) + 1
    labelled = [Row(r.code, f"{r.label} ({r.code})", r.count) if seen[r.label] > 1 else r for r in rows.values()]
    return tuple(sorted(labelled, key=lambda r: (r.code == UNCLASSIFIED, -r.count, sort_key(r.label), r.code)))
