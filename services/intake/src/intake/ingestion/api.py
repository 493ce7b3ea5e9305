"""HTTP ways in for other regions (CloudEvents with a region key, file uploads) and the secretariat's quarantine."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from intake.deps import ApiLanguageDep, ReaderDep, Region, UnitOfWorkDep
from intake.ingestion import service
from intake.ingestion.model import Arrival, IngestBodyUnreadable, Outcome, QuarantineEntry, QuarantineHistoryItem
from intake.ingestion.validation import editable_submission, parse_json_items
from shared.contracts.ingest import BATCH, STRUCTURED
from shared.errors import DomainError, Forbidden, PayloadTooLarge, Unauthorized
from shared.i18n import translate
from shared.web.access import AccessRule, Secretariat
from shared.web.problems import PROBLEM_BASE, PROBLEM_JSON

MAX_BODY_BYTES = 5_000_000
MAX_FILE_BYTES = 10_000_000
MAX_BATCH = 500
QUARANTINE_PAGE = 500

router = APIRouter(prefix="/api/intake/v1/ingest", tags=["ingest"])


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported-media-type"


class RegionKeyRule(AccessRule):
    """Another region's system: a bearer key per region, configured as its SHA-256 hex digest (KP_INTAKE_INGEST_KEYS)
    and compared in constant time, valid only for the path's `{region}`."""

    needs_session = False

    async def __call__(self, request: Request) -> str:
        header = request.headers.get("authorization", "")
        key = header[7:].strip() if header.lower().startswith("bearer ") else ""
        if not key:
            raise Unauthorized("a region key is required: Authorization: Bearer <key>")
        digest = hashlib.sha256(key.encode()).hexdigest()
        matched = None
        for configured_region, configured in request.app.state.runtime.settings.ingest_keys.items():
            # Every configured hash is compared, so the time taken says nothing about which one matched.
            if hmac.compare_digest(digest, configured):
                matched = configured_region
        if matched is None:
            raise Unauthorized("unknown region key")
        region = str(request.path_params.get("region", ""))
        if matched != region:
            raise Forbidden(f"this key is not valid for region {region}")
        return region

    def describe(self) -> str:
        return "region ingest key"


RegionKey = Annotated[str, Depends(RegionKeyRule())]
"""The region whose key the caller presented (the path's `{region}`)."""


class ReasonOut(BaseModel):
    field: str
    rule: str
    message: str


class OutcomeOut(BaseModel):
    """What happened to one submission: accepted (a new proposal), duplicate (the same proposal) or quarantined."""

    outcome: Literal["accepted", "duplicate", "quarantined"]
    external_id: str | None = None
    event_id: str | None = None
    row: int | None = None
    proposal_id: str | None = None
    reference: str | None = None
    quarantine_id: str | None = None
    reasons: list[ReasonOut] = []
    content_differs: bool = False


class BatchOut(BaseModel):
    results: list[OutcomeOut]
    accepted: int
    duplicate: int
    quarantined: int


class FileReportOut(BaseModel):
    file: str
    rows: list[OutcomeOut]
    accepted: int
    duplicate: int
    quarantined: int


class HistoryOut(BaseModel):
    at: datetime
    action: str
    actor: str
    outcome: str
    reasons: list[ReasonOut]
    proposal_id: str | None
    replaced_payload: Any = None


class QuarantineSummaryOut(BaseModel):
    """An entry without its payload (the proposer's name and e-mail stay in the detail view)."""

    id: str
    region: str
    external_id: str | None
    channel: str
    source: str
    event_id: str | None
    row: int | None
    kind: str
    status: Literal["open", "resolved"]
    reasons: list[ReasonOut]
    times_received: int
    received_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    proposal_id: str | None


class QuarantineEntryOut(QuarantineSummaryOut):
    payload: Any
    submission: Any = None
    history: list[HistoryOut] = []


def outcome_out(outcome: Outcome) -> OutcomeOut:
    assert outcome.status in ("accepted", "duplicate", "quarantined")
    return OutcomeOut(
        outcome=outcome.status, external_id=outcome.external_id, event_id=outcome.event_id, row=outcome.row,
        proposal_id=outcome.proposal_id, reference=outcome.reference, quarantine_id=outcome.quarantine_id,
        reasons=[ReasonOut(**r.as_dict()) for r in outcome.reasons], content_differs=outcome.content_differs,
    )


def _counts(outcomes: Sequence[Outcome]) -> dict[str, int]:
    return {status: sum(o.status == status for o in outcomes) for status in ("accepted", "duplicate", "quarantined")}


def _summary(entry: QuarantineEntry) -> dict[str, Any]:
    return {
        "id": entry.id, "region": entry.region, "external_id": entry.external_id, "channel": entry.channel,
        "source": entry.source, "event_id": entry.event_id, "row": entry.row_number, "kind": entry.kind,
        "status": entry.status, "reasons": entry.reasons, "times_received": entry.times_received,
        "received_at": entry.received_at, "updated_at": entry.updated_at, "resolved_at": entry.resolved_at,
        "proposal_id": entry.proposal_id,
    }


def _history(item: QuarantineHistoryItem) -> HistoryOut:
    return HistoryOut(
        at=item.at, action=item.action, actor=item.actor, outcome=item.outcome,
        reasons=[ReasonOut(**r) for r in item.reasons], proposal_id=item.proposal_id,
        replaced_payload=item.replaced_payload,
    )


def single_response(request: Request, outcome: Outcome, language: str) -> Response:
    """201 for a new proposal, 200 for the one it already became, 422 (problem details) when quarantined."""
    body = outcome_out(outcome)
    if outcome.status == "quarantined":
        problem = {
            "type": PROBLEM_BASE + "ingest-quarantined",
            "title": translate("problem.ingest-quarantined", language),
            "status": 422,
            "detail": "; ".join(f"{r.field}: {r.message}" for r in outcome.reasons),
            "instance": request.url.path,
            "errors": [r.as_dict() for r in outcome.reasons],
        }
        return JSONResponse(problem | body.model_dump(mode="json"), status_code=422, media_type=PROBLEM_JSON)
    headers = {"Location": f"/api/intake/v1/proposals/{outcome.proposal_id}"}
    status = 201 if outcome.status == "accepted" else 200
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


def _source(item: Any, region: str) -> str:
    source = item.get("source") if isinstance(item, dict) else None
    return source if isinstance(source, str) and source else f"/regions/{region}/http"


async def _items(request: Request) -> tuple[list[Any], bool]:
    """The body's CloudEvents, checked against its media type and the limits; (items, is_batch)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in (STRUCTURED, BATCH, "application/json"):
        raise UnsupportedMediaType(f"send {STRUCTURED} or {BATCH}, not {media_type or 'nothing'}")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body has {len(body)} bytes; send at most {MAX_BODY_BYTES}")
    items, is_batch = parse_json_items(body)
    if media_type == BATCH and not is_batch:
        raise IngestBodyUnreadable("a batch is a JSON array of CloudEvents")
    if media_type == STRUCTURED and is_batch:
        raise IngestBodyUnreadable(f"a JSON array is a batch: send it as {BATCH}")
    if len(items) > MAX_BATCH:
        raise PayloadTooLarge(f"the batch has {len(items)} events; send at most {MAX_BATCH}")
    return items, is_batch


@router.post(
    "/{region}/events",
    responses={201: {"model": OutcomeOut}, 200: {"model": OutcomeOut | BatchOut}, 422: {"model": OutcomeOut}},
)
async def ingest_events(
    *, request: Request, region: Region, key_region: RegionKey, uow: UnitOfWorkDep, reader: ReaderDep,
    language: ApiLanguageDep,
) -> Response:
    """Take one `kp.ingest.proposal.v1` CloudEvent or a batch, with the region's key; idempotent by external_id."""
    items, is_batch = await _items(request)
    outcomes = [
        await service.ingest(
            Arrival(region, "http", "event", item, _source(item, region), f"region:{key_region}"), uow, reader,
        )
        for item in items
    ]
    if not is_batch:
        return single_response(request, outcomes[0], language)
    batch = BatchOut(results=[outcome_out(o) for o in outcomes], **_counts(outcomes))
    return JSONResponse(batch.model_dump(mode="json"))


@router.post("/{region}/file", response_model=FileReportOut)
async def ingest_file(
    region: Region, principal: Secretariat, uow: UnitOfWorkDep, reader: ReaderDep, file: UploadFile = File(...),
) -> FileReportOut:
    """Take a CSV or XLSX file of submissions (the secretariat's upload); a report per row."""
    content = await file.read(MAX_FILE_BYTES + 1)
    if len(content) > MAX_FILE_BYTES:
        raise PayloadTooLarge(f"the file is larger than {MAX_FILE_BYTES} bytes; split it")
    name = file.filename or "upload.csv"
    command = service.ImportFile(region, name, content, f"secretariat:{principal.subject}")
    outcomes = await service.import_file(command, uow, reader)
    return FileReportOut(file=name, rows=[outcome_out(o) for o in outcomes], **_counts(outcomes))


@router.get("/{region}/quarantine", response_model=list[QuarantineSummaryOut])
async def list_quarantine(
    *, region: Region,
    principal: Secretariat,
    reader: ReaderDep,
    status: Literal["open", "resolved", "all"] = Query("open"),
    page: Annotated[int, Query(ge=1, description="Which page of `size` entries, newest first")] = 1,
    size: Annotated[int, Query(ge=1, le=QUARANTINE_PAGE)] = QUARANTINE_PAGE,
) -> list[QuarantineSummaryOut]:
    """The region's quarantined submissions, newest first: open ones unless asked otherwise."""
    found = await service.quarantine(region, None if status == "all" else status, reader, page=page, size=size)
    return [QuarantineSummaryOut(**_summary(e)) for e in found.entries]


async def _detail(region: str, entry_id: str, reader: ReaderDep) -> QuarantineEntryOut:
    found = await service.entry_detail(region, entry_id, reader)
    return QuarantineEntryOut(
        **_summary(found.entry), payload=found.entry.payload, submission=editable_submission(found.entry),
        history=[_history(h) for h in found.history],
    )


@router.get("/{region}/quarantine/{entry_id}", response_model=QuarantineEntryOut)
async def get_quarantine_entry(
    region: Region, entry_id: str, principal: Secretariat, reader: ReaderDep,
) -> QuarantineEntryOut:
    """One entry with its payload (personal data: the region's secretariat only) and its history."""
    return await _detail(region, entry_id, reader)


@router.put("/{region}/quarantine/{entry_id}", response_model=QuarantineEntryOut)
async def correct_quarantine_entry(
    *, region: Region,
    entry_id: str,
    principal: Secretariat,
    uow: UnitOfWorkDep,
    reader: ReaderDep,
    payload: dict[str, Any] = Body(..., description="The corrected submission, or a whole CloudEvent"),
) -> QuarantineEntryOut:
    """Store a corrected payload; `reasons` says what is still wrong. Replay it to make the proposal."""
    command = service.CorrectEntry(region, entry_id, payload, f"secretariat:{principal.subject}")
    await service.correct_entry(command, uow, reader)
    return await _detail(region, entry_id, reader)


@router.post(
    "/{region}/quarantine/{entry_id}/replay",
    responses={201: {"model": OutcomeOut}, 200: {"model": OutcomeOut}, 422: {"model": OutcomeOut}},
)
async def replay_quarantine_entry(
    *, request: Request, region: Region, entry_id: str, principal: Secretariat, uow: UnitOfWorkDep, reader: ReaderDep,
    language: ApiLanguageDep,
) -> Response:
    """Validate the entry again; on success make the proposal and resolve the entry, keeping its history."""
    command = service.ReplayEntry(region, entry_id, f"secretariat:{principal.subject}")
    return single_response(request, await service.replay_entry(command, uow, reader), language)
