"""The transactional outbox against a real nats-server: never lose an event, never publish one twice."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from faststream.nats import NatsBroker
from nats.aio.client import Client
from nats.js.api import PubAck
from sqlalchemy import select, update

from intake.app import create_app as create_intake_app
from intake.settings import IntakeSettings
from intake.tables import inbox as intake_inbox
from intake.tables import outbox as intake_outbox
from kp_cli.nats_server import NatsServer
from shared.contracts.streams import CONTACTS, INTAKE
from shared.contracts.subjects import PROPOSAL_SUBMITTED, RECEIPT_REQUESTED
from shared.db import Database
from shared.messaging.broker import create_broker
from shared.messaging.outbox import OutboxRelay, pending_count
from shared.messaging.uow import UnitOfWork
from shared.settings import CommonSettings
from shared.telemetry import tracer_provider
from tests.support.live import intake_database, open_round, proposal_data, stream_messages, submit
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


async def stage_events(database: Database, count: int) -> list[str]:
    """Commit `count` proposal events through a unit of work, as a use case would."""
    ids: list[str] = []
    async with UnitOfWork(database, intake_outbox, intake_inbox) as uow:
        for _ in range(count):
            data = proposal_data()
            ids.append(uow.publish(PROPOSAL_SUBMITTED, region="vest", subject_id=data.proposal_id, data=data))
        await uow.commit()
    return ids


async def test_relay_publishes_a_commit_with_puback_msg_id_and_trace_context(
    database: Database, broker: NatsBroker, nc: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracer = tracer_provider("live-test").get_tracer("live-test")
    with tracer.start_as_current_span("POST /api/intake/v1/proposals") as request_span:
        proposal_id = await submit(database)
    trace_id = format(request_span.get_span_context().trace_id, "032x")

    rows = await outbox_rows(database)
    assert [r["stream"] for r in rows] == [INTAKE, CONTACTS]
    assert all(r["sent_at"] is None for r in rows)
    event_ids = {r["stream"]: r["event_id"] for r in rows}

    # Look at the row at the moment each PubAck arrives: it must still be pending then.
    acks: list[tuple[Any, Any]] = []
    real_publish = broker.publish

    async def observed_publish(*args: Any, **kwargs: Any) -> Any:
        ack = await real_publish(*args, **kwargs)
        msg_id = kwargs["headers"]["Nats-Msg-Id"]
        async with database.reader() as session:
            sent_at = (
                await session.execute(select(intake_outbox.c.sent_at).where(intake_outbox.c.event_id == msg_id))
            ).scalar_one()
        acks.append((ack, sent_at))
        return ack

    monkeypatch.setattr(broker, "publish", observed_publish)
    relay = OutboxRelay(database, intake_outbox, broker, "intake")
    assert await relay.publish_pending() == 2

    assert len(acks) == 2
    for ack, sent_at_when_acked in acks:
        assert isinstance(ack, PubAck) and ack.seq >= 1 and not ack.duplicate
        assert sent_at_when_acked is None, "a row must not be marked sent before its PubAck"

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


async def test_a_row_stays_pending_when_no_puback_comes(
    database: Database, broker: NatsBroker, nc: Client
) -> None:
    # Without the stream nothing stores the message and no PubAck comes: the row must stay pending.
    await nc.jsm().delete_stream(INTAKE)
    [event_id] = await stage_events(database, 1)
    relay = OutboxRelay(database, intake_outbox, broker, "intake", publish_timeout=1.0)

    with pytest.raises(RuntimeError, match="not acknowledged"):
        await relay.publish_pending()

    [row] = await outbox_rows(database)
    assert row["event_id"] == event_id
    assert row["sent_at"] is None
    assert row["attempts"] == 1 and row["last_error"]


async def test_rows_stay_pending_while_the_broker_is_down_and_none_is_lost_or_repeated(
    database: Database, broker: NatsBroker, nc: Client, nats_server: NatsServer
) -> None:
    relay = OutboxRelay(database, intake_outbox, broker, "intake", poll_seconds=0.1, publish_timeout=1.0)
    nats_server.kill()
    proposal_ids = [await submit(database, title=f"Fall prevention, part {i}") for i in range(3)]
    relay.start()
    try:

        async def every_row_tried() -> bool:
            rows = await outbox_rows(database)
            return len(rows) == 6 and all(r["attempts"] >= 1 for r in rows)

        await eventually(every_row_tried, timeout=30, message="the relay tries while the broker is down")
        rows = await outbox_rows(database)
        assert all(r["sent_at"] is None and r["last_error"] for r in rows)
        assert await pending_count(database, intake_outbox) == 6

        nats_server.start()  # the same port and store, as after a crash
        await eventually(
            lambda: _no_pending(database), timeout=60, message="the relay publishes everything once the broker is back"
        )
    finally:
        await relay.stop()

    await eventually(lambda: nc.is_connected, timeout=20)
    event_ids = {r["event_id"] for r in rows}
    for stream in (INTAKE, CONTACTS):
        messages = await stream_messages(nc, stream)
        ids = [(m.headers or {})["Nats-Msg-Id"] for m in messages]
        assert len(ids) == 3, f"{stream}: every event once, nothing lost and nothing repeated: {ids}"
        assert len(set(ids)) == 3 and set(ids) <= event_ids
        assert sorted(json.loads(m.data or b"")["subject"] for m in messages) == sorted(proposal_ids)


async def _no_pending(database: Database) -> bool:
    return await pending_count(database, intake_outbox) == 0


async def test_a_lost_puback_is_deduplicated_by_msg_id(
    database: Database, broker: NatsBroker, nc: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    event_ids = await stage_events(database, 3)
    relay = OutboxRelay(database, intake_outbox, broker, "intake", publish_timeout=2.0)
    real_publish = broker.publish
    acks: list[PubAck] = []

    async def ack_lost(*args: Any, **kwargs: Any) -> Any:
        await real_publish(*args, **kwargs)  # stored by the server...
        raise TimeoutError("PubAck lost on the way back")  # ...but the relay never hears of it

    async def ack_kept(*args: Any, **kwargs: Any) -> Any:
        ack = await real_publish(*args, **kwargs)
        acks.append(ack)
        return ack

    monkeypatch.setattr(broker, "publish", ack_lost)
    with pytest.raises(RuntimeError, match="3 of 3"):
        await relay.publish_pending()
    assert await pending_count(database, intake_outbox) == 3
    assert len(await stream_messages(nc, INTAKE)) == 3

    monkeypatch.setattr(broker, "publish", ack_kept)
    assert await relay.publish_pending() == 3
    assert [a.duplicate for a in acks] == [True, True, True]
    assert await pending_count(database, intake_outbox) == 0

    # And once more, as if the relay crashed after publishing and before recording the PubAcks.
    async with database.write() as session:
        await session.execute(update(intake_outbox).values(sent_at=None))
    assert await relay.publish_pending() == 3
    assert await pending_count(database, intake_outbox) == 0

    messages = await stream_messages(nc, INTAKE)
    assert sorted((m.headers or {})["Nats-Msg-Id"] for m in messages) == sorted(event_ids)


@pytest.mark.parametrize("database_backend", ["postgresql"], indirect=True)
async def test_two_relays_on_postgresql_publish_each_row_once(
    database: Database, nats_server: NatsServer, nc: Client, database_url: str
) -> None:
    rows = 120
    event_ids = [i for _ in range(6) for i in await stage_events(database, rows // 6)]
    published: Counter[str] = Counter()
    by_relay: Counter[int] = Counter()
    relays: list[OutboxRelay] = []
    resources: list[tuple[Database, NatsBroker]] = []
    for replica in range(2):
        # Two replicas of the service: each its own connection pool and its own broker connection.
        replica_database = Database(database_url)
        replica_broker = create_broker(nats_server.url, "intake")
        await replica_broker.connect()
        real_publish = replica_broker.publish

        async def slow_publish(*args: Any, _real: Any = real_publish, _replica: int = replica, **kwargs: Any) -> Any:
            await asyncio.sleep(0.05)  # keep the batch's rows locked a while, so the replicas overlap
            ack = await _real(*args, **kwargs)
            published[kwargs["headers"]["Nats-Msg-Id"]] += 1
            by_relay[_replica] += 1
            return ack

        replica_broker.publish = slow_publish  # type: ignore[method-assign]
        resources.append((replica_database, replica_broker))
        relays.append(
            OutboxRelay(replica_database, intake_outbox, replica_broker, "intake", batch_size=10, poll_seconds=0.1)
        )
    try:
        for relay in relays:
            relay.start()
        await eventually(lambda: _no_pending(database), timeout=60, message="both relays drain the outbox")
    finally:
        for relay in relays:
            await relay.stop()
        for replica_database, replica_broker in resources:
            await replica_broker.stop()
            await replica_database.dispose()

    duplicates = {event_id: n for event_id, n in published.items() if n > 1}
    assert not duplicates, f"rows published by both relays: {duplicates}"
    assert sorted(published) == sorted(event_ids)
    assert by_relay[0] > 0 and by_relay[1] > 0, f"both replicas share the work: {dict(by_relay)}"
    messages = await stream_messages(nc, INTAKE)
    assert len(messages) == rows
    assert sorted((m.headers or {})["Nats-Msg-Id"] for m in messages) == sorted(event_ids)


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
