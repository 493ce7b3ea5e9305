"""Read-only queries behind the analysis: proposals counted by unit, service area and theme, grouped in SQL."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from intake.analysis.model import CodeCount, ProposalFilter, RoundSummary, UnitCount
from intake.tables import proposals, rounds


class Counts(Protocol):
    """What the analysis needs of the store: the region's rounds and three counts."""

    async def rounds(self, region: str) -> list[RoundSummary]: ...

    async def round(self, round_id: str) -> RoundSummary | None: ...

    async def count_by_unit(self, selection: ProposalFilter) -> list[UnitCount]: ...

    async def count_by_service_area(self, selection: ProposalFilter) -> list[CodeCount]: ...

    async def count_by_theme(self, selection: ProposalFilter) -> list[CodeCount]: ...



_ROUND_COLUMNS = (
    rounds.c.id, rounds.c.region, rounds.c.name, rounds.c.opens_at, rounds.c.closes_at,
    rounds.c.committee_meeting_on, rounds.c.decision_on,
)


def _round(row: Any) -> RoundSummary:
    return RoundSummary(
        id=row.id, region=row.region, name=row.name, opens_at=row.opens_at, closes_at=row.closes_at,
        committee_meeting_on=row.committee_meeting_on, decision_on=row.decision_on,
    )


def _where(selection: ProposalFilter) -> ColumnElement[bool]:
    # Region and round together hit ix_proposals_round; region and dates hit ix_proposals_region_submitted.
    conditions = [proposals.c.region == selection.region]
    if selection.round_id is not None:
        conditions.append(proposals.c.round_id == selection.round_id)
    if selection.submitted_from is not None:
        conditions.append(proposals.c.submitted_at >= selection.submitted_from)
    if selection.submitted_before is not None:
        conditions.append(proposals.c.submitted_at < selection.submitted_before)
    return and_(*conditions)


class AnalysisRepository:
    """Counts only: every figure is a GROUP BY in the database, and nothing here writes."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def rounds(self, region: str) -> list[RoundSummary]:
        """The region's rounds, newest first (the choices on the analysis page)."""
        result = await self.session.execute(
            select(*_ROUND_COLUMNS).where(rounds.c.region == region).order_by(rounds.c.opens_at.desc())
        )
        return [_round(row) for row in result]

    async def round(self, round_id: str) -> RoundSummary | None:
        row = (await self.session.execute(select(*_ROUND_COLUMNS).where(rounds.c.id == round_id))).first()
        return _round(row) if row else None

    async def count_by_unit(self, selection: ProposalFilter) -> list[UnitCount]:
        """Proposals per (municipality number, unit code) as stored at submission."""
        statement = (
            select(proposals.c.municipality_number, proposals.c.unit_code, func.count().label("n"))
            .where(_where(selection))
            .group_by(proposals.c.municipality_number, proposals.c.unit_code)
        )
        result = await self.session.execute(statement)
        return [UnitCount(row.municipality_number, row.unit_code, int(row.n)) for row in result]

    async def count_by_service_area(self, selection: ProposalFilter) -> list[CodeCount]:
        return await self._count_by(proposals.c.service_area, selection)

    async def count_by_theme(self, selection: ProposalFilter) -> list[CodeCount]:
        return await self._count_by(proposals.c.theme, selection)

    async def _count_by(self, column: Any, selection: ProposalFilter) -> list[CodeCount]:
        statement = select(column, func.count().label("n")).where(_where(selection)).group_by(column)
        result = await self.session.execute(statement)
        return [CodeCount(row[0], int(row.n)) for row in result]
