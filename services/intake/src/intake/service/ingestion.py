"""Ingestion from other regions' systems: take each submission once, quarantine what cannot be taken.

Three ways in (HTTP CloudEvents, NATS, CSV/XLSX files) end in `ingest`. A submission is taken at most
once per (region, external id): `submit_proposal` gets an Idempotency-Key made of both, so even a crash
between the proposal's commit and our record of it cannot make a second proposal. What fails validation
or the service's rules goes to the quarantine with reasons naming the field and the rule; the region's
secretariat corrects and replays it there. Quarantined payloads hold personal data: logs get ids and rules.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal, cast

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from intake.adapters.ingestion_repository import (
    OPEN,
    RESOLVED,
    AcceptedSubmission,
    IngestionRepository,
    NewQuarantineEntry,
    QuarantineEntry,
)
from intake.adapters.repository import ProposalRepository
from intake.adapters.uow import IntakeUnitOfWork
from intake.domain.model import (
    EffectQuestion,
    FieldProblem,
    IdempotencyKeyReused,
    InvalidInput,
    Proposer,
    check_classification,
    check_consent,
    check_decision,
    check_origin,
)
from intake.service import use_cases
from shared.contracts.ingest import ProposalSubmissionEventV1, ProposalSubmissionV1
from shared.db import Database
from shared.telemetry import get_logger
from shared.web.problems import Conflict, DomainError, NotFound

log = get_logger("kp.intake.ingest")

Kind = Literal["event", "row", "submission", "text"]
Status = Literal["accepted", "duplicate", "quarantined", "valid", "invalid"]

MAX_ROWS = 5000
MAX_TEXT = 1_000_000

# The file format's columns, in the documented order. A header row names them (any order, any case).
COLUMNS = (
    "external_id", "region", "round", "municipality", "unit", "department", "service_area", "theme", "title",
    "population", "intervention", "comparison", "outcome", "background", "decision_text", "decision_date",
    "proposer_name", "proposer_email", "consent", "language", "submitted_at",
)
REQUIRED_COLUMNS = (
    "external_id", "round", "title", "population", "intervention", "outcome", "proposer_name", "proposer_email",
    "consent",
)
# Spreadsheet habits for yes and no; anything else is left for the contract to refuse by name.
_CONSENT = {"ja": "true", "yes": "true", "x": "true", "nei": "false", "no": "false"}
# A submission's field path → the file column it comes from, so a row's reasons name the column.
_COLUMN_OF = {
    "question.population": "population", "question.intervention": "intervention",
    "question.comparison": "comparison", "question.outcome": "outcome", "proposer.name": "proposer_name",
    "proposer.email": "proposer_email", "decision.text": "decision_text", "decision.date": "decision_date",
    "decision": "decision_text", "question": "population", "proposer": "proposer_name",
}


class IngestFileUnreadable(DomainError):
    status = 422
    code = "ingest-file-unreadable"
    field = "file"


class IngestBodyUnreadable(DomainError):
    status = 400
    code = "ingest-body-unreadable"
    field = "<body>"


class QuarantineEntryNotFound(NotFound):
    code = "quarantine-entry-not-found"


class QuarantineEntryResolved(Conflict):
    code = "quarantine-entry-resolved"


@dataclass(frozen=True)
class Reason:
    """Why a submission was not taken: the field (or file column), the rule's stable id, and a message."""

    field: str
    rule: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "rule": self.rule, "message": self.message}


@dataclass(frozen=True)
class Outcome:
    """What happened to one submission (or, offline, what would happen)."""

    status: Status
    external_id: str | None = None
    event_id: str | None = None
    row: int | None = None
    proposal_id: str | None = None
    reference: str | None = None
    quarantine_id: str | None = None
    reasons: tuple[Reason, ...] = ()
    content_differs: bool = False


@dataclass(frozen=True)
class Arrival:
    """One submission as it came in, before validation."""

    region: str
    channel: str  # http, nats or file
    kind: Kind
    payload: Any  # a CloudEvent or a submission (JSON), a file row (column → text), or undecodable text
    source: str
    actor: str
    row_number: int | None = None

    def content_hash(self) -> str:
        return _hash({"kind": self.kind, "payload": self.payload})


@dataclass(frozen=True)
class Checked:
    submission: ProposalSubmissionV1 | None
    external_id: str | None
    event_id: str | None
    reasons: tuple[Reason, ...] = field(default=())


@dataclass(frozen=True)
class IngestionContext:
    """Where ingestion reads (the database's readers) and writes (one unit of work per step)."""

    database: Database
    new_uow: Callable[[], IntakeUnitOfWork]


def _hash(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def submission_hash(submission: ProposalSubmissionV1) -> str:
    return _hash(submission.model_dump(mode="json"))


# --- Validation: pure, no database, shared by every way in and by `kp intake validate` ---


def _pydantic_reasons(error: ValidationError, column_names: bool = False) -> list[Reason]:
    """One reason per broken rule, without echoing the values (they may be personal data)."""
    reasons = []
    for e in error.errors(include_input=False, include_url=False):
        loc = [str(part) for part in e["loc"]]
        if e["type"] == "municipality-or-unit":
            loc.append("municipality")
        path = ".".join(loc) or "<root>"
        if column_names:
            path = _COLUMN_OF.get(path, path)
        reasons.append(Reason(path, str(e["type"]), str(e["msg"])))
    return reasons


def _reference_reasons(submission: ProposalSubmissionV1, today: date, prefix: str, column_names: bool) -> list[Reason]:
    """The proposal's own rules that need no database (reference lists, consent); rounds are checked later."""
    _, problems = check_origin(submission.municipality, submission.unit, today)
    problems += check_classification(submission.service_area, submission.theme)
    decision = submission.decision
    problems += check_decision(decision.text if decision else "", decision.date if decision else None)
    problems += check_consent(submission.consent)
    return _problem_reasons(problems, prefix, column_names)


def _problem_reasons(problems: Sequence[FieldProblem], prefix: str = "", column_names: bool = False) -> list[Reason]:
    return [
        Reason(_COLUMN_OF.get(p.field, p.field) if column_names else f"{prefix}{p.field}", p.rule, p.message)
        for p in problems
    ]


def _mismatch(field_name: str, given: str | None, region: str) -> list[Reason]:
    if given is None or given == region:
        return []
    return [Reason(field_name, "region_mismatch", f"names region {given!r}, but the submission is for {region!r}")]


def check_event(raw: Any, region: str | None, today: date) -> Checked:
    """Validate a CloudEvent against the ingest contract and the channel's region (None: only self-consistency)."""
    if not isinstance(raw, dict):
        return Checked(None, None, None, (Reason("<event>", "model_type", "a CloudEvent must be a JSON object"),))
    data = raw.get("data")
    external_id = data.get("external_id") if isinstance(data, dict) else None
    event_id = raw.get("id")
    found = Checked(
        None, external_id if isinstance(external_id, str) and external_id else None,
        event_id if isinstance(event_id, str) else None,
    )
    try:
        event = ProposalSubmissionEventV1.model_validate(raw)
    except ValidationError as error:
        return Checked(None, found.external_id, found.event_id, tuple(_pydantic_reasons(error)))
    region = region or event.data.region
    reasons = [
        *_mismatch("source", event.source_region(), region),
        *_mismatch("region", event.region, region),
        *_mismatch("data.region", event.data.region, region),
        *_reference_reasons(event.data, today, "data.", False),
    ]
    return Checked(event.data if not reasons else None, event.data.external_id, event.id, tuple(reasons))


def check_submission(raw: Any, region: str | None, today: date, *, column_names: bool = False) -> Checked:
    """Validate a bare submission (a corrected payload, or a file row already shaped as one)."""
    if not isinstance(raw, dict):
        return Checked(None, None, None, (Reason("<submission>", "model_type", "a submission must be a JSON object"),))
    external_id = raw.get("external_id")
    external_id = external_id if isinstance(external_id, str) and external_id else None
    try:
        submission = ProposalSubmissionV1.model_validate(raw)
    except ValidationError as error:
        return Checked(None, external_id, None, tuple(_pydantic_reasons(error, column_names)))
    reasons = [
        *_mismatch("region", submission.region, region or submission.region),
        *_reference_reasons(submission, today, "", column_names),
    ]
    return Checked(submission if not reasons else None, submission.external_id, None, tuple(reasons))


def row_to_submission(row: Mapping[str, str], region: str | None) -> dict[str, Any]:
    """A file row in the submission's shape; empty cells are left out, so a required one reads as missing."""

    def cell(name: str) -> str | None:
        value = (row.get(name) or "").strip()
        return value or None

    def some(**values: str | None) -> dict[str, str]:
        return {k: v for k, v in values.items() if v is not None}

    submission: dict[str, Any] = some(
        external_id=cell("external_id"), region=cell("region") or region, round=cell("round"),
        municipality=cell("municipality"), unit=cell("unit"), department=cell("department"),
        service_area=cell("service_area"), theme=cell("theme"), title=cell("title"), background=cell("background"),
        language=cell("language"), submitted_at=cell("submitted_at"),
    )
    consent = cell("consent")
    if consent is not None:
        submission["consent"] = _CONSENT.get(consent.lower(), consent)
    submission["question"] = some(
        population=cell("population"), intervention=cell("intervention"), comparison=cell("comparison"),
        outcome=cell("outcome"),
    )
    submission["proposer"] = some(name=cell("proposer_name"), email=cell("proposer_email"))
    decision = some(text=cell("decision_text"), date=cell("decision_date"))
    if decision:
        submission["decision"] = decision
    return submission


def check(kind: Kind, payload: Any, region: str | None, today: date) -> Checked:
    """Validate one arrival of any kind."""
    if kind == "event":
        return check_event(payload, region, today)
    if kind == "submission":
        return check_submission(payload, region, today)
    if kind == "row":
        return check_submission(row_to_submission(payload, region), region, today, column_names=True)
    return Checked(None, None, None, (Reason("<body>", "json_invalid", "the message is not a JSON document"),))


def editable_submission(entry: QuarantineEntry) -> Any:
    """The entry's submission as the secretariat corrects it (PUT takes this shape, or a whole CloudEvent)."""
    if entry.kind == "event" and isinstance(entry.payload, dict):
        return entry.payload.get("data")
    if entry.kind == "row" and isinstance(entry.payload, dict):
        return row_to_submission(entry.payload, entry.region)
    if entry.kind == "submission":
        return entry.payload
    return None


# --- Files ---


def _cell_text(column: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if column == "decision_date" else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and column == "municipality":
        return f"{value:04d}"  # a spreadsheet drops the leading zero of 0301 Oslo
    return str(value).strip()


def _rows_from_table(table: list[list[Any]]) -> list[tuple[int, dict[str, str]]]:
    if not table:
        raise IngestFileUnreadable("the file is empty: the first row must name the columns")
    header = [str(h or "").strip().lower().lstrip("\ufeff") for h in table[0]]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if "municipality" not in header and "unit" not in header:
        missing.append("municipality or unit")
    if missing:
        raise IngestFileUnreadable(f"the header row lacks the columns: {', '.join(missing)}")
    known = [(i, name) for i, name in enumerate(header) if name in COLUMNS]
    rows = []
    for offset, values in enumerate(table[1:], start=2):
        if not any(str(v or "").strip() for v in values):
            continue  # blank lines are not submissions
        rows.append(
            (offset, {name: _cell_text(name, values[i] if i < len(values) else None) for i, name in known})
        )
    if len(rows) > MAX_ROWS:
        raise IngestFileUnreadable(f"the file has {len(rows)} rows; send at most {MAX_ROWS} at a time")
    return rows


def read_rows(filename: str, content: bytes) -> list[tuple[int, dict[str, str]]]:
    """A CSV (`;` or `,`, UTF-8 with or without BOM) or XLSX file's rows: (row number in the file, column → text)."""
    if filename.lower().endswith(".xlsx") or content[:4] == b"PK\x03\x04":
        return _rows_from_table(_xlsx_table(content))
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise IngestFileUnreadable("the file is not UTF-8 text (save the CSV as UTF-8)") from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    return _rows_from_table([list(r) for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)])


def _xlsx_table(content: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:
        raise IngestFileUnreadable("the file is not a readable XLSX workbook") from None
    try:
        sheet = workbook.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def parse_json_items(content: bytes) -> tuple[list[Any], bool]:
    """A JSON CloudEvent (or bare submission) or a batch (JSON array) of them; (items, is_batch)."""
    try:
        raw = json.loads(content)
    except ValueError:
        raise IngestBodyUnreadable("the body is not JSON") from None
    return (raw, True) if isinstance(raw, list) else ([raw], False)


def json_kind(item: Any) -> Kind:
    return "event" if not isinstance(item, dict) or "specversion" in item else "submission"


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


def _command(submission: ProposalSubmissionV1) -> use_cases.SubmitProposal:
    """The proposal use case's command; its Idempotency-Key makes (region, external id) taken at most once."""
    q, decision = submission.question, submission.decision
    return use_cases.SubmitProposal(
        region=submission.region, round_id=submission.round, municipality_number=submission.municipality,
        unit_code=submission.unit, department=submission.department, service_area=submission.service_area,
        theme=submission.theme, title=submission.title,
        question=EffectQuestion(q.population, q.intervention, q.comparison, q.outcome),
        background=submission.background, decision_text=decision.text if decision else "",
        decision_on=decision.date if decision else None, self_assessment=dict(submission.self_assessment),
        proposer=Proposer(submission.proposer.name, str(submission.proposer.email)), consent=submission.consent,
        language=submission.language, idempotency_key=f"ingest:{submission.region}:{submission.external_id}",
    )


async def ingest(arrival: Arrival, ctx: IngestionContext, *, now: datetime | None = None) -> Outcome:
    """Take one submission: a new proposal, the proposal it already became, or a quarantine entry with reasons."""
    now = now or datetime.now(UTC)
    checked = check(arrival.kind, arrival.payload, arrival.region, now.date())
    return await _take_with_retry(arrival, checked, ctx, now, None)


async def _take_with_retry(
    arrival: Arrival, checked: Checked, ctx: IngestionContext, now: datetime, entry: QuarantineEntry | None
) -> Outcome:
    for attempt in range(3):
        try:
            return await _take(arrival, checked, ctx, now, entry)
        except IntegrityError:
            # The same submission arrived twice at once (PostgreSQL): the loser looks again and finds the winner.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def _take(
    arrival: Arrival, checked: Checked, ctx: IngestionContext, now: datetime, entry: QuarantineEntry | None
) -> Outcome:
    region = arrival.region
    if checked.external_id:
        async with ctx.database.reader() as session:
            earlier = await IngestionRepository(session).accepted(region, checked.external_id)
        if earlier is not None:
            differs = checked.submission is None or submission_hash(checked.submission) != earlier.content_hash
            if entry is not None:
                await _resolve(ctx, entry.id, earlier.proposal_id, actor=arrival.actor, outcome="duplicate", now=now)
            return Outcome(
                "duplicate", checked.external_id, checked.event_id, arrival.row_number, earlier.proposal_id,
                earlier.reference, entry.id if entry else None, content_differs=differs,
            )
    if checked.reasons or checked.submission is None:
        return await _quarantine(arrival, checked, list(checked.reasons), ctx, now=now, entry=entry)
    submission = checked.submission
    differs = False
    try:
        result = await use_cases.submit_proposal(_command(submission), ctx.new_uow(), now=now)
        proposal_id, reference, created = result.id, result.reference, result.created
    except IdempotencyKeyReused:
        # Taken before with other content, and our record of it was lost (a crash between the two commits).
        proposal_id, reference = await _proposal_for_key(ctx, f"ingest:{region}:{submission.external_id}")
        created, differs = False, True
    except InvalidInput as error:
        prefix = "data." if arrival.kind == "event" else ""
        reasons = _problem_reasons(error.problems, prefix, column_names=arrival.kind == "row")
        return await _quarantine(arrival, checked, reasons, ctx, now=now, entry=entry)
    except DomainError as error:
        # The round is unknown, closed or not yet open: the secretariat can fix the round and replay.
        reason = Reason(error.field or "<submission>", error.code, error.detail)
        return await _quarantine(arrival, checked, [reason], ctx, now=now, entry=entry)
    async with ctx.new_uow() as uow:
        repo = IngestionRepository(uow.session)
        await repo.record_accepted(
            AcceptedSubmission(region, submission.external_id, proposal_id, reference, submission_hash(submission)),
            channel=arrival.channel, source=arrival.source, event_id=checked.event_id,
            external_submitted_at=submission.submitted_at, quarantine_id=entry.id if entry else None, now=now,
        )
        # Earlier failed attempts of the same submission are settled by this one; their history stays.
        settled = set(await repo.open_for_external_id(region, submission.external_id))
        if entry is not None:
            settled.add(entry.id)
        for entry_id in sorted(settled):
            await repo.resolve(entry_id, proposal_id, now)
            await repo.add_history(
                entry_id, action="replayed" if entry is not None and entry_id == entry.id else "superseded",
                actor=arrival.actor, outcome="accepted", proposal_id=proposal_id, now=now,
            )
        await uow.commit()
    log.info(
        "ingest.accepted", region=region, channel=arrival.channel, external_id=submission.external_id,
        proposal_id=proposal_id, created=created, quarantine_id=entry.id if entry else None,
    )
    return Outcome(
        "accepted" if created else "duplicate", submission.external_id, checked.event_id, arrival.row_number,
        proposal_id, reference, entry.id if entry else None, content_differs=differs,
    )


async def _proposal_for_key(ctx: IngestionContext, key: str) -> tuple[str, str]:
    async with ctx.database.reader() as session:
        proposals = ProposalRepository(session)
        found = await proposals.by_idempotency_key(key)
        assert found is not None, "an Idempotency-Key that was reused must be stored"
        proposal = await proposals.get(found[0])
    assert proposal is not None
    return proposal.id, proposal.reference


async def _resolve(
    ctx: IngestionContext, entry_id: str, proposal_id: str, *, actor: str, outcome: str, now: datetime
) -> None:
    async with ctx.new_uow() as uow:
        repo = IngestionRepository(uow.session)
        await repo.resolve(entry_id, proposal_id, now)
        await repo.add_history(
            entry_id, action="replayed", actor=actor, outcome=outcome, proposal_id=proposal_id, now=now
        )
        await uow.commit()


async def _quarantine(
    arrival: Arrival, checked: Checked, reasons: list[Reason], ctx: IngestionContext, *, now: datetime,
    entry: QuarantineEntry | None,
) -> Outcome:
    recorded = [r.as_dict() for r in reasons]
    region = arrival.region[:32]
    async with ctx.new_uow() as uow:
        repo = IngestionRepository(uow.session)
        if entry is not None:
            entry_id, action = entry.id, "replayed"
            await repo.set_reasons(entry_id, recorded, now)
        else:
            existing = await repo.by_content(region, arrival.content_hash())
            if existing is None:
                action = "quarantined"
                entry_id = await repo.add(
                    NewQuarantineEntry(
                        region=region, external_id=(checked.external_id or "")[:120] or None, channel=arrival.channel,
                        source=arrival.source, event_id=(checked.event_id or "")[:200] or None,
                        row_number=arrival.row_number, kind=arrival.kind, payload=arrival.payload,
                        content_hash=arrival.content_hash(), reasons=recorded,
                    ),
                    now,
                )
            else:
                entry_id, action = existing.id, "received_again"
                await repo.received_again(entry_id, now)
                if existing.status == RESOLVED and existing.proposal_id:
                    # This very content was corrected and taken before: it is that proposal, not a new problem.
                    await repo.add_history(
                        entry_id, action=action, actor=arrival.actor, outcome="duplicate",
                        proposal_id=existing.proposal_id, now=now,
                    )
                    await uow.commit()
                    return Outcome(
                        "duplicate", checked.external_id, checked.event_id, arrival.row_number, existing.proposal_id,
                        quarantine_id=entry_id,
                    )
                await repo.set_reasons(entry_id, recorded, now)
        await repo.add_history(
            entry_id, action=action, actor=arrival.actor, outcome="quarantined", reasons=recorded, now=now
        )
        await uow.commit()
    # Ids and rules only: the payload and the messages may carry personal data.
    log.warning(
        "ingest.quarantined", region=region, channel=arrival.channel, quarantine_id=entry_id,
        external_id=checked.external_id, row=arrival.row_number, rules=[f"{r.field}:{r.rule}" for r in reasons],
    )
    return Outcome(
        "quarantined", checked.external_id, checked.event_id, arrival.row_number, quarantine_id=entry_id,
        reasons=tuple(reasons),
    )


async def quarantine_failure(arrival: Arrival, reason: Reason, ctx: IngestionContext) -> Outcome:
    """Keep a submission that kept failing for a transient cause: the quarantine is its dead-letter store."""
    now = datetime.now(UTC)
    checked = check(arrival.kind, arrival.payload, arrival.region, now.date())
    return await _quarantine(arrival, checked, [reason], ctx, now=now, entry=None)


async def import_file(region: str, filename: str, content: bytes, actor: str, ctx: IngestionContext) -> list[Outcome]:
    """Take every row of a CSV or XLSX file; one outcome per row, in file order."""
    rows = read_rows(filename, content)
    return [
        await ingest(Arrival(region, "file", "row", row, filename[:200], actor, number), ctx) for number, row in rows
    ]


# --- The quarantine, for the region's secretariat ---


async def get_entry(region: str, entry_id: str, ctx: IngestionContext) -> QuarantineEntry:
    async with ctx.database.reader() as session:
        entry = await IngestionRepository(session).get(region, entry_id)
    if entry is None:
        raise QuarantineEntryNotFound(f"no quarantine entry {entry_id!r} in region {region!r}")
    return entry


async def correct_entry(
    region: str, entry_id: str, payload: Any, *, actor: str, ctx: IngestionContext, now: datetime | None = None
) -> tuple[QuarantineEntry, tuple[Reason, ...]]:
    """Store the secretariat's corrected submission (or whole CloudEvent) and say what is still wrong with it."""
    now = now or datetime.now(UTC)
    entry = await get_entry(region, entry_id, ctx)
    if entry.status != OPEN:
        raise QuarantineEntryResolved(f"quarantine entry {entry_id!r} is resolved: proposal {entry.proposal_id}")
    kind = json_kind(payload)
    checked = check(kind, payload, region, now.date())
    recorded = [r.as_dict() for r in checked.reasons]
    async with ctx.new_uow() as uow:
        repo = IngestionRepository(uow.session)
        await repo.correct(
            entry_id, kind=kind, payload=payload, external_id=(checked.external_id or "")[:120] or entry.external_id,
            reasons=recorded, now=now,
        )
        await repo.add_history(
            entry_id, action="corrected", actor=actor, outcome="valid" if not recorded else "invalid",
            reasons=recorded, replaced_payload=entry.payload, now=now,
        )
        await uow.commit()
    rules = [f"{r.field}:{r.rule}" for r in checked.reasons]
    log.info("ingest.corrected", region=region, quarantine_id=entry_id, rules=rules)
    return await get_entry(region, entry_id, ctx), checked.reasons


async def replay_entry(
    region: str, entry_id: str, actor: str, ctx: IngestionContext, now: datetime | None = None
) -> Outcome:
    """Validate an entry again and, if it passes, make its proposal and resolve the entry (keeping its history)."""
    now = now or datetime.now(UTC)
    entry = await get_entry(region, entry_id, ctx)
    if entry.status != OPEN:
        raise QuarantineEntryResolved(f"quarantine entry {entry_id!r} is resolved: proposal {entry.proposal_id}")
    arrival = Arrival(
        region, entry.channel, cast(Kind, entry.kind), entry.payload, entry.source, actor, entry.row_number
    )
    checked = check(arrival.kind, arrival.payload, region, now.date())
    return await _take_with_retry(arrival, checked, ctx, now, entry)
