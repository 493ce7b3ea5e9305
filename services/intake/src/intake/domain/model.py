"""Intake's domain: rounds, proposals, their states and references, and the rules they obey. Plain Python."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from intake.domain.reference import (
    criteria_set,
    label,
    municipality_valid_on,
    service_areas,
    themes,
    unit_valid_on,
)
from shared.web.problems import Conflict, DomainError, NotFound

ROUND_LANGUAGES = ("nb", "nn")
DEFAULT_TIME_ZONE = "Europe/Oslo"


class RoundStatus(StrEnum):
    PLANNED = "planned"
    OPEN = "open"
    CLOSED = "closed"


class ProposalState(StrEnum):
    """A proposal's state. The codes are stable identifiers for other services and open data; labels vary."""

    SUBMITTED = "submitted"
    NEEDS_COMPLETION = "needs_completion"
    NEEDS_REFORMULATION = "needs_reformulation"
    ACCEPTED = "accepted"
    ANSWERED_BY_EXISTING = "answered_by_existing"
    REJECTED = "rejected"
    MERGED = "merged"
    CARRIED_OVER = "carried_over"


_STATE_LABELS: dict[str, dict[str, str]] = {
    ProposalState.SUBMITTED: {"nb": "Mottatt", "nn": "Motteke", "en": "Submitted"},
    ProposalState.NEEDS_COMPLETION: {
        "nb": "Mangler opplysninger", "nn": "Manglar opplysningar", "en": "Needs completion",
    },
    ProposalState.NEEDS_REFORMULATION: {
        "nb": "Må omformuleres", "nn": "Må omformulerast", "en": "Needs reformulation",
    },
    ProposalState.ACCEPTED: {
        "nb": "Egnet, går videre til vurdering", "nn": "Eigna, går vidare til vurdering",
        "en": "Accepted for scoring",
    },
    ProposalState.ANSWERED_BY_EXISTING: {
        "nb": "Besvart med eksisterende kunnskap", "nn": "Svart ut med eksisterande kunnskap",
        "en": "Answered by existing knowledge",
    },
    ProposalState.REJECTED: {"nb": "Avslått", "nn": "Avslått", "en": "Rejected"},
    ProposalState.MERGED: {"nb": "Slått sammen med et annet forslag", "nn": "Slått saman med eit anna forslag",
                           "en": "Merged into another proposal"},
    ProposalState.CARRIED_OVER: {
        "nb": "Overført til neste runde", "nn": "Overført til neste runde", "en": "Carried over to the next round",
    },
}

_ROUND_STATUS_LABELS: dict[str, dict[str, str]] = {
    RoundStatus.PLANNED: {"nb": "Planlagt", "nn": "Planlagd", "en": "Planned"},
    RoundStatus.OPEN: {"nb": "Åpen", "nn": "Open", "en": "Open"},
    RoundStatus.CLOSED: {"nb": "Stengt", "nn": "Stengd", "en": "Closed"},
}


def state_label(state: str, language: str) -> str:
    """The proposal state's label in nb, nn or en; an unknown code is shown as itself."""
    labels = _STATE_LABELS.get(state)
    return label(labels, language) if labels else state


def round_status_label(status: str, language: str) -> str:
    """The round status's label in nb, nn or en."""
    labels = _ROUND_STATUS_LABELS.get(status)
    return label(labels, language) if labels else status


# --- Errors --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldProblem:
    """One broken rule: the field as the API and form name it, the rule's stable code, an English message."""

    field: str
    rule: str
    message: str
    # `dataclasses.field`: the attribute named `field` above hides the plain name inside this class body.
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)


class InvalidInput(DomainError):
    """Every broken rule of a command at once, so a form can show one error summary."""

    status = 422
    code = "validation"

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__(
            "; ".join(f"{p.field}: {p.message}" for p in problems),
            errors=[{"field": p.field, "rule": p.rule, "message": p.message} for p in problems],
        )
        self.problems = tuple(problems)


def raise_problems(problems: list[FieldProblem]) -> None:
    if problems:
        raise InvalidInput(problems)


class RoundNotFound(NotFound):
    code = "round-not-found"
    field = "round"


class RoundClosed(Conflict):
    code = "round-closed"
    field = "round"


class RoundExists(Conflict):
    code = "round-exists"
    field = "id"


class ProposalNotFound(NotFound):
    code = "proposal-not-found"


class IdempotencyKeyReused(Conflict):
    code = "idempotency-key-reused"


# --- Rounds --------------------------------------------------------------------------------------------------------


def zone_or_none(name: str) -> ZoneInfo | None:
    """The IANA time zone, or None when there is no such zone."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def in_zone(value: datetime, zone_name: str) -> datetime:
    """A timestamp in UTC; one without an offset is read as wall-clock time in the round's zone."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone_or_none(zone_name) or UTC)
    return value.astimezone(UTC)


@dataclass(frozen=True)
class Round:
    id: str
    region: str
    name: str
    opens_at: datetime
    closes_at: datetime
    default_language: str = "nb"
    # The window is stored in UTC and shown in this zone; meeting dates are calendar days in it.
    time_zone: str = DEFAULT_TIME_ZONE
    committee_meeting_on: date | None = None
    decision_on: date | None = None
    final_report_on: date | None = None
    criteria_set: str | None = None
    capacity_note: str = ""
    opened_announced_at: datetime | None = None
    closed_announced_at: datetime | None = None

    def status_at(self, now: datetime) -> RoundStatus:
        """A round is open inside its proposal window; it opens and closes by the clock."""
        if now < self.opens_at:
            return RoundStatus.PLANNED
        if now >= self.closes_at:
            return RoundStatus.CLOSED
        return RoundStatus.OPEN

    def zone(self) -> ZoneInfo:
        return zone_or_none(self.time_zone) or ZoneInfo("UTC")

    def close_date(self) -> date:
        """The calendar day the window closes on, in the round's own zone."""
        return self.closes_at.astimezone(self.zone()).date()

    def problems(self) -> list[FieldProblem]:
        """Every rule the round breaks (empty when it is valid)."""
        found: list[FieldProblem] = []
        if self.closes_at <= self.opens_at:
            found.append(FieldProblem("closes_at", "closes-before-opens", "the round must close after it opens"))
        if zone_or_none(self.time_zone) is None:
            found.append(FieldProblem(
                "time_zone", "unknown-time-zone", f"{self.time_zone!r} is not an IANA time zone such as Europe/Oslo",
            ))
        if self.default_language not in ROUND_LANGUAGES:
            found.append(FieldProblem("default_language", "unknown-language", "the language must be nb or nn"))
        if self.criteria_set is not None and criteria_set(self.criteria_set) is None:
            found.append(FieldProblem(
                "criteria_set", "unknown-criteria-set", f"there is no criteria set {self.criteria_set!r}",
            ))
        # Each milestone is on or after the one before it: close → committee → decision → final report.
        previous_field, previous = "closes_at", self.close_date()
        for name, day in (
            ("committee_meeting_on", self.committee_meeting_on),
            ("decision_on", self.decision_on),
            ("final_report_on", self.final_report_on),
        ):
            if day is None:
                continue
            if day < previous:
                found.append(FieldProblem(
                    name, "date-before-previous-milestone", f"must be on or after {previous_field} ({previous})",
                    {"previous": previous_field, "date": previous.isoformat()},
                ))
            else:
                previous_field, previous = name, day
        return found

    def validate(self) -> None:
        """Raise InvalidInput naming every broken rule."""
        raise_problems(self.problems())

    def ensure_open(self, now: datetime) -> None:
        """Refuse a proposal outside the window, telling the proposer when the window is."""
        status = self.status_at(now)
        if status is RoundStatus.OPEN:
            return
        window = f"{self.opens_at.isoformat()} – {self.closes_at.isoformat()}"
        verb = "has not opened yet" if status is RoundStatus.PLANNED else "is closed"
        raise RoundClosed(
            f"round {self.id!r} {verb}: proposals are accepted {window}",
            opens_at=self.opens_at.isoformat(), closes_at=self.closes_at.isoformat(),
        )


# --- Proposals -----------------------------------------------------------------------------------------------------


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
