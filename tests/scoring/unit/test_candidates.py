"""Scoring's candidate use cases on in-memory fakes: no database, no broker."""

from __future__ import annotations

from datetime import UTC, datetime

from scoring.candidates import service
from scoring.candidates.model import Candidate
from shared.contracts.envelope import CloudEvent, envelope
from shared.contracts.events import EffectQuestion, ProposalSubmittedV1
from tests.support.fakes import FakeUnitOfWork

CONSUMER = "scoring-proposal-submitted"


class InMemoryCandidates:
    def __init__(self) -> None:
        self.rows: dict[str, Candidate] = {}

    async def add(self, candidate: Candidate) -> None:
        self.rows.setdefault(candidate.proposal_id, candidate)

    async def for_round(self, round_id: str) -> list[Candidate]:
        return sorted((c for c in self.rows.values() if c.round_id == round_id), key=lambda c: c.reference)


class CandidatesUow(FakeUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.candidates = InMemoryCandidates()


def submitted(proposal_id: str = "p-1", reference: str = "VEST-2019-0001") -> CloudEvent[ProposalSubmittedV1]:
    data = ProposalSubmittedV1(
        proposal_id=proposal_id, reference=reference, region="vest", round_id="vest-2019-host",
        municipality_number="4601", title="Honning på sår", submitted_at=datetime(2019, 9, 1, tzinfo=UTC),
        question=EffectQuestion(population="Pasientar med sår", intervention="Honning", outcome="Tilheling"),
    )
    raw = envelope(service="intake", event_type="kp.intake.proposal.submitted.v1", subject=proposal_id,
                   region="vest", data=data)
    return CloudEvent[ProposalSubmittedV1].model_validate(raw)


async def test_a_submitted_proposal_becomes_a_candidate_in_its_round() -> None:
    uow = CandidatesUow()
    added = await service.add_candidate(service.AddCandidate.from_event(submitted(), CONSUMER), uow)
    assert added
    [candidate] = await service.list_candidates("vest-2019-host", _reader(uow))
    assert (candidate.reference, candidate.municipality_number, candidate.title) == (
        "VEST-2019-0001", "4601", "Honning på sår",
    )
    assert uow.commits == 1


async def test_a_redelivered_event_changes_nothing() -> None:
    uow = CandidatesUow()
    event = submitted()
    assert await service.add_candidate(service.AddCandidate.from_event(event, CONSUMER), uow)
    assert not await service.add_candidate(service.AddCandidate.from_event(event, CONSUMER), uow)
    assert uow.commits == 1
    assert len(uow.candidates.rows) == 1


def _reader(uow: CandidatesUow) -> service.CandidatesReader:
    return uow
