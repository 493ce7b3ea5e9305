"""The knowledge needs' queries, behind the port the use cases know."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.knowledge_needs.model import KnowledgeNeed, KnowledgeNeedSource, KnowledgeNeedStatus, Question
from registry.tables import knowledge_needs
from shared.db import dialect_insert


class KnowledgeNeeds(Protocol):
    """What the use cases need of the knowledge needs' store."""

    async def add(self, need: KnowledgeNeed) -> bool:
        """Store the need; False when one for the same proposal already exists."""
        ...

    async def for_region(self, region: str) -> list[KnowledgeNeed]:
        """The region's needs, newest first."""
        ...


def _need(row: Any) -> KnowledgeNeed:
    return KnowledgeNeed(
        proposal_id=row.proposal_id, reference=row.reference, region=row.region, round_id=row.round_id,
        municipality_number=row.municipality_number, title=row.title,
        question=Question(
            population=row.population, intervention=row.intervention, comparison=row.comparison, outcome=row.outcome,
        ),
        recorded_at=row.recorded_at, status=KnowledgeNeedStatus(row.status), source=KnowledgeNeedSource(row.source),
    )


class KnowledgeNeedRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, need: KnowledgeNeed) -> bool:
        """Insert the need; False when one for the same proposal already exists."""
        question = need.question
        result = await self.session.execute(
            dialect_insert(self.session)(knowledge_needs)
            .values(
                proposal_id=need.proposal_id, reference=need.reference, region=need.region, round_id=need.round_id,
                municipality_number=need.municipality_number, title=need.title, population=question.population,
                intervention=question.intervention, comparison=question.comparison, outcome=question.outcome,
                status=need.status.value, source=need.source.value, recorded_at=need.recorded_at,
            )
            .on_conflict_do_nothing(index_elements=["proposal_id"])
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def for_region(self, region: str) -> list[KnowledgeNeed]:
        """The region's needs, newest first (proposal ids are UUIDv7, so they break ties by time too)."""
        result = await self.session.execute(
            select(knowledge_needs)
            .where(knowledge_needs.c.region == region)
            .order_by(knowledge_needs.c.recorded_at.desc(), knowledge_needs.c.proposal_id.desc())
        )
        return [_need(row) for row in result]
