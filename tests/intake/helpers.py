"""Intake's test data and helpers: a valid proposal body, the seeded rounds, outbox and unit-of-work access."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select

from intake.rounds.model import Round
from intake.tables import inbox, outbox
from intake.uow import IntakeUnitOfWork

NOW = datetime.now(UTC)

# Both backends for tests of the autumn-2019 round (the `database_url` fixture); PostgreSQL only where the live
# tests run.
BACKENDS = pytest.mark.parametrize(
    "database_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.live)], indirect=True
)

PROPOSAL: dict[str, Any] = {
    "region": "vest",
    "round": "open-round",
    "municipality": "4601",
    "title": "Miljøterapeutiske tiltak mot uro ved demens",
    "question": {
        "population": "Pasientar med demens i sjukeheim",
        "intervention": "Sansehage, musikkterapi og lysterapi",
        "comparison": "Medikamentell behandling",
        "outcome": "Mindre uro og agitasjon",
    },
    "background": "Fleire sjukeheimar vurderer sansehage.",
    "consent": True,
    "proposer": {"name": "Kari Nordmann", "email": "kari.nordmann@example.no"},
    "language": "nn",
}


def proposal(**changes: Any) -> dict[str, Any]:
    """A valid proposal body with some fields changed (a deep copy: tests may change nested parts)."""
    return copy.deepcopy(PROPOSAL) | changes


def seeded_rounds() -> tuple[Round, ...]:
    return (
        Round("open-round", "vest", "Open", NOW - timedelta(days=10), NOW + timedelta(days=10),
              criteria_set="prioritering"),
        Round("closed-round", "vest", "Closed", NOW - timedelta(days=30), NOW - timedelta(days=1)),
        Round("planned-round", "vest", "Planned", NOW + timedelta(days=5), NOW + timedelta(days=30)),
    )


def uow_for(client: AsyncClient) -> IntakeUnitOfWork:
    """A unit of work on the client's app database, without the relay's wake-up (tests read the outbox)."""
    return IntakeUnitOfWork(client.app.state.runtime.database, outbox, inbox)  # type: ignore[attr-defined]


async def outbox_rows(client: AsyncClient) -> list[Any]:
    async with client.app.state.runtime.database.reader() as session:  # type: ignore[attr-defined]
        return list((await session.execute(select(outbox).order_by(outbox.c.id))).mappings().all())
