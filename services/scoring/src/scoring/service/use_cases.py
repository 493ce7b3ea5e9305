"""Scoring's use cases."""

from __future__ import annotations

from scoring.adapters.repository import ScoringUnitOfWork
from scoring.domain.model import Candidate


async def add_candidate(candidate: Candidate, event_id: str, consumer: str, uow: ScoringUnitOfWork) -> bool:
    """Make a submitted proposal a candidate in its round; a redelivered event changes nothing."""
    async with uow:
        if not await uow.claim(consumer, event_id):
            return False
        await uow.candidates.add(candidate)
        await uow.commit()
        return True
