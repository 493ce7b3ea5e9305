"""Intake's transactional outbox against a real nats-server: its use case's commit is published by its relay.

The relay itself (pipelining, PubAck before sent, dedup, failover, two relays on PostgreSQL) is tested on a
table of its own in test_relay.py."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from faststream.nats import NatsBroker
from nats.aio.client import Client
from sqlalchemy import select

from intake.app import create_app as create_intake_app
from intake.settings import IntakeSettings
from intake.tables import outbox as intake_outbox
from kp_cli.nats_server import NatsServer
from shared.contracts.streams import CONTACTS, INTAKE
from shared.contracts.subjects import PROPOSAL_SUBMITTED, RECEIPT_REQUESTED
from shared.db import Database
from shared.messaging.broker import create_broker
from shared.messaging.outbox import OutboxRelay, pending_count
from shared.settings import CommonSettings
from shared.telemetry import tracer_provider
from tests.support.live import intake_database, open_round, stream_messages, submit
from tests.support.waiting import eventually

pytestmark = pytest.mark.live


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    database = await intake_database(database_url)
    await open_round(database)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
async def broker(nats_server: NatsServer) -> AsyncIterator[NatsBroker]:
    """Intake's broker as the service builds it (reconnects forever, telemetry on every publish)."""
    broker = create_broker(nats_server.url, "intake")
    await broker.connect()
    try:
        yield broker
    finally:
        await broker.stop()


async def outbox_rows(database: Database) -> list[Any]:
    async with database.reader() as session:
        return list((await session.execute(select(intake_outbox).order_by(intake_outbox.c.id))).mappings().all())


async def test_intakes_submission_is_published_with_msg_id_and_the_requests_trace(
    database: Database, broker: NatsBroker, nc: Client
) -> None:
    tracer = tracer_provider("live-test").get_tracer("live-test")
    with tracer.start_as_current_span("POST /api/intake/v1/proposals") as request_span:
        proposal_id = await submit(database)
    trace_id = format(request_span.get_span_context().trace_id, "032x")

    rows = await outbox_rows(database)
    assert [r["stream"] for r in rows] == [INTAKE, CONTACTS]
    assert all(r["sent_at"] is None for r in rows)
    event_ids = {r["stream"]: r["event_id"] for r in rows}

    relay = OutboxRelay(database, intake_outbox, broker, "intake")
    assert await relay.publish_pending() == 2
    assert relay.stats.duplicates == 0

    rows = await outbox_rows(database)
    # The domain event is kept (marked sent); the contact details are deleted once the broker holds them.
    assert [(r["stream"], r["sent_at"] is not None) for r in rows] == [(INTAKE, True)]
    assert await pending_count(database, intake_outbox) == 0

    for stream, spec in ((INTAKE, PROPOSAL_SUBMITTED), (CONTACTS, RECEIPT_REQUESTED)):
        [message] = await stream_messages(nc, stream)
        body = json.loads(message.data or b"")
        headers = message.headers or {}
        assert message.subject == spec.subject("vest")
        assert body["type"] == spec.type and body["subject"] == proposal_id
        assert headers["Nats-Msg-Id"] == body["id"] == event_ids[stream]
        assert headers.get("traceparent"), "the stored trace context travels in the NATS headers"
        assert headers["traceparent"].split("-")[1] == trace_id, "the consumer joins the request's trace"


async def _no_pending(database: Database) -> bool:
    return await pending_count(database, intake_outbox) == 0


async def test_a_services_commit_is_published_by_its_own_relay(
    database_url: str, nats_server: NatsServer, nc: Client
) -> None:
    # The whole service as it runs: the unit of work wakes the runtime's relay after the commit.
    database = await intake_database(database_url)
    await open_round(database)
    await database.dispose()
    app = create_intake_app(
        IntakeSettings(
            database_url=database_url, relay_poll_seconds=30.0,  # only the wake-up can publish this soon
            common=CommonSettings(nats_url=nats_server.url, env="test"),
        )
    )
    runtime = app.state.runtime
    async with app.router.lifespan_context(app):
        await eventually(lambda: runtime.broker_connected, timeout=20)
        proposal_id = await submit(uow=runtime.unit_of_work())

        async def published() -> list[Any]:
            return [m for m in await stream_messages(nc, INTAKE) if json.loads(m.data or b"")["subject"] == proposal_id]

        [message] = await eventually(published, timeout=20, message="the relay publishes after the commit")
        await eventually(lambda: _no_pending(runtime.database), timeout=20, message="and marks the rows sent")
    assert json.loads(message.data or b"")["type"] == PROPOSAL_SUBMITTED.type
