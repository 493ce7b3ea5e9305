"""The analysis: what to count, and the count tables. Plain Python; every total is computed, never stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from shared.errors import NotFound

TableName = Literal["by_unit", "by_service_area", "by_theme"]
TABLES: tuple[TableName, ...] = ("by_unit", "by_service_area", "by_theme")
Basis = Literal["submitted", "current"]
OSLO = ZoneInfo("Europe/Oslo")
UNCLASSIFIED = "unclassified"


class AnalysisRoundNotFound(NotFound):
    code = "round-not-found"
    field = "round"


@dataclass(frozen=True)
class ProposalFilter:
    """Which proposals count: one region, optionally one round and a window of submission times (UTC)."""

    region: str
    round_id: str | None = None
    submitted_from: datetime | None = None  # inclusive
    submitted_before: datetime | None = None  # exclusive


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
class UnitCount:
    """Proposals from one proposer unit: a municipality by the number it had then, or a non-municipal unit."""

    municipality_number: str | None
    unit_code: str | None
    count: int


@dataclass(frozen=True)
class CodeCount:
    code: str | None
    count: int


@dataclass(frozen=True)
class RoundSummary:
    id: str
    region: str
    name: str
    opens_at: datetime
    closes_at: datetime
    committee_meeting_on: date | None
    decision_on: date | None


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
