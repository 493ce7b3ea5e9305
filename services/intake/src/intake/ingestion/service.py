"""Ingestion's use cases: take each submission once, quarantine what cannot be taken, correct and replay it.

Three ways in (HTTP CloudEvents, NATS, CSV/XLSX files) end in `ingest`. A submission is taken at most once per
(region, external id): `submit_proposal` gets an Idempotency-Key made of both, so even a crash between the
proposal's commit and our record of it cannot make a second proposal. Reads that decide nothing go through the
reader, so they never queue behind SQLite's one writer; every change is one commit of the unit of work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from math import ceil
from typing import Any, Protocol, cast

from sqlalchemy.exc import IntegrityError

from intake.ingestion.files import read_rows
from intake.ingestion.model import (
    OPEN,
    RESOLVED,
    AcceptedSubmission,
    Arrival,
    Kind,
    NewQuarantineEntry,
    Outcome,
    QuarantineEntry,
    QuarantineEntryNotFound,
    QuarantineEntryResolved,
    QuarantineHistoryItem,
    Reason,
    Status,
)
from intake.ingestion.repository import Ingestion
from intake.ingestion.validation import (
    Checked,
    check,
    json_kind,
    parse_json_items,
    problem_reasons,
    submission_hash,
)
from intake.proposals import service as proposals
from intake.proposals.model import EffectQuestion, IdempotencyKeyReused, Proposer
from intake.proposals.repository import Proposals
from shared.contracts.ingest import ProposalSubmissionV1
from shared.errors import DomainError, InvalidInput
from shared.messaging.ports import ReadOnly
from shared.telemetry import get_logger

log = get_logger("kp.intake.ingest")


class IngestionUnitOfWork(proposals.ProposalsUnitOfWork, Protocol):
    @property
    def ingestion(self) -> Ingestion: ...


class IngestionReader(ReadOnly, Protocol):
    @property
    def ingestion(self) -> Ingestion: ...

    @property
    def proposals(self) -> Proposals: ...


def _command(submission: ProposalSubmissionV1) -> proposals.SubmitProposal:
    """The proposal use case's command; its Idempotency-Key makes (region, external id) taken at most once."""
    q, decision = submission.question, submission.decision
    return proposals.SubmitProposal(
        region=submission.region, round_id=submission.round, municipality_number=submission.municipality,
        unit_code=submission.unit, department=submission.department, service_area=submission.service_area,
        theme=submission.theme, title=submission.title,
        question=EffectQuestion(q.population, q.intervention, q.comparison, q.outcome),
        background=submission.background, decision_text=decision.text if decision else "",
        decision_on=decision.date if decision else None, self_assessment=dict(submission.self_assessment),
        proposer=Proposer(submission.proposer.name, str(submission.proposer.email)), consent=submission.consent,
        language=submission.language, idempotency_key=_key(submission.region, submission.external_id),
    )


def _key(region: str, external_id: str) -> str:
    return f"ingest:{region}:{external_id}"


# --- Offline validation: no server, no database, no rounds ---


def validate_offline(filename: str, content: bytes, region: str | None, today: date | None = None) -> list[Outcome]:
    """What would happen to each row or event, without a server or a database (rounds are not checked)."""
    today = today or datetime.now(UTC).date()
    if filename.lower().endswith((".csv", ".xlsx", ".txt")) or content[:4] == b"PK\x03\x04":
        items: list[tuple[int, Kind, Any]] = [(n, "row", row) for n, row in read_rows(filename, content)]
    else:
        parsed, _ = parse_json_items(content)
        items = [(i, json_kind(item), item) for i, item in enumerate(parsed, start=1)]
    seen: set[str] = set()
    outcomes = []
    for number, kind, payload in items:
        checked = check(kind, payload, region, today)
        if checked.reasons:
            status: Status = "invalid"
        elif checked.external_id in seen:
            status = "duplicate"
        else:
            status = "valid"
        if checked.external_id:
            seen.add(checked.external_id)
        outcomes.append(Outcome(status, checked.external_id, checked.event_id, number, reasons=checked.reasons))
    return outcomes


# --- Taking submissions ---


async def ingest(
    arrival: Arrival, uow: IngestionUnitOfWork, reader: IngestionReader, *, now: datetime | None = None
) -> Outcome:
    """Take one submission: a new proposal, the proposal it already became, or a quarantine entry with reasons."""
    now = now or datetime.now(UTC)
    checked = check(arrival.kind, arrival.payload, arrival.region, now.date())
    return await _take_with_retry(_Step(arrival, checked, uow, reader, now), None)


@dataclass(frozen=True)
class _Step:
    """One submission on its way in, and where it is read and written."""

    arrival: Arrival
    checked: Checked
    uow: IngestionUnitOfWork
    reader: IngestionReader
    now: datetime


async def _take_with_retry(step: _Step, entry: QuarantineEntry | None) -> Outcome:
    for attempt in range(3):
        try:
            return await _take(step, entry)
        except IntegrityError:
            # The same submission arrived twice at once (PostgreSQL): the loser looks again and finds the winner.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def _earlier(step: _Step, entry: QuarantineEntry | None) -> Outcome | None:
    """The proposal this external id already became, if any (and the replayed entry resolved by it)."""
    arrival, checked = step.arrival, step.checked
    if not checked.external_id:
        return None
    async with step.reader:
        earlier = await step.reader.ingestion.accepted(arrival.region, checked.external_id)
    if earlier is None:
        return None
    differs = checked.submission is None or submission_hash(checked.submission) != earlier.content_hash
    if entry is not None:
        async with step.uow:
            await step.uow.ingestion.resolve(entry.id, earlier.proposal_id, step.now)
            await step.uow.ingestion.add_history(
                entry.id, action="replayed", actor=arrival.actor, outcome="duplicate",
                proposal_id=earlier.proposal_id, now=step.now,
            )
            await step.uow.commit()
    return Outcome(
        "duplicate", checked.external_id, checked.event_id, arrival.row_number, earlier.proposal_id,
        earlier.reference, entry.id if entry else None, content_differs=differs,
    )


async def _take(step: _Step, entry: QuarantineEntry | None) -> Outcome:
    arrival, checked = step.arrival, step.checked
    earlier = await _earlier(step, entry)
    if earlier is not None:
        return earlier
    if checked.reasons or checked.submission is None:
        return await _quarantine(step, list(checked.reasons), entry)
    submission = checked.submission
    differs = False
    try:
        result = await proposals.submit_proposal(_command(submission), step.uow, now=step.now)
        proposal_id, reference, created = result.id, result.reference, result.created
    except IdempotencyKeyReused:
        # Taken before with other content, and our record of it was lost (a crash between the two commits).
        proposal_id, reference = await _proposal_for_key(step.reader, _key(arrival.region, submission.external_id))
        created, differs = False, True
    except InvalidInput as error:
        prefix = "data." if arrival.kind == "event" else ""
        return await _quarantine(step, problem_reasons(error.problems, prefix, arrival.kind == "row"), entry)
    except DomainError as error:
        # The round is unknown, closed or not yet open: the secretariat can fix the round and replay.
        return await _quarantine(step, [Reason(error.field or "<submission>", error.code, error.detail)], entry)
    accepted = AcceptedSubmission(
        arrival.region, submission.external_id, proposal_id, reference, submission_hash(submission)
    )
    await _record(step, accepted, submission, entry)
    log.info(
        "ingest.accepted", region=arrival.region, channel=arrival.channel, external_id=submission.external_id,
        proposal_id=proposal_id, created=created, quarantine_id=entry.id if entry else None,
    )
    return Outcome(
        "accepted" if created else "duplicate", submission.external_id, checked.event_id, arrival.row_number,
        proposal_id, reference, entry.id if entry else None, content_differs=differs,
    )


async def _record(
    step: _Step, accepted: AcceptedSubmission, submission: ProposalSubmissionV1, entry: QuarantineEntry | None
) -> None:
    """Remember which proposal the external id became; earlier failed attempts of it are settled by this one."""
    arrival, uow = step.arrival, step.uow
    async with uow:
        await uow.ingestion.record_accepted(
            accepted, channel=arrival.channel, source=arrival.source, event_id=step.checked.event_id,
            external_submitted_at=submission.submitted_at, quarantine_id=entry.id if entry else None, now=step.now,
        )
        settled = set(await uow.ingestion.open_for_external_id(arrival.region, submission.external_id))
        if entry is not None:
            settled.add(entry.id)
        for entry_id in sorted(settled):
            await uow.ingestion.resolve(entry_id, accepted.proposal_id, step.now)
            await uow.ingestion.add_history(
                entry_id, action="replayed" if entry is not None and entry_id == entry.id else "superseded",
                actor=arrival.actor, outcome="accepted", proposal_id=accepted.proposal_id, now=step.now,
            )
        await uow.commit()


async def _proposal_for_key(reader: IngestionReader, key: str) -> tuple[str, str]:
    async with reader:
        found = await reader.proposals.by_idempotency_key(key)
        assert found is not None, "an Idempotency-Key that was reused must be stored"
        proposal = await reader.proposals.get(found[0])
    assert proposal is not None
    return proposal.id, proposal.reference


async def _quarantine(step: _Step, reasons: list[Reason], entry: QuarantineEntry | None) -> Outcome:
    """Keep the submission with its reasons for the secretariat: a new entry, or the one this content has."""
    arrival, checked, uow, now = step.arrival, step.checked, step.uow, step.now
    recorded = [r.as_dict() for r in reasons]
    region = arrival.region[:32]
    async with uow:
        if entry is not None:
            entry_id, action = entry.id, "replayed"
            await uow.ingestion.set_reasons(entry_id, recorded, now)
        else:
            existing = await uow.ingestion.by_content(region, arrival.content_hash())
            if existing is None:
                action = "quarantined"
                entry_id = await uow.ingestion.add(NewQuarantineEntry(
                    region=region, external_id=(checked.external_id or "")[:120] or None, channel=arrival.channel,
                    source=arrival.source, event_id=(checked.event_id or "")[:200] or None,
                    row_number=arrival.row_number, kind=arrival.kind, payload=arrival.payload,
                    content_hash=arrival.content_hash(), reasons=recorded,
                ), now)
            else:
                entry_id, action = existing.id, "received_again"
                await uow.ingestion.received_again(entry_id, now)
                if existing.status == RESOLVED and existing.proposal_id:
                    # This very content was corrected and taken before: it is that proposal, not a new problem.
                    await uow.ingestion.add_history(entry_id, action=action, actor=arrival.actor, outcome="duplicate",
                                                    proposal_id=existing.proposal_id, now=now)
                    await uow.commit()
                    return Outcome("duplicate", checked.external_id, checked.event_id, arrival.row_number,
                                   existing.proposal_id, quarantine_id=entry_id)
                await uow.ingestion.set_reasons(entry_id, recorded, now)
        await uow.ingestion.add_history(
            entry_id, action=action, actor=arrival.actor, outcome="quarantined", reasons=recorded, now=now
        )
        await uow.commit()
    # Ids and rules only: the payload and the messages may carry personal data.
    log.warning(
        "ingest.quarantined", region=region, channel=arrival.channel, quarantine_id=entry_id,
        external_id=checked.external_id, row=arrival.row_number, rules=[f"{r.field}:{r.rule}" for r in reasons],
    )
    return Outcome("quarantined", checked.external_id, checked.event_id, arrival.row_number, quarantine_id=entry_id,
                   reasons=tuple(reasons))


async def quarantine_failure(
    arrival: Arrival, reason: Reason, uow: IngestionUnitOfWork, reader: IngestionReader
) -> Outcome:
    """Keep a submission that kept failing for a transient cause: the quarantine is its dead-letter store."""
    now = datetime.now(UTC)
    checked = check(arrival.kind, arrival.payload, arrival.region, now.date())
    return await _quarantine(_Step(arrival, checked, uow, reader, now), [reason], None)


@dataclass(frozen=True)
class ImportFile:
    region: str
    filename: str
    content: bytes
    actor: str


async def import_file(command: ImportFile, uow: IngestionUnitOfWork, reader: IngestionReader) -> list[Outcome]:
    """Take every row of a CSV or XLSX file; one outcome per row, in file order."""
    rows = read_rows(command.filename, command.content)
    return [
        await ingest(
            Arrival(command.region, "file", "row", row, command.filename[:200], command.actor, number), uow, reader,
        )
        for number, row in rows
    ]


# --- The quarantine, for the region's secretariat ---


async def get_entry(region: str, entry_id: str, reader: IngestionReader) -> QuarantineEntry:
    """One entry of the region's quarantine, or QuarantineEntryNotFound."""
    async with reader:
        entry = await reader.ingestion.get(region, entry_id)
    if entry is None:
        raise QuarantineEntryNotFound(f"no quarantine entry {entry_id!r} in region {region!r}")
    return entry


@dataclass(frozen=True)
class EntryDetail:
    """An entry with its trace, and the proposal it became (by reference) once resolved."""

    entry: QuarantineEntry
    history: list[QuarantineHistoryItem]
    proposal_reference: str | None


async def entry_detail(region: str, entry_id: str, reader: IngestionReader) -> EntryDetail:
    """One entry with its history and, once resolved, its proposal's reference."""
    entry = await get_entry(region, entry_id, reader)
    async with reader:
        history = await reader.ingestion.history(entry.id)
        proposal = await reader.proposals.get(entry.proposal_id) if entry.proposal_id else None
    return EntryDetail(entry, history, proposal.reference if proposal else None)


@dataclass(frozen=True)
class QuarantinePage:
    entries: list[QuarantineEntry]
    total: int
    page: int
    size: int


async def quarantine(
    region: str, status: str | None, reader: IngestionReader, *, page: int = 1, size: int = 50
) -> QuarantinePage:
    """One page of the region's entries, newest first (all statuses when `status` is None)."""
    async with reader:
        total = await reader.ingestion.count(region, status)
        page = min(max(page, 1), max(1, ceil(total / size)))
        entries = await reader.ingestion.for_region(region, status, size, (page - 1) * size)
    return QuarantinePage(entries, total, page, size)


@dataclass(frozen=True)
class CorrectEntry:
    region: str
    entry_id: str
    payload: Any  # the corrected submission, or a whole CloudEvent
    actor: str


async def correct_entry(
    command: CorrectEntry, uow: IngestionUnitOfWork, reader: IngestionReader, now: datetime | None = None
) -> tuple[QuarantineEntry, tuple[Reason, ...]]:
    """Store the secretariat's corrected submission (or whole CloudEvent) and say what is still wrong with it."""
    now = now or datetime.now(UTC)
    entry = await get_entry(command.region, command.entry_id, reader)
    if entry.status != OPEN:
        raise QuarantineEntryResolved(f"quarantine entry {entry.id!r} is resolved: proposal {entry.proposal_id}")
    kind = json_kind(command.payload)
    checked = check(kind, command.payload, command.region, now.date())
    recorded = [r.as_dict() for r in checked.reasons]
    async with uow:
        await uow.ingestion.correct(
            entry.id, kind=kind, payload=command.payload, reasons=recorded, now=now,
            external_id=(checked.external_id or "")[:120] or entry.external_id,
        )
        await uow.ingestion.add_history(
            entry.id, action="corrected", actor=command.actor, outcome="valid" if not recorded else "invalid",
            reasons=recorded, replaced_payload=entry.payload, now=now,
        )
        await uow.commit()
    rules = [f"{r.field}:{r.rule}" for r in checked.reasons]
    log.info("ingest.corrected", region=command.region, quarantine_id=entry.id, rules=rules)
    return await get_entry(command.region, entry.id, reader), checked.reasons


@dataclass(frozen=True)
class ReplayEntry:
    region: str
    entry_id: str
    actor: str


async def replay_entry(
    command: ReplayEntry, uow: IngestionUnitOfWork, reader: IngestionReader, now: datetime | None = None
) -> Outcome:
    """Validate an entry again and, if it passes, make its proposal and resolve the entry (keeping its history)."""
    now = now or datetime.now(UTC)
    entry = await get_entry(command.region, command.entry_id, reader)
    if entry.status != OPEN:
        raise QuarantineEntryResolved(f"quarantine entry {entry.id!r} is resolved: proposal {entry.proposal_id}")
    arrival = Arrival(
        command.region, entry.channel, cast(Kind, entry.kind), entry.payload, entry.source, command.actor,
        entry.row_number,
    )
    checked = check(arrival.kind, arrival.payload, command.region, now.date())
    return await _take_with_retry(_Step(arrival, checked, uow, reader, now), entry)
