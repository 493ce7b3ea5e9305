"""The rounds' use cases: each takes a command and a unit of work (or a reader for queries), and commits once."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Protocol

import uuid_utils

from intake.rounds.model import DEFAULT_TIME_ZONE, Round, RoundExists, RoundNotFound, RoundStatus, in_zone
from intake.rounds.repository import Rounds
from shared.contracts import events
from shared.contracts.subjects import ROUND_CLOSED, ROUND_OPENED
from shared.messaging.ports import ReadOnly, Transaction

DEFAULT_CRITERIA_SET = "prioritering"


# Repositories are read-only properties in the ports: a property is covariant, so the SQLAlchemy repository
# and an in-memory fake both satisfy `Rounds` where a plain attribute would have to match exactly.
class RoundsUnitOfWork(Transaction, Protocol):
    @property
    def rounds(self) -> Rounds: ...


class RoundsReader(ReadOnly, Protocol):
    @property
    def rounds(self) -> Rounds: ...


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


async def create_round(command: CreateRound, uow: RoundsUnitOfWork, now: datetime | None = None) -> Round:
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


async def update_round(command: UpdateRound, uow: RoundsUnitOfWork, now: datetime | None = None) -> Round:
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


async def save_round(round_: Round, uow: RoundsUnitOfWork) -> None:
    """Create or overwrite a round as given, after checking its rules (the demo seed and tests use it)."""
    round_.validate()
    async with uow:
        await uow.rounds.save(round_)
        await uow.commit()


@dataclass(frozen=True)
class Announcements:
    opened: tuple[str, ...]
    closed: tuple[str, ...]


async def announce_round_changes(now: datetime, uow: RoundsUnitOfWork) -> Announcements:
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
                    proposal_count=await uow.rounds.proposal_count(round_.id),
                ),
            )
            closed.append(round_.id)
        if changed:
            await uow.commit()
    return Announcements(tuple(opened), tuple(closed))


async def list_rounds(
    region: str, reader: RoundsReader, status: RoundStatus | None = None, now: datetime | None = None
) -> list[Round]:
    """The region's rounds by opening time, optionally only those with `status` at `now`."""
    now = now or datetime.now(UTC)
    async with reader:
        found = await reader.rounds.for_region(region)
    return [r for r in found if status is None or r.status_at(now) is status]


async def open_rounds(reader: RoundsReader, now: datetime | None = None) -> list[Round]:
    """Every region's open rounds: what the start page offers to propose to."""
    async with reader:
        return await reader.rounds.open_at(now or datetime.now(UTC))


async def get_round(round_id: str, reader: RoundsReader) -> Round:
    """One round, or RoundNotFound."""
    async with reader:
        round_ = await reader.rounds.get(round_id)
    if round_ is None:
        raise RoundNotFound(f"round {round_id!r} does not exist")
    return round_


async def round_in_region(round_id: str, region: str, reader: RoundsReader) -> Round | None:
    """The round, if it exists and belongs to `region` (a page's URL names both)."""
    async with reader:
        round_ = await reader.rounds.get(round_id)
    return round_ if round_ is not None and round_.region == region else None
