"""Every query the registry makes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.adapters.tables import knowledge_needs
from registry.domain.model import KnowledgeNeed, KnowledgeNeedSource, KnowledgeNeedStatus
from shared.db import dialect_insert
from shared.messaging.uow import UnitOfWork


def _need(row: Any) -> KnowledgeNeed:
    return KnowledgeNeed(
        proposal_id=row.proposal_id, reference=row.reference, region=row.region, round_id=row.round_id,
        municipality_number=row.municipality_number, title=row.title, population=row.population,
        intervention=row.intervention, comparison=row.comparison, outcome=row.outcome,
        recorded_at=row.recorded_at, status=KnowledgeNeedStatus(row.status), source=KnowledgeNeedSource(row.source),
    )


class KnowledgeNeedRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, need: KnowledgeNeed) -> bool:
        """Insert the need; False when one for the same proposal already exists."""
        result = await self.session.execute(
            dialect_insert(self.session)(knowledge_needs)
            .values(
                proposal_id=need.proposal_id, reference=need.reference, region=need.region, round_id=need.round_id,
                municipality_number=need.municipality_number, title=need.title, population=need.population,
                intervention=need.intervention, comparison=need.comparison, outcome=need.outcome,
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


class RegistryUnitOfWork(UnitOfWork):
    knowledge_needs: KnowledgeNeedRepository

    def _open(self) -> None:
        self.knowledge_needs = KnowledgeNeedRepository(self.session)
