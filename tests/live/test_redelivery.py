"""A transient failure is retried later, with a delay, and the event is then handled exactly once."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from nats.aio.client import Client
from sqlalchemy import func, select

from kp_cli.nats_server import NatsServer
from scoring.candidates import service as use_cases
from scoring.tables import candidates, inbox
from scoring.uow import ScoringUnitOfWork
from shared.contracts.envelope import CloudEvent
from shared.contracts.streams import INTAKE
from shared.contracts.subjects import PROPOSAL_SUBMITTED_V1, ConsumerSpec
from shared.db import Database
from shared.messaging.consumer import retry_delay
from tests.support.live import (
    proposal_envelope,
    publish_event,
    scoring_database,
    scoring_uow,
    subscribed,
)
from tests.support.waiting import eventually

pytestmark = pytest.mark.live

RETRYING = ConsumerSpec(
    "live-retrying", INTAKE, PROPOSAL_SUBMITTED_V1, "scoring", max_deliver=5, ack_wait_seconds=10.0,
    description="A live test's consumer whose database fails twice",
)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    database = await scoring_database(database_url)
    try:
        yield database
    finally:
        await database.dispose()


async def count(database: Database, table: Any) -> int:
    async with database.reader() as session:
        return int((await session.execute(select(func.count()).select_from(table))).scalar_one())


async def test_a_transient_failure_is_retried_with_a_delay_and_handled_once(
    database: Database, nats_server: NatsServer, nc: Client
) -> None:
    deliveries: list[float] = []
    failures_left = 2

    class FlakyUnitOfWork(ScoringUnitOfWork):
        async def commit(self) -> None:
            nonlocal failures_left
            if failures_left:
                failures_left -= 1
                raise ConnectionResetError("the database connection was lost at commit")
            await super().commit()

    async def on_proposal_submitted(event: CloudEvent[Any]) -> None:
        deliveries.append(time.monotonic())
        await use_cases.add_candidate(
            use_cases.AddCandidate.from_event(event, RETRYING.durable), scoring_uow(database, FlakyUnitOfWork)
        )

    seq = await publish_event(nc, proposal_envelope())
    async with subscribed(nats_server.url, nc, RETRYING, on_proposal_submitted):

        async def acknowledged() -> bool:
            info = await nc.jsm().consumer_info(RETRYING.stream, RETRYING.durable)
            return info.ack_floor.stream_seq >= seq and info.num_ack_pending == 0

        await eventually(acknowledged, timeout=30, message="the event is handled after two failures")

    assert len(deliveries) == 3, "delivered three times: two failures, one success"
    # Only lower bounds: the broker waits at least the delay before it redelivers; machines may be slower.
    assert deliveries[1] - deliveries[0] >= retry_delay(1)
    assert deliveries[2] - deliveries[1] >= retry_delay(2)
    # The failed attempts left nothing behind; the successful one wrote once.
    assert await count(database, candidates) == 1
    assert await count(database, inbox) == 1
    info = await nc.jsm().consumer_info(RETRYING.stream, RETRYING.durable)
    assert info.num_pending == 0 and info.num_ack_pending == 0
