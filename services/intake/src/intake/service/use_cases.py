"""Intake's use cases: each takes a command and a unit of work, and commits once."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import uuid_utils

from intake.adapters.uow import IntakeUnitOfWork
from intake.domain.model import (
    EffectQuestion,
    IdempotencyKeyReused,
    Proposal,
    Proposer,
    Round,
    RoundClosed,
    RoundNotFound,
    RoundStatus,
    UnknownMunicipality,
    format_reference,
)
from intake.domain.municipalities import municipality_valid_on
from shared.contracts import events
from shared.contracts.subjects import PROPOSAL_SUBMITTED, RECEIPT_REQUESTED


@dataclass(frozen=True)
class SubmitProposal:
    region: str
    round_id: str
    municipality_number: str
    title: str
    question: EffectQuestion
    background: str
    proposer: Proposer
    language: str = "nb"
    idempotency_key: str | None = None

    def fingerprint(self) -> str:
        """What makes two requests "the same" for Idempotency-Key purposes."""
        payload = json.dumps(asdict(self) | {"idempotency_key": None}, sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True)
class SubmittedProposal:
    id: str
    reference: str
    created: bool  # False when an Idempotency-Key replay returned the earlier proposal


async def submit_proposal(
    command: SubmitProposal, uow: IntakeUnitOfWork, now: datetime | None = None
) -> SubmittedProposal:
    """Store a proposal to an open round and announce it; the proposer's receipt goes on the contacts stream."""
    now = now or datetime.now(UTC)
    async with uow:
        if command.idempotency_key:
            earlier = await uow.proposals.by_idempotency_key(command.idempotency_key)
            if earlier is not None:
                proposal_id, request_hash = earlier
                if request_hash != command.fingerprint():
                    raise IdempotencyKeyReused("this Idempotency-Key was already used for a different proposal")
                existing = await uow.proposals.get(proposal_id)
                assert existing is not None
                return SubmittedProposal(existing.id, existing.reference, created=False)

        round_ = await uow.rounds.get(command.round_id)
        if round_ is None or round_.region != command.region:
            raise RoundNotFound(f"round {command.round_id!r} does not exist in region {command.region!r}")
        _ensure_open(round_, now)
        if municipality_valid_on(command.municipality_number, now.date()) is None:
            raise UnknownMunicipality(
                f"{command.municipality_number!r} is not a valid municipality number on {now.date().isoformat()}"
            )

        number = await uow.proposals.next_reference_number(command.region, now.year)
        proposal = Proposal(
            id=str(uuid_utils.uuid7()),
            reference=format_reference(command.region, now.year, number),
            region=command.region,
            round_id=round_.id,
            municipality_number=command.municipality_number,
            title=command.title,
            question=command.question,
            background=command.background,
            language=command.language,
            submitted_at=now,
            proposer=command.proposer,
        )
        await uow.proposals.add(proposal)
        if command.idempotency_key:
            await uow.proposals.remember_idempotency_key(
                command.idempotency_key, command.fingerprint(), proposal.id, now
            )
        uow.publish(
            PROPOSAL_SUBMITTED, region=proposal.region, subject_id=proposal.id,
            data=events.ProposalSubmittedV1(
                proposal_id=proposal.id, reference=proposal.reference, region=proposal.region,
                round_id=proposal.round_id, municipality_number=proposal.municipality_number, title=proposal.title,
                question=events.EffectQuestion(**asdict(proposal.question)), background=proposal.background,
                language=proposal.language, submitted_at=proposal.submitted_at,
            ),
        )
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


def _ensure_open(round_: Round, now: datetime) -> None:
    status = round_.status_at(now)
    if status is RoundStatus.OPEN:
        return
    window = f"{round_.opens_at.isoformat()} – {round_.closes_at.isoformat()}"
    verb = "has not opened yet" if status is RoundStatus.PLANNED else "is closed"
    raise RoundClosed(
        f"round {round_.id!r} {verb}: proposals are accepted {window}",
        opens_at=round_.opens_at.isoformat(), closes_at=round_.closes_at.isoformat(),
    )


async def save_round(round_: Round, uow: IntakeUnitOfWork) -> None:
    """Create or update a round (used by the demo seed; the secretariat's pages come with the intake issue)."""
    async with uow:
        await uow.rounds.save(round_)
        await uow.commit()
