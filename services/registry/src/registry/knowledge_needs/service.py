"""The knowledge needs' use cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from registry.knowledge_needs.model import KnowledgeNeed, Question
from registry.knowledge_needs.repository import KnowledgeNeeds
from shared.contracts.envelope import CloudEvent
from shared.contracts.events import ProposalSubmittedV1
from shared.messaging.ports import Inbox, ReadOnly, Transaction


# Repositories are read-only properties in the ports, so the SQLAlchemy repository and an in-memory fake both
# satisfy `KnowledgeNeeds` (see scoring.candidates.service).
class KnowledgeNeedsUnitOfWork(Transaction, Inbox, Protocol):
    @property
    def knowledge_needs(self) -> KnowledgeNeeds: ...


class KnowledgeNeedsReader(ReadOnly, Protocol):
    @property
    def knowledge_needs(self) -> KnowledgeNeeds: ...


@dataclass(frozen=True)
class RecordKnowledgeNeed:
    """Record a submitted proposal's question as a knowledge need."""

    event_id: str
    consumer: str
    need: KnowledgeNeed

    @staticmethod
    def from_event(
        event: CloudEvent[ProposalSubmittedV1], consumer: str, now: datetime | None = None
    ) -> RecordKnowledgeNeed:
        """The need a submitted proposal asks for: its question and where it comes from, not who wrote it."""
        data = event.data
        question = data.question
        return RecordKnowledgeNeed(
            event.id, consumer,
            KnowledgeNeed(
                proposal_id=data.proposal_id, reference=data.reference, region=data.region, round_id=data.round_id,
                municipality_number=data.municipality_number, title=data.title,
                question=Question(
                    population=question.population, intervention=question.intervention,
                    comparison=question.comparison, outcome=question.outcome,
                ),
                recorded_at=now or datetime.now(UTC),
            ),
        )


async def record_knowledge_need(command: RecordKnowledgeNeed, uow: KnowledgeNeedsUnitOfWork) -> bool:
    """Record the need once; a redelivered event, or another event for the same proposal, changes nothing."""
    async with uow:
        if not await uow.claim(command.consumer, command.event_id):
            return False
        added = await uow.knowledge_needs.add(command.need)
        await uow.commit()
        return added


async def list_knowledge_needs(region: str, reader: KnowledgeNeedsReader) -> list[KnowledgeNeed]:
    """The region's knowledge needs, newest first."""
    async with reader:
        return await reader.knowledge_needs.for_region(region)
