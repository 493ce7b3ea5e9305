"""Ordering's use cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import uuid_utils

from ordering.adapters.repository import OrderingUnitOfWork
from ordering.domain.model import DecisionEntry, draft_decision


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


async def record_draft_decision(
    command: DraftDecision, uow: OrderingUnitOfWork, now: datetime | None = None
) -> str | None:
    """Store a draft decision once per ranking; returns its id, or None when nothing was new."""
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
