"""The candidates' use cases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from scoring.candidates.model import Candidate
from scoring.candidates.repository import Candidates
from shared.contracts.envelope import CloudEvent
from shared.contracts.events import ProposalSubmittedV1
from shared.messaging.ports import Inbox, ReadOnly, Transaction


# Repositories are read-only properties in the ports: a property is covariant, so the SQLAlchemy repository
# and an in-memory fake both satisfy `Candidates` where a plain attribute would have to match exactly.
class CandidatesUnitOfWork(Transaction, Inbox, Protocol):
    @property
    def candidates(self) -> Candidates: ...


class CandidatesReader(ReadOnly, Protocol):
    @property
    def candidates(self) -> Candidates: ...


@dataclass(frozen=True)
class AddCandidate:
    """Keep a submitted proposal as a candidate in its round."""

    event_id: str
    consumer: str
    candidate: Candidate

    @staticmethod
    def from_event(event: CloudEvent[ProposalSubmittedV1], consumer: str) -> AddCandidate:
        data = event.data
        return AddCandidate(
            event.id, consumer,
            Candidate(
                proposal_id=data.proposal_id, reference=data.reference, region=data.region, round_id=data.round_id,
                municipality_number=data.municipality_number, title=data.title, submitted_at=data.submitted_at,
            ),
        )


async def add_candidate(command: AddCandidate, uow: CandidatesUnitOfWork) -> bool:
    """Make a submitted proposal a candidate in its round; a redelivered event changes nothing."""
    async with uow:
        if not await uow.claim(command.consumer, command.event_id):
            return False
        await uow.candidates.add(command.candidate)
        await uow.commit()
        return True


async def list_candidates(round_id: str, reader: CandidatesReader) -> list[Candidate]:
    """The round's candidates, by reference."""
    async with reader:
        return await reader.candidates.for_round(round_id)
