"""The candidates' queries, behind the port the use cases know."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.candidates.model import Candidate
from scoring.tables import candidates
from shared.db import dialect_insert


class Candidates(Protocol):
    """What the use cases need of the candidates' store."""

    async def add(self, candidate: Candidate) -> None: ...

    async def for_round(self, round_id: str) -> list[Candidate]: ...


class CandidateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, candidate: Candidate) -> None:
        await self.session.execute(
            dialect_insert(self.session)(candidates)
            .values(
                proposal_id=candidate.proposal_id, reference=candidate.reference, region=candidate.region,
                round_id=candidate.round_id, municipality_number=candidate.municipality_number,
                title=candidate.title, submitted_at=candidate.submitted_at, received_at=datetime.now(UTC),
            )
            .on_conflict_do_nothing(index_elements=["proposal_id"])
        )

    async def for_round(self, round_id: str) -> list[Candidate]:
        result = await self.session.execute(
            select(candidates).where(candidates.c.round_id == round_id).order_by(candidates.c.reference)
        )
        return [
            Candidate(
                proposal_id=r.proposal_id, reference=r.reference, region=r.region, round_id=r.round_id,
                municipality_number=r.municipality_number, title=r.title, submitted_at=r.submitted_at,
            )
            for r in result
        ]
