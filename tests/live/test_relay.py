"""The outbox relay against a real nats-server, on SQLite and PostgreSQL: pipelined, acknowledged, traced,
never losing an event and never publishing one twice. The outbox is the shared table on a database of its
own (tests/live/relay_support.py); intake's use of it is tested in test_outbox.py."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import pytest
from faststream.nats import NatsBroker
from nats.aio.client import Client
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import select, update
from structlog.testing import capture_logs

from kp_cli.nats_server import NatsServer, free_port
from shared.contracts.envelope import CONTENT_TYPE
from shared.contracts.streams import CONTACTS, INTAKE
from shared.db import Database
from shared.messaging.broker import create_broker
from shared.messaging.outbox import OutboxRelay, RelayBatchFailed, outbox_status, pending_count
from shared.messaging.publisher import JetStreamPublisher, PubAckTimeout, PublishOutcome
from shared.telemetry import tracer_provider
from tests.live.relay_support import OUTBOX, outbox_database, outbox_rows, stage, stream_msg_ids
from tests.support.waiting import eventually

pytestmark = pytest.mark.live


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    database = await outbox_database(database_url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
async def broker(nats_server: NatsServer) -> AsyncIterator[NatsBroker]:
    """A broker as the services build it (reconnects forever, telemetry on every publish)."""
    broker = create_broker(nats_server.url, "relay-test")
    await broker.connect()
    try:
        yield broker
    finally:
        await broker.stop()


class ObservedPublisher:
    """Wraps the relay's publisher: looks at the rows the moment their PubAcks are in, or loses the acks."""

    def __init__(self, inner: JetStreamPublisher, database: Database, *, lose_acks: bool = False) -> None:
        self.inner = inner
        self.database = database
        self.lose_acks = lose_acks
        self.sent_at_when_acked: list[Any] = []
        self.outcomes: list[PublishOutcome] = []
        self.acked: Counter[str] = Counter()  # event ids whose PubAck came in

    async def publish(self, rows: Sequence[Mapping[str, Any]]) -> list[PublishOutcome]:
        outcomes = await self.inner.publish(rows)
        self.outcomes += outcomes
        self.acked.update(row["event_id"] for row, outcome in zip(rows, outcomes, strict=True) if outcome.ack)
        async with self.database.reader() as session:
            ids = [row["id"] for row in rows]
            query = select(OUTBOX.c.sent_at).where(OUTBOX.c.id.in_(ids))
            self.sent_at_when_acked += (await session.execute(query)).scalars()
        if self.lose_acks:  # stored by the server, but the relay never hears of it
            return [PublishOutcome(error=PubAckTimeout("PubAck lost on the way back")) for _ in rows]
        return outcomes


def observe(relay: OutboxRelay, database: Database, **kwargs: Any) -> ObservedPublisher:
    inner = relay.publisher.inner if isinstance(relay.publisher, ObservedPublisher) else relay.publisher
    observed = ObservedPublisher(inner, database, **kwargs)
    relay.publisher = observed  # type: ignore[assignment]
    return observed


async def test_a_batch_is_published_with_msg_id_content_type_and_the_requests_trace(
    database: Database, broker: NatsBroker, nc: Client
) -> None:
    exporter = InMemorySpanExporter()
    tracer_provider("relay-test").add_span_processor(SimpleSpanProcessor(exporter))
    with tracer_provider("relay-test").get_tracer("test").start_as_current_span("POST /proposals") as request:
        event_ids = await stage(database, 3, with_receipts=True)
    context = request.get_span_context()

    relay = OutboxRelay(database, OUTBOX, broker, "relay-test")
    observed = observe(relay, database)
    assert await relay.publish_pending() == 6

    assert all(o.ack is not None and not o.ack.duplicate for o in observed.outcomes)
    assert observed.sent_at_when_acked == [None] * 6, "a row must not be marked sent before its PubAck"
    rows = await outbox_rows(database)
    # Domain events are kept, marked sent; contact details are deleted once the broker holds them.
    assert [(r["stream"], r["sent_at"] is not None) for r in rows] == [(INTAKE, True)] * 3
    assert await pending_count(database, OUTBOX) == 0

    js = nc.jetstream()
    for stream, expected in ((INTAKE, event_ids[0::2]), (CONTACTS, event_ids[1::2])):
        assert await stream_msg_ids(nc, stream) == Counter(expected)
        message = await js.get_last_msg(stream, f"{'kp.intake' if stream == INTAKE else 'kp.contacts'}.>")
        headers = message.headers or {}
        assert headers["Nats-Msg-Id"] == json.loads(message.data or b"")["id"]
        assert headers["content-type"] == CONTENT_TYPE
        _version, trace_id, parent_id, _flags = headers["traceparent"].split("-")
        assert trace_id == format(context.trace_id, "032x"), "the consumers join the request's trace"
        assert parent_id != format(context.span_id, "016x"), "their parent is the publish span, not the request"

    spans = [s for s in exporter.get_finished_spans() if s.name.endswith(" publish")]
    assert len(spans) == 6, "one publish span per event"
    assert {s.parent.span_id for s in spans if s.parent} == {context.span_id}
    assert {(s.attributes or {}).get("messaging.message.id") for s in spans} == set(event_ids)


async def test_without_a_puback_the_row_stays_pending_with_the_cause(
    database: Database, broker: NatsBroker, nc: Client
) -> None:
    await nc.jsm().delete_stream(INTAKE)  # nothing stores the message: "no responders"
    [event_id] = await stage(database, 1)
    relay = OutboxRelay(database, OUTBOX, broker, "relay-test", publish_timeout=1.0)

    with pytest.raises(RelayBatchFailed, match=r"1 of 1 .* not acknowledged: NoStreamResponseError"):
        await relay.publish_pending()

    [row] = await outbox_rows(database)
    assert (row["event_id"], row["sent_at"], row["attempts"]) == (event_id, None, 1)
    assert "no response from stream" in row["last_error"]
    status = await outbox_status(database, OUTBOX)
    assert status.pending == 1 and status.oldest_pending_seconds is not None and status.oldest_pending_seconds >= 0
    assert status.last_error == row["last_error"]


async def test_a_lost_puback_is_retried_with_the_same_msg_id_and_deduplicated(
    database: Database, broker: NatsBroker, nc: Client
) -> None:
    event_ids = await stage(database, 3)
    relay = OutboxRelay(database, OUTBOX, broker, "relay-test")
    observe(relay, database, lose_acks=True)
    with pytest.raises(RelayBatchFailed, match="3 of 3"):
        await relay.publish_pending()
    assert await pending_count(database, OUTBOX) == 3
    assert await stream_msg_ids(nc, INTAKE) == Counter(event_ids)

    observed = observe(relay, database)
    assert await relay.publish_pending() == 3
    assert [o.ack.duplicate for o in observed.outcomes if o.ack] == [True, True, True]
    assert relay.stats.duplicates == 3

    # Once more, as if the relay crashed after publishing and before recording the PubAcks.
    async with database.write() as session:
        await session.execute(update(OUTBOX).values(sent_at=None))
    assert await relay.publish_pending() == 3
    assert await pending_count(database, OUTBOX) == 0
    assert await stream_msg_ids(nc, INTAKE) == Counter(event_ids), "each event once in the stream"


async def test_one_wake_drains_a_backlog_batch_after_batch(database: Database, broker: NatsBroker, nc: Client) -> None:
    event_ids = [i for _ in range(5) for i in await stage(database, 400)]
    relay = OutboxRelay(database, OUTBOX, broker, "relay-test", batch_size=256, poll_seconds=60.0)
    relay.start()
    try:
        relay.wake()  # once: the 8 batches follow each other without waiting for the (long) poll
        await eventually(lambda: _nothing_pending(database), timeout=30, message="the backlog is drained")
    finally:
        await relay.stop()
    assert relay.stats.batches >= 8
    assert await stream_msg_ids(nc, INTAKE) == Counter(event_ids)


async def _nothing_pending(database: Database) -> bool:
    return await pending_count(database, OUTBOX) == 0


async def test_the_back_off_ends_when_the_broker_reconnects(
    database: Database, nc: Client, nats_server: NatsServer
) -> None:
    relay: OutboxRelay | None = None

    async def reconnected() -> None:
        assert relay is not None
        await relay.broker_reconnected()

    broker = create_broker(nats_server.url, "relay-test", on_reconnected=reconnected)
    await broker.connect()
    # A back-off that could grow to a minute: only the reconnect can end it in time.
    relay = OutboxRelay(database, OUTBOX, broker, "relay-test", poll_seconds=60.0, max_backoff=60.0)
    try:
        nats_server.kill()
        event_ids = await stage(database, 20)
        relay.start()
        relay.wake()
        await eventually(lambda: relay.stats.failures_in_a_row >= 6, timeout=30, message="the relay backs off")
        nats_server.start()  # the same port and store, as after a crash
        back = time.monotonic()
        await eventually(lambda: _nothing_pending(database), timeout=20, message="published once reconnected")
        resumed_after = time.monotonic() - back
    finally:
        await relay.stop()
        await broker.stop()
    # After six failures the next pause would be 3.2 s, and then 6.4 s; the reconnect ends it.
    assert resumed_after < 3.0, f"publishing resumed {resumed_after:.1f} s after the broker came back"
    await eventually(lambda: nc.is_connected, timeout=20)
    assert await stream_msg_ids(nc, INTAKE) == Counter(event_ids)


async def test_a_routine_failure_is_a_warning_that_names_the_cause(
    database: Database, broker: NatsBroker, nc: Client
) -> None:
    await nc.jsm().delete_stream(INTAKE)
    await stage(database, 2)
    relay = OutboxRelay(database, OUTBOX, broker, "relay-test", poll_seconds=60.0, max_backoff=0.2)
    with capture_logs() as logs:
        relay.start()
        try:
            await eventually(lambda: relay.stats.failures_in_a_row >= 2, timeout=20)
        finally:
            await relay.stop()
    failures = [entry for entry in logs if entry["event"] == "outbox.relay_failed"]
    assert failures and all(entry["log_level"] == "warning" for entry in failures)
    assert all("exc_info" not in entry for entry in failures), "no traceback for a routine failure"
    assert "no response from stream" in failures[0]["error"]


async def test_the_relay_waits_while_the_broker_is_down_and_loses_nothing(
    database: Database, broker: NatsBroker, nc: Client, nats_server: NatsServer
) -> None:
    relay = OutboxRelay(database, OUTBOX, broker, "relay-test", poll_seconds=0.1, publish_timeout=1.0)
    nats_server.kill()
    event_ids = [i for _ in range(3) for i in await stage(database, 2, with_receipts=True)]
    relay.start()
    try:
        await eventually(lambda: relay.stats.failures_in_a_row >= 2, timeout=30, message="it tries meanwhile")
        assert await pending_count(database, OUTBOX) == 12
        nats_server.start()
        await eventually(lambda: _nothing_pending(database), timeout=60, message="everything once the broker is back")
    finally:
        await relay.stop()
    await eventually(lambda: nc.is_connected, timeout=20)
    assert await stream_msg_ids(nc, INTAKE) == Counter(event_ids[0::2])
    assert await stream_msg_ids(nc, CONTACTS) == Counter(event_ids[1::2])


async def test_a_list_of_servers_connects_past_one_that_is_down(
    database: Database, nats_server: NatsServer, nc: Client
) -> None:
    down = f"nats://127.0.0.1:{free_port()}"
    broker = create_broker(f"{down}, {nats_server.url}", "relay-test")
    await broker.connect()
    try:
        [event_id] = await stage(database, 1)
        assert await OutboxRelay(database, OUTBOX, broker, "relay-test").publish_pending() == 1
    finally:
        await broker.stop()
    assert await stream_msg_ids(nc, INTAKE) == Counter([event_id])


@pytest.mark.parametrize("database_backend", ["postgresql"], indirect=True)
async def test_two_relays_on_postgresql_publish_every_event_exactly_once(
    database: Database, nats_server: NatsServer, nc: Client, database_url: str
) -> None:
    total = 3000
    event_ids = [i for _ in range(15) for i in await stage(database, total // 15)]
    relays: list[OutboxRelay] = []
    observed: list[ObservedPublisher] = []
    resources: list[tuple[Database, NatsBroker]] = []
    for _ in range(2):
        # Two replicas of a service: each its own connection pool and its own broker connection.
        replica_database, replica_broker = Database(database_url), create_broker(nats_server.url, "relay-test")
        await replica_broker.connect()
        resources.append((replica_database, replica_broker))
        relay = OutboxRelay(replica_database, OUTBOX, replica_broker, "relay-test", batch_size=100, poll_seconds=0.05)
        observed.append(observe(relay, replica_database))
        relays.append(relay)
    try:
        for relay in relays:
            relay.start()
        await eventually(lambda: _nothing_pending(database), timeout=60, message="both relays drain the outbox")
    finally:
        for relay in relays:
            await relay.stop()
        for replica_database, replica_broker in resources:
            await replica_broker.stop()
            await replica_database.dispose()

    assert observed[0].acked + observed[1].acked == Counter(event_ids), "each row published by one relay, once"
    assert all(r.stats.published > 0 for r in relays), f"both share the work: {[r.stats for r in relays]}"
    assert sum(r.stats.published for r in relays) == total
    assert sum(r.stats.duplicates for r in relays) == 0, "the stream's dedup had nothing to catch"
    assert await stream_msg_ids(nc, INTAKE) == Counter(event_ids)


async def test_the_status_counts_pending_rows_and_the_oldest_ones_age(database: Database) -> None:
    empty = await outbox_status(database, OUTBOX)
    assert (empty.pending, empty.oldest_pending_seconds, empty.last_error) == (0, None, None)
    await stage(database, 4)
    await asyncio.sleep(0.2)
    status = await outbox_status(database, OUTBOX)
    assert status.pending == 4
    assert status.oldest_pending_seconds is not None and 0.2 <= status.oldest_pending_seconds < 30
    assert status.as_dict()["pending"] == 4
