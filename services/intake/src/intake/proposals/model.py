"""Proposals: their states, references and the rules a submission obeys. Plain Python."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from intake.reference.model import criteria_set, municipality_valid_on, service_areas, themes, unit_valid_on
from intake.rounds.model import Round
from shared.errors import Conflict, FieldProblem, NotFound


class ProposalState(StrEnum):
    """A proposal's state. The codes are stable identifiers for other services and open data; the contracts'
    catalogue labels them (`proposal.state.<code>`)."""

    SUBMITTED = "submitted"
    NEEDS_COMPLETION = "needs_completion"
    NEEDS_REFORMULATION = "needs_reformulation"
    ACCEPTED = "accepted"
    ANSWERED_BY_EXISTING = "answered_by_existing"
    REJECTED = "rejected"
    MERGED = "merged"
    CARRIED_OVER = "carried_over"


class ProposalNotFound(NotFound):
    code = "proposal-not-found"


class IdempotencyKeyReused(Conflict):
    code = "idempotency-key-reused"


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


@dataclass(frozen=True)
class Origin:
    """Who proposes: a municipality or a non-municipal unit; `event_municipality` is what v1 events carry."""

    municipality_number: str | None
    unit_code: str | None
    event_municipality: str


@dataclass
class Proposal:
    id: str
    reference: str
    region: str
    round_id: str
    municipality_number: str | None
    title: str
    question: EffectQuestion
    background: str
    language: str
    submitted_at: datetime
    status: str = ProposalState.SUBMITTED
    proposer: Proposer | None = field(default=None, repr=False)
    unit_code: str | None = None
    department: str = ""
    service_area: str | None = None
    theme: str | None = None
    decision_text: str = ""
    decision_on: date | None = None
    self_assessment: dict[str, int] = field(default_factory=dict)
    consent_at: datetime | None = None


@dataclass(frozen=True)
class HistoryEntry:
    """One public step in a proposal's life; `related_reference` names the proposal it was merged with."""

    at: datetime
    event: str
    status: str
    note: str = ""
    related_reference: str | None = None


@dataclass(frozen=True)
class SimilarityCandidate:
    """The public part of a proposal that similarity ranking reads."""

    reference: str
    round_id: str
    title: str
    status: str
    submitted_at: datetime
    text: str


def format_reference(region: str, year: int, number: int) -> str:
    """A stable public reference: region code, year of submission and a sequence, like VEST-2026-0001."""
    return f"{region.upper()}-{year}-{number:04d}"


def check_origin(
    municipality_number: str | None, unit_code: str | None, day: date
) -> tuple[Origin | None, list[FieldProblem]]:
    """Exactly one of municipality and unit, valid on `day` (numbers changed with the 2020 mergers)."""
    if bool(municipality_number) == bool(unit_code):
        return None, [FieldProblem(
            "municipality", "municipality-or-unit", "give either a municipality number or a unit, not both or neither",
        )]
    if municipality_number:
        if municipality_valid_on(municipality_number, day) is None:
            return None, [FieldProblem(
                "municipality", "unknown-municipality",
                f"{municipality_number!r} is not a valid municipality number on {day.isoformat()}",
                {"number": municipality_number, "date": day.isoformat()},
            )]
        return Origin(municipality_number, None, municipality_number), []
    assert unit_code is not None
    unit = unit_valid_on(unit_code, day)
    if unit is None:
        return None, [FieldProblem(
            "unit", "unknown-unit", f"{unit_code!r} is not a known unit on {day.isoformat()}",
            {"code": unit_code, "date": day.isoformat()},
        )]
    return Origin(None, unit.code, unit.host_municipality), []


def check_classification(service_area: str | None, theme: str | None) -> list[FieldProblem]:
    """Service area and theme are optional, but when given they are codes from the reference lists."""
    found = []
    if service_area is not None and service_area not in service_areas():
        found.append(FieldProblem("service_area", "unknown-service-area", f"{service_area!r} is not a service area"))
    if theme is not None and theme not in themes():
        found.append(FieldProblem("theme", "unknown-theme", f"{theme!r} is not a theme"))
    return found


def check_self_assessment(round_: Round, assessment: Mapping[str, int]) -> list[FieldProblem]:
    """The proposer's own scores: only the round's criteria, each on the set's scale (1..5)."""
    found = []
    criteria = criteria_set(round_.criteria_set)
    for code, value in assessment.items():
        name = f"self_assessment.{code}"
        if criteria is None or code not in criteria.codes():
            found.append(FieldProblem(name, "unknown-criterion", f"{code!r} is not a criterion of this round"))
        elif not criteria.minimum <= value <= criteria.maximum:
            found.append(FieldProblem(
                name, "score-out-of-range", f"must be from {criteria.minimum} to {criteria.maximum}",
                {"min": criteria.minimum, "max": criteria.maximum},
            ))
    return found


def check_decision(text: str, on: date | None) -> list[FieldProblem]:
    """A decision the question is tied to: its date is optional, but a date without a decision says nothing."""
    if on is not None and not text.strip():
        return [FieldProblem("decision.text", "decision-text-required", "describe the decision the date belongs to")]
    return []


def check_consent(consent: bool) -> list[FieldProblem]:
    if not consent:
        return [FieldProblem("consent", "consent-required", "consent to store the proposal is required")]
    return []
