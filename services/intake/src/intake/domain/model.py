"""Intake's domain: rounds, proposals and their references. Plain Python, no frameworks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from shared.web.problems import Conflict, DomainError, NotFound


class RoundStatus(StrEnum):
    PLANNED = "planned"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class Round:
    id: str
    region: str
    name: str
    opens_at: datetime
    closes_at: datetime
    default_language: str = "nb"

    def status_at(self, now: datetime) -> RoundStatus:
        """A round is open inside its proposal window; it opens and closes by the clock."""
        if now < self.opens_at:
            return RoundStatus.PLANNED
        if now >= self.closes_at:
            return RoundStatus.CLOSED
        return RoundStatus.OPEN


@dataclass(frozen=True)
class EffectQuestion:
    population: str
    intervention: str
    comparison: str
    outcome: str


@dataclass(frozen=True)
class Proposer:
    """Personal data: stored by intake, sent only on the contacts stream, never in a domain event."""

    name: str
    email: str


@dataclass
class Proposal:
    id: str
    reference: str
    region: str
    round_id: str
    municipality_number: str
    title: str
    question: EffectQuestion
    background: str
    language: str
    submitted_at: datetime
    status: str = "submitted"
    proposer: Proposer | None = field(default=None, repr=False)


def format_reference(region: str, year: int, number: int) -> str:
    """A stable public reference: region code, year of submission and a sequence, like VEST-2026-0001."""
    return f"{region.upper()}-{year}-{number:04d}"


class RoundNotFound(NotFound):
    code = "round-not-found"
    field = "round"


class RoundClosed(Conflict):
    code = "round-closed"
    field = "round"


class ProposalNotFound(NotFound):
    code = "proposal-not-found"


class UnknownMunicipality(DomainError):
    status = 422
    code = "unknown-municipality"
    field = "municipality"


class IdempotencyKeyReused(Conflict):
    code = "idempotency-key-reused"
