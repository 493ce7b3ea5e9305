"""The rounds' queries, behind the port the use cases know."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from intake.rounds.model import Round
from intake.tables import proposals, rounds
from shared.db import UtcDateTime, dialect_insert


class Rounds(Protocol):
    """What the use cases need of the rounds' store."""

    async def get(self, round_id: str) -> Round | None: ...

    async def for_region(self, region: str) -> list[Round]: ...

    async def open_at(self, now: datetime) -> list[Round]: ...

    async def add(self, round_: Round) -> None: ...

    async def update(self, round_: Round) -> None: ...

    async def save(self, round_: Round) -> None: ...

    async def due_openings(self, now: datetime) -> list[Round]: ...

    async def due_closings(self, now: datetime) -> list[Round]: ...

    async def claim_opened(self, round_id: str, now: datetime) -> bool: ...

    async def claim_closed(self, round_id: str, now: datetime) -> bool: ...

    async def proposal_count(self, round_id: str) -> int: ...

    async def next_after(self, region: str, opens_at: datetime) -> str | None: ...


# The submission path reads a round by id on every proposal: the statement is built once, with a parameter.
_ROUND_BY_ID = select(rounds).where(rounds.c.id == bindparam("round_id"))
# The announcement is claimed by the UPDATE itself: of two replicas running the clock, only the one whose
# UPDATE changed the row publishes (PostgreSQL re-checks the WHERE after the other's commit).
_CLAIM_OPENED = (
    update(rounds)
    .where(rounds.c.id == bindparam("round_id"), rounds.c.opened_announced_at.is_(None))
    .values(opened_announced_at=bindparam("now", type_=UtcDateTime()))
)
_CLAIM_CLOSED = (
    update(rounds)
    .where(rounds.c.id == bindparam("round_id"), rounds.c.closed_announced_at.is_(None))
    .values(closed_announced_at=bindparam("now", type_=UtcDateTime()))
)

# What the secretariat edits; the announcement columns belong to the clock.
_ROUND_FIELDS = (
    "region", "name", "opens_at", "closes_at", "default_language", "time_zone", "committee_meeting_on", "decision_on",
    "final_report_on", "criteria_set", "capacity_note",
)


def _round(row: Any) -> Round:
    return Round(
        id=row.id, region=row.region, name=row.name, opens_at=row.opens_at, closes_at=row.closes_at,
        default_language=row.default_language, time_zone=row.time_zone,
        committee_meeting_on=row.committee_meeting_on, decision_on=row.decision_on,
        final_report_on=row.final_report_on, criteria_set=row.criteria_set, capacity_note=row.capacity_note,
        opened_announced_at=row.opened_announced_at, closed_announced_at=row.closed_announced_at,
    )


def _round_values(round_: Round) -> dict[str, Any]:
    return {name: getattr(round_, name) for name in _ROUND_FIELDS}


class RoundRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, round_id: str) -> Round | None:
        row = (await self.session.execute(_ROUND_BY_ID, {"round_id": round_id})).first()
        return _round(row) if row else None

    async def for_region(self, region: str) -> list[Round]:
        result = await self.session.execute(select(rounds).where(rounds.c.region == region).order_by(rounds.c.opens_at))
        return [_round(row) for row in result]

    async def open_at(self, now: datetime) -> list[Round]:
        """Every region's rounds whose proposal window is open at `now`, by region and closing time."""
        result = await self.session.execute(
            select(rounds).where(rounds.c.opens_at <= now, rounds.c.closes_at > now)
            .order_by(rounds.c.region, rounds.c.closes_at)
        )
        return [_round(row) for row in result]

    async def add(self, round_: Round) -> None:
        await self.session.execute(
            insert(rounds).values(
                id=round_.id, **_round_values(round_), opened_announced_at=round_.opened_announced_at,
                closed_announced_at=round_.closed_announced_at,
            )
        )

    async def update(self, round_: Round) -> None:
        """Store the secretariat's fields and the announcement marks as the round now has them."""
        await self.session.execute(
            update(rounds).where(rounds.c.id == round_.id).values(
                **_round_values(round_), opened_announced_at=round_.opened_announced_at,
                closed_announced_at=round_.closed_announced_at,
            )
        )

    async def save(self, round_: Round) -> None:
        """Create or overwrite the round's own fields (the demo seed); the clock's marks are left alone."""
        values = {"id": round_.id, **_round_values(round_)}
        statement = dialect_insert(self.session)(rounds).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=["id"], set_={k: statement.excluded[k] for k in values if k != "id"}
        )
        await self.session.execute(statement)

    async def due_openings(self, now: datetime) -> list[Round]:
        """Rounds whose window has opened but whose opening was not announced yet, oldest first."""
        query = (
            select(rounds)
            .where(rounds.c.opened_announced_at.is_(None), rounds.c.opens_at <= now)
            .order_by(rounds.c.opens_at, rounds.c.id)
        )
        return [_round(row) for row in await self.session.execute(query)]

    async def due_closings(self, now: datetime) -> list[Round]:
        """Rounds whose window has closed but whose closing was not announced yet, oldest first."""
        query = (
            select(rounds)
            .where(rounds.c.closed_announced_at.is_(None), rounds.c.closes_at <= now)
            .order_by(rounds.c.closes_at, rounds.c.id)
        )
        return [_round(row) for row in await self.session.execute(query)]

    async def claim_opened(self, round_id: str, now: datetime) -> bool:
        """Mark the opening announced; False when someone else already did."""
        result = await self.session.execute(_CLAIM_OPENED, {"round_id": round_id, "now": now})
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def claim_closed(self, round_id: str, now: datetime) -> bool:
        """Mark the closing announced; False when someone else already did."""
        result = await self.session.execute(_CLAIM_CLOSED, {"round_id": round_id, "now": now})
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def proposal_count(self, round_id: str) -> int:
        """How many proposals the round holds now (round.closed carries it)."""
        query = select(func.count()).select_from(proposals).where(proposals.c.round_id == round_id)
        return int((await self.session.execute(query)).scalar_one())

    async def next_after(self, region: str, opens_at: datetime) -> str | None:
        """The region's first round that opens after the given time (the "next round")."""
        query = (
            select(rounds.c.id).where(rounds.c.region == region, rounds.c.opens_at > opens_at)
            .order_by(rounds.c.opens_at, rounds.c.id).limit(1)
        )
        return (await self.session.execute(query)).scalar_one_or_none()
