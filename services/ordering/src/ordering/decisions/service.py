"""The decisions' use cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

import uuid_utils

from ordering.decisions.model import Decision, DecisionEntry, DecisionNotFound, draft_decision
from ordering.decisions.repository import Decisions
from shared.contracts.envelope import CloudEvent
from shared.contracts.events import RankingRecommendedV1
from shared.messaging.ports import Inbox, ReadOnly, Transaction


# Repositories are read-only properties in the ports, so the SQLAlchemy repository and an in-memory fake both
# satisfy `Decisions` (see scoring.candidates.service).
class DecisionsUnitOfWork(Transaction, Inbox, Protocol):
    @property
    def decisions(self) -> Decisions: ...


class DecisionsReader(ReadOnly, Protocol):
    @property
    def decisions(self) -> Decisions: ...


@dataclass(frozen=True)
class DraftDecision:
    """Draft the steering group's decision from the committee's recommended ranking."""

    event_id: str
    consumer: str
    ranking_id: str
    round_id: str
    region: str
    recommended_on: date
    entries: tuple[DecisionEntry, ...]

    @staticmethod
    def from_event(event: CloudEvent[RankingRecommendedV1], consumer: str) -> DraftDecision:
        data = event.data
        return DraftDecision(
            event_id=event.id, consumer=consumer, ranking_id=data.ranking_id, round_id=data.round_id,
            region=data.region, recommended_on=data.recommended_on,
            entries=tuple(
                DecisionEntry(
                    proposal_id=e.proposal_id, reference=e.reference, rank=e.rank, total_score=e.total_score,
                    reason=e.reason,
                )
                for e in data.entries
            ),
        )


async def record_draft_decision(
    command: DraftDecision, uow: DecisionsUnitOfWork, now: datetime | None = None
) -> str | None:
    """Store a draft decision once per ranking; returns its id, or None when nothing was new.

    A ranking that breaks the rules raises InvalidRecommendation before anything is claimed or written."""
    decision = draft_decision(
        decision_id=str(uuid_utils.uuid7()), ranking_id=command.ranking_id, round_id=command.round_id,
        region=command.region, recommended_on=command.recommended_on, created_at=now or datetime.now(UTC),
        entries=command.entries,
    )
    async with uow:
        if not await uow.claim(command.consumer, command.event_id):
            return None
        added = await uow.decisions.add(decision)
        await uow.commit()
        return decision.id if added else None


async def list_decisions(round_id: str, reader: DecisionsReader) -> list[Decision]:
    """The round's decisions, newest first, each with its ranked entries."""
    async with reader:
        return await reader.decisions.for_round(round_id)


async def get_decision(decision_id: str, reader: DecisionsReader) -> Decision:
    """One decision with its ranked entries, or DecisionNotFound."""
    async with reader:
        decision = await reader.decisions.get(decision_id)
    if decision is None:
        raise DecisionNotFound(f"no decision with id {decision_id!r}")
    return decision
