"""The proposals' use cases: submit, read a public status, find similar questions. Each commits once."""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Protocol

import uuid_utils

from intake.proposals.model import (
    EffectQuestion,
    HistoryEntry,
    IdempotencyKeyReused,
    Origin,
    Proposal,
    ProposalNotFound,
    ProposalState,
    Proposer,
    SimilarityCandidate,
    check_classification,
    check_consent,
    check_decision,
    check_origin,
    check_self_assessment,
    format_reference,
)
from intake.proposals.repository import Proposals
from intake.proposals.similarity import Ranked, rank
from intake.reference.model import KnownSummary, known_summaries
from intake.rounds.model import Round, RoundNotFound
from intake.rounds.repository import Rounds
from shared.contracts import events
from shared.contracts.subjects import PROPOSAL_SUBMITTED, RECEIPT_REQUESTED
from shared.errors import raise_problems
from shared.messaging.ports import ReadOnly, Transaction

# Similar proposals are looked for among the region's newest proposals only: an index range scan with a fixed
# cost, whatever the registry's size. Duplicates matter most within the last rounds; older questions that were
# answered appear through the delivered summaries.
SIMILAR_WINDOW = 5000


class ProposalsUnitOfWork(Transaction, Protocol):
    @property
    def rounds(self) -> Rounds: ...

    @property
    def proposals(self) -> Proposals: ...


class ProposalsReader(ReadOnly, Protocol):
    @property
    def rounds(self) -> Rounds: ...

    @property
    def proposals(self) -> Proposals: ...


@dataclass(frozen=True)
class SubmitProposal:
    region: str
    round_id: str
    municipality_number: str | None
    title: str
    question: EffectQuestion
    background: str
    proposer: Proposer
    language: str = "nb"
    idempotency_key: str | None = None
    unit_code: str | None = None
    department: str = ""
    service_area: str | None = None
    theme: str | None = None
    decision_text: str = ""
    decision_on: date | None = None
    self_assessment: dict[str, int] = field(default_factory=dict)
    consent: bool = False  # the proposer must agree to the storing of the proposal and their contact details

    def fingerprint(self) -> str:
        """What makes two requests "the same" for Idempotency-Key purposes."""
        payload = json.dumps(asdict(self) | {"idempotency_key": None}, sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()

    def check(self, round_: Round, now: datetime) -> Origin:
        """The proposal's rules in the round at `now`; InvalidInput names every broken one."""
        origin, problems = check_origin(self.municipality_number, self.unit_code, now.date())
        problems += check_classification(self.service_area, self.theme)
        problems += check_self_assessment(round_, self.self_assessment)
        problems += check_decision(self.decision_text, self.decision_on)
        problems += check_consent(self.consent)
        raise_problems(problems)
        assert origin is not None
        return origin

    def to_proposal(self, origin: Origin, reference: str, now: datetime) -> Proposal:
        return Proposal(
            id=str(uuid_utils.uuid7()), reference=reference, region=self.region, round_id=self.round_id,
            municipality_number=origin.municipality_number, unit_code=origin.unit_code, department=self.department,
            service_area=self.service_area, theme=self.theme, title=self.title, question=self.question,
            background=self.background, decision_text=self.decision_text, decision_on=self.decision_on,
            self_assessment=dict(self.self_assessment), consent_at=now, language=self.language, submitted_at=now,
            proposer=self.proposer,
        )


@dataclass(frozen=True)
class SubmittedProposal:
    id: str
    reference: str
    created: bool  # False when an Idempotency-Key replay returned the earlier proposal


def submitted_event(proposal: Proposal, event_municipality: str) -> events.ProposalSubmittedV1:
    """`proposal.submitted` for a new proposal: ids, codes and the question, never the proposer."""
    q = proposal.question
    return events.ProposalSubmittedV1(
        proposal_id=proposal.id, reference=proposal.reference, region=proposal.region, round_id=proposal.round_id,
        municipality_number=event_municipality, title=proposal.title,
        question=events.EffectQuestion(
            population=q.population, intervention=q.intervention, comparison=q.comparison, outcome=q.outcome,
        ),
        background=proposal.background, language=proposal.language, submitted_at=proposal.submitted_at,
        unit_code=proposal.unit_code, department=proposal.department, service_area=proposal.service_area,
        theme=proposal.theme, decision_on=proposal.decision_on,
    )


async def _replayed(command: SubmitProposal, uow: ProposalsUnitOfWork) -> SubmittedProposal | None:
    """The proposal an Idempotency-Key already made, or None; IdempotencyKeyReused for other content."""
    if not command.idempotency_key:
        return None
    earlier = await uow.proposals.by_idempotency_key(command.idempotency_key)
    if earlier is None:
        return None
    proposal_id, request_hash = earlier
    if request_hash != command.fingerprint():
        raise IdempotencyKeyReused("this Idempotency-Key was already used for a different proposal")
    existing = await uow.proposals.get(proposal_id)
    assert existing is not None
    return SubmittedProposal(existing.id, existing.reference, created=False)


async def submit_proposal(
    command: SubmitProposal, uow: ProposalsUnitOfWork, now: datetime | None = None
) -> SubmittedProposal:
    """Store a proposal to an open round with its first history entry and announce it; the receipt goes on the
    contacts stream."""
    now = now or datetime.now(UTC)
    async with uow:
        replayed = await _replayed(command, uow)
        if replayed is not None:
            return replayed
        round_ = await uow.rounds.get(command.round_id)
        if round_ is None or round_.region != command.region:
            raise RoundNotFound(f"round {command.round_id!r} does not exist in region {command.region!r}")
        round_.ensure_open(now)
        origin = command.check(round_, now)
        number = await uow.proposals.next_reference_number(command.region, now.year)
        proposal = command.to_proposal(origin, format_reference(command.region, now.year, number), now)
        await uow.proposals.add(proposal)
        await uow.proposals.add_history(
            proposal.id, HistoryEntry(at=now, event="submitted", status=ProposalState.SUBMITTED)
        )
        if command.idempotency_key:
            await uow.proposals.remember_idempotency_key(
                command.idempotency_key, command.fingerprint(), proposal.id, now
            )
        uow.publish(PROPOSAL_SUBMITTED, region=proposal.region, subject_id=proposal.id,
                    data=submitted_event(proposal, origin.event_municipality))
        uow.publish(
            RECEIPT_REQUESTED, region=proposal.region, subject_id=proposal.id,
            data=events.ReceiptRequestedV1(
                proposal_id=proposal.id, reference=proposal.reference, title=proposal.title,
                language=proposal.language,
                recipient=events.Recipient(name=command.proposer.name, email=command.proposer.email),
            ),
        )
        await uow.commit()
        return SubmittedProposal(proposal.id, proposal.reference, created=True)


@dataclass(frozen=True)
class PublicStatus:
    """What anyone with the reference may see: the proposal without its proposer, its round and its history."""

    proposal: Proposal
    round_name: str
    history: tuple[HistoryEntry, ...]


async def get_public_status(reference: str, reader: ProposalsReader) -> PublicStatus:
    """A proposal's public status page by its reference (case-insensitive), or ProposalNotFound."""
    async with reader:
        proposal = await reader.proposals.by_reference(reference.strip().upper())
        if proposal is None:
            raise ProposalNotFound(f"no proposal with reference {reference!r}", field="reference")
        round_ = await reader.rounds.get(proposal.round_id)
        history = await reader.proposals.history(proposal.id)
    proposal.proposer = None  # never leaves the service through a public view
    return PublicStatus(proposal, round_.name if round_ else proposal.round_id, tuple(history))


async def get_proposal(proposal_id: str, reader: ProposalsReader) -> Proposal:
    """One proposal without its proposer, or ProposalNotFound."""
    async with reader:
        proposal = await reader.proposals.get(proposal_id)
    if proposal is None:
        raise ProposalNotFound(f"no proposal with id {proposal_id!r}")
    proposal.proposer = None
    return proposal


@dataclass(frozen=True)
class SimilarQuestions:
    proposals: list[Ranked[SimilarityCandidate]]
    summaries: list[Ranked[KnownSummary]]


async def find_similar(region: str, text: str, reader: ProposalsReader, limit: int = 5) -> SimilarQuestions:
    """Earlier proposals of the region and delivered summaries that resemble `text`, best first."""
    async with reader:
        candidates = await reader.proposals.newest_in_region(region, SIMILAR_WINDOW)
    # Ranking thousands of texts takes tens of milliseconds: in a thread, the event loop (and SQLite's writer,
    # which runs on it) keeps serving submissions meanwhile.
    ranked = await asyncio.to_thread(rank, text, [(c, c.text) for c in candidates], limit)
    return SimilarQuestions(
        proposals=ranked,
        summaries=rank(text, ((s, f"{s.title} {s.keywords}") for s in known_summaries()), limit),
    )
