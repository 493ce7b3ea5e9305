"""Intake's use cases: each takes a command and a unit of work (or a reader for queries), and commits once."""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime

import uuid_utils

from intake.adapters.repository import SimilarityCandidate
from intake.adapters.uow import IntakeReader, IntakeUnitOfWork
from intake.domain import reference as reference_lists
from intake.domain.model import (
    DEFAULT_TIME_ZONE,
    EffectQuestion,
    HistoryEntry,
    IdempotencyKeyReused,
    Proposal,
    ProposalNotFound,
    ProposalState,
    Proposer,
    Round,
    RoundExists,
    RoundNotFound,
    RoundStatus,
    check_classification,
    check_consent,
    check_decision,
    check_origin,
    check_self_assessment,
    format_reference,
    in_zone,
    raise_problems,
)
from intake.domain.similarity import Ranked, rank
from shared.contracts import events
from shared.contracts.subjects import PROPOSAL_SUBMITTED, RECEIPT_REQUESTED, ROUND_CLOSED, ROUND_OPENED

# Similar proposals are looked for among the region's newest proposals only: an index range scan with a fixed
# cost, whatever the registry's size. Duplicates matter most within the last rounds; older questions that were
# answered appear through the delivered summaries.
SIMILAR_WINDOW = 5000
DEFAULT_CRITERIA_SET = "prioritering"

# --- Rounds --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundFields:
    """What the secretariat sets on a round. A timestamp without an offset is wall-clock time in `time_zone`."""

    name: str
    opens_at: datetime
    closes_at: datetime
    time_zone: str = DEFAULT_TIME_ZONE
    default_language: str = "nb"
    committee_meeting_on: date | None = None
    decision_on: date | None = None
    final_report_on: date | None = None
    criteria_set: str | None = DEFAULT_CRITERIA_SET
    capacity_note: str = ""

    def to_round(self, round_id: str, region: str) -> Round:
        return Round(
            id=round_id, region=region, name=self.name,
            opens_at=in_zone(self.opens_at, self.time_zone), closes_at=in_zone(self.closes_at, self.time_zone),
            default_language=self.default_language, time_zone=self.time_zone,
            committee_meeting_on=self.committee_meeting_on, decision_on=self.decision_on,
            final_report_on=self.final_report_on, criteria_set=self.criteria_set, capacity_note=self.capacity_note,
        )


@dataclass(frozen=True)
class CreateRound:
    region: str
    fields: RoundFields
    round_id: str | None = None  # generated when not given


@dataclass(frozen=True)
class UpdateRound:
    round_id: str
    fields: RoundFields


async def create_round(command: CreateRound, uow: IntakeUnitOfWork, now: datetime | None = None) -> Round:
    """Create a round after checking its rules; the clock announces its opening and closing later."""
    now = now or datetime.now(UTC)
    round_ = command.fields.to_round(command.round_id or str(uuid_utils.uuid7()), command.region)
    round_.validate()
    if round_.closes_at <= now:
        # A round registered after its window (an earlier year's, for reports) is a record, not news:
        # marking both announcements keeps the clock from telling municipalities about it.
        round_ = replace(round_, opened_announced_at=now, closed_announced_at=now)
    async with uow:
        if await uow.rounds.get(round_.id) is not None:
            raise RoundExists(f"a round with id {round_.id!r} already exists")
        await uow.rounds.add(round_)
        await uow.commit()
    return round_


async def update_round(command: UpdateRound, uow: IntakeUnitOfWork, now: datetime | None = None) -> Round:
    """Change a round's name, window, dates and criteria; its region stays. Publishes nothing itself."""
    now = now or datetime.now(UTC)
    async with uow:
        existing = await uow.rounds.get(command.round_id)
        if existing is None:
            raise RoundNotFound(f"round {command.round_id!r} does not exist")
        round_ = command.fields.to_round(existing.id, existing.region)
        round_.validate()
        # An announcement stands only while the moment it announced is still in the past: a window moved
        # later (a postponed opening, an extended deadline) is announced again when it is reached.
        round_ = replace(
            round_,
            opened_announced_at=existing.opened_announced_at if round_.opens_at <= now else None,
            closed_announced_at=existing.closed_announced_at if round_.closes_at <= now else None,
        )
        await uow.rounds.update(round_)
        await uow.commit()
    return round_


async def save_round(round_: Round, uow: IntakeUnitOfWork) -> None:
    """Create or overwrite a round as given, after checking its rules (the demo seed and tests use it)."""
    round_.validate()
    async with uow:
        await uow.rounds.save(round_)
        await uow.commit()


@dataclass(frozen=True)
class Announcements:
    opened: tuple[str, ...]
    closed: tuple[str, ...]


async def announce_round_changes(now: datetime, uow: IntakeUnitOfWork) -> Announcements:
    """Publish round.opened and round.closed once each, as windows open and close, with the marks in one commit.

    Safe with several replicas running the clock: each announcement is claimed by a conditional UPDATE, and
    only the transaction whose UPDATE changed the row publishes. An opening first seen after the round had
    already closed (the clock was down the whole window) is marked but not published: it is no longer true.
    """
    opened: list[str] = []
    closed: list[str] = []
    changed = False
    async with uow:
        for round_ in await uow.rounds.due_openings(now):
            if not await uow.rounds.claim_opened(round_.id, now):
                continue
            changed = True
            if round_.status_at(now) is RoundStatus.CLOSED:
                continue
            uow.publish(
                ROUND_OPENED, region=round_.region, subject_id=round_.id,
                data=events.RoundOpenedV1(
                    round_id=round_.id, region=round_.region, name=round_.name, opens_at=round_.opens_at,
                    closes_at=round_.closes_at, time_zone=round_.time_zone,
                ),
            )
            opened.append(round_.id)
        for round_ in await uow.rounds.due_closings(now):
            if not await uow.rounds.claim_closed(round_.id, now):
                continue
            changed = True
            uow.publish(
                ROUND_CLOSED, region=round_.region, subject_id=round_.id,
                data=events.RoundClosedV1(
                    round_id=round_.id, region=round_.region, name=round_.name, opens_at=round_.opens_at,
                    closes_at=round_.closes_at, time_zone=round_.time_zone,
                    proposal_count=await uow.proposals.count_in_round(round_.id),
                ),
            )
            closed.append(round_.id)
        if changed:
            await uow.commit()
    return Announcements(tuple(opened), tuple(closed))


async def list_rounds(
    region: str, reader: IntakeReader, status: RoundStatus | None = None, now: datetime | None = None
) -> list[Round]:
    """The region's rounds by opening time, optionally only those with `status` at `now`."""
    now = now or datetime.now(UTC)
    async with reader:
        found = await reader.rounds.for_region(region)
    return [r for r in found if status is None or r.status_at(now) is status]


async def get_round(round_id: str, reader: IntakeReader) -> Round:
    """One round, or RoundNotFound."""
    async with reader:
        round_ = await reader.rounds.get(round_id)
    if round_ is None:
        raise RoundNotFound(f"round {round_id!r} does not exist")
    return round_


# --- Proposals -----------------------------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class SubmittedProposal:
    id: str
    reference: str
    created: bool  # False when an Idempotency-Key replay returned the earlier proposal


async def submit_proposal(
    command: SubmitProposal, uow: IntakeUnitOfWork, now: datetime | None = None
) -> SubmittedProposal:
    """Store a proposal to an open round with its first history entry and announce it; the receipt goes on the
    contacts stream."""
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
        round_.ensure_open(now)
        origin, problems = check_origin(command.municipality_number, command.unit_code, now.date())
        problems += check_classification(command.service_area, command.theme)
        problems += check_self_assessment(round_, command.self_assessment)
        problems += check_decision(command.decision_text, command.decision_on)
        problems += check_consent(command.consent)
        raise_problems(problems)
        assert origin is not None

        number = await uow.proposals.next_reference_number(command.region, now.year)
        proposal = Proposal(
            id=str(uuid_utils.uuid7()),
            reference=format_reference(command.region, now.year, number),
            region=command.region,
            round_id=round_.id,
            municipality_number=origin.municipality_number,
            unit_code=origin.unit_code,
            department=command.department,
            service_area=command.service_area,
            theme=command.theme,
            title=command.title,
            question=command.question,
            background=command.background,
            decision_text=command.decision_text,
            decision_on=command.decision_on,
            self_assessment=dict(command.self_assessment),
            consent_at=now,
            language=command.language,
            submitted_at=now,
            proposer=command.proposer,
        )
        await uow.proposals.add(proposal)
        await uow.proposals.add_history(
            proposal.id, HistoryEntry(at=now, event="submitted", status=ProposalState.SUBMITTED)
        )
        if command.idempotency_key:
            await uow.proposals.remember_idempotency_key(
                command.idempotency_key, command.fingerprint(), proposal.id, now
            )
        uow.publish(
            PROPOSAL_SUBMITTED, region=proposal.region, subject_id=proposal.id,
            data=events.ProposalSubmittedV1(
                proposal_id=proposal.id, reference=proposal.reference, region=proposal.region,
                round_id=proposal.round_id, municipality_number=origin.event_municipality, title=proposal.title,
                question=events.EffectQuestion(**asdict(proposal.question)), background=proposal.background,
                language=proposal.language, submitted_at=proposal.submitted_at, unit_code=proposal.unit_code,
                department=proposal.department, service_area=proposal.service_area, theme=proposal.theme,
                decision_on=proposal.decision_on,
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


@dataclass(frozen=True)
class PublicStatus:
    """What anyone with the reference may see: the proposal without its proposer, its round and its history."""

    proposal: Proposal
    round_name: str
    history: tuple[HistoryEntry, ...]


async def get_public_status(reference: str, reader: IntakeReader) -> PublicStatus:
    """A proposal's public status page by its reference (case-insensitive), or ProposalNotFound."""
    async with reader:
        proposal = await reader.proposals.by_reference(reference.strip().upper())
        if proposal is None:
            raise ProposalNotFound(f"no proposal with reference {reference!r}", field="reference")
        round_ = await reader.rounds.get(proposal.round_id)
        history = await reader.proposals.history(proposal.id)
    proposal.proposer = None  # never leaves the service through a public view
    return PublicStatus(proposal, round_.name if round_ else proposal.round_id, tuple(history))


@dataclass(frozen=True)
class SimilarQuestions:
    proposals: list[Ranked[SimilarityCandidate]]
    summaries: list[Ranked[reference_lists.KnownSummary]]


async def find_similar(region: str, text: str, reader: IntakeReader, limit: int = 5) -> SimilarQuestions:
    """Earlier proposals of the region and delivered summaries that resemble `text`, best first."""
    async with reader:
        candidates = await reader.proposals.newest_in_region(region, SIMILAR_WINDOW)
    # Ranking thousands of texts takes tens of milliseconds: in a thread, the event loop (and SQLite's writer,
    # which runs on it) keeps serving submissions meanwhile.
    ranked = await asyncio.to_thread(rank, text, [(c, c.text) for c in candidates], limit)
    return SimilarQuestions(
        proposals=ranked,
        summaries=rank(text, ((s, f"{s.title} {s.keywords}") for s in reference_lists.known_summaries()), limit),
    )


@dataclass(frozen=True)
class ReferenceData:
    """The lists a proposal form offers on a given day."""

    day: date
    municipalities: list[reference_lists.Municipality]
    units: list[reference_lists.Unit]
    service_areas: list[reference_lists.Labelled]
    themes: list[reference_lists.Labelled]
    criteria_sets: list[reference_lists.CriteriaSet]


def reference_data(day: date) -> ReferenceData:
    """Municipalities and units valid on `day`, service areas, themes and criteria sets."""
    return ReferenceData(
        day=day,
        municipalities=reference_lists.municipalities_valid_on(day),
        units=reference_lists.units_valid_on(day),
        service_areas=list(reference_lists.service_areas().values()),
        themes=list(reference_lists.themes().values()),
        criteria_sets=list(reference_lists.criteria_sets().values()),
    )
