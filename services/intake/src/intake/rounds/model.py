"""Rounds: a region's proposal window in its own time zone, its milestones and their rules. Plain Python."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from intake.reference.model import criteria_set
from shared.errors import Conflict, FieldProblem, NotFound, raise_problems

ROUND_LANGUAGES = ("nb", "nn")
DEFAULT_TIME_ZONE = "Europe/Oslo"


class RoundStatus(StrEnum):
    """A round's status; the codes are the contracts' (`round.status.<code>` labels them)."""

    PLANNED = "planned"
    OPEN = "open"
    CLOSED = "closed"


class RoundNotFound(NotFound):
    code = "round-not-found"
    field = "round"


class RoundClosed(Conflict):
    code = "round-closed"
    field = "round"


class RoundExists(Conflict):
    code = "round-exists"
    field = "id"


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
        return found + self._milestone_problems()

    def _milestone_problems(self) -> list[FieldProblem]:
        """Each milestone is on or after the one before it: close → committee → decision → final report."""
        found: list[FieldProblem] = []
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
