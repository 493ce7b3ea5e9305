"""The round clock on several replicas sharing PostgreSQL: each opening and closing is announced once.

On SQLite one process owns the file (replicas do not share it); concurrent ticks within that process are
covered by tests/intake/integration/test_rounds_api.py.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from intake.rounds import service as round_service
from intake.tables import outbox
from shared.contracts.subjects import ROUND_CLOSED, ROUND_OPENED
from tests.support.live import intake_database, intake_uow

pytestmark = pytest.mark.live

REPLICAS = 4


async def test_replicas_ticking_together_announce_each_change_once(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("replicas share PostgreSQL; a SQLite file belongs to one process")
    # One Database per replica: separate pools (PostgreSQL) or separate writers on one file (SQLite).
    replicas = [await intake_database(database_url)]
    replicas += [type(replicas[0])(database_url) for _ in range(REPLICAS - 1)]
    try:
        now = datetime.now(UTC)
        for number in range(3):
            fields = round_service.RoundFields(f"Runde {number}", now - timedelta(hours=1), now + timedelta(hours=1))
            await round_service.create_round(
                round_service.CreateRound("vest", fields, f"vest-live-{number}"), intake_uow(replicas[0]), now=now
            )

        for moment in (now, now + timedelta(hours=2)):
            results = await asyncio.gather(
                *(round_service.announce_round_changes(moment, intake_uow(db)) for db in replicas for _ in range(2))
            )
            announced = [r.opened if moment == now else r.closed for r in results]
            assert sorted(x for ids in announced for x in ids) == [f"vest-live-{n}" for n in range(3)]

        async with replicas[0].reader() as session:
            types = list((await session.execute(select(outbox.c.event_type).order_by(outbox.c.id))).scalars())
        assert types.count(ROUND_OPENED.type) == 3 and types.count(ROUND_CLOSED.type) == 3
    finally:
        for db in replicas:
            await db.dispose()
