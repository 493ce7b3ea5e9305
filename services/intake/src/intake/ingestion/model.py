"""Ingestion's domain: what arrived, what became of it, and the quarantine's entries. Plain Python.

A submission is taken at most once per (region, external id). What fails validation or the service's rules goes
to the quarantine with reasons naming the field and the rule; the region's secretariat corrects and replays it
there. Quarantined payloads hold personal data: logs get ids and rules, never payloads.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from shared.errors import Conflict, DomainError, NotFound

Kind = Literal["event", "row", "submission", "text"]
Status = Literal["accepted", "duplicate", "quarantined", "valid", "invalid"]

OPEN = "open"
RESOLVED = "resolved"
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


def content_hash(value: Any) -> str:
    """The SHA-256 of a JSON value's canonical form: the same content, however it was spaced or ordered."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


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
        return content_hash({"kind": self.kind, "payload": self.payload})


@dataclass(frozen=True)
class AcceptedSubmission:
    region: str
    external_id: str
    proposal_id: str
    reference: str
    content_hash: str


@dataclass(frozen=True)
class QuarantineEntry:
    """A submission that could not be taken. `payload` is personal data: show it only to the region's secretariat."""

    id: str
    region: str
    external_id: str | None
    channel: str
    source: str
    event_id: str | None
    row_number: int | None
    kind: str
    payload: Any
    reasons: list[dict[str, str]]
    status: str
    times_received: int
    received_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    proposal_id: str | None


@dataclass(frozen=True)
class QuarantineHistoryItem:
    at: datetime
    action: str
    actor: str
    outcome: str
    reasons: list[dict[str, str]]
    proposal_id: str | None
    replaced_payload: Any = None


@dataclass(frozen=True)
class NewQuarantineEntry:
    region: str
    external_id: str | None
    channel: str
    source: str
    event_id: str | None
    row_number: int | None
    kind: str
    payload: Any
    content_hash: str
    reasons: list[dict[str, str]] = field(default_factory=list)
