"""A service's runtime wires its relay: KP_NATS_URL may list several servers, a commit wakes the relay, the
broker's reconnect ends the relay's back-off, and the outbox's status is readable. Scoring is the service."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from fastapi import FastAPI
from nats.aio.client import Client
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from kp_cli.nats_server import NatsServer, free_port
from scoring.app import MIGRATIONS
from scoring.app import create_app as create_scoring_app
from scoring.deps import ScoringRuntime
from scoring.settings import ScoringSettings
from shared.contracts import events
from shared.contracts.envelope import new_event_id
from shared.contracts.streams import SCORING
from shared.contracts.subjects import RANKING_RECOMMENDED
from shared.db import migrate_async
from shared.messaging.broker import create_broker
from shared.messaging.outbox import OutboxRelay
from shared.settings import CommonSettings
from shared.telemetry import tracer_provider
from tests.live.relay_support import OUTBOX, outbox_database, stage, stream_msg_ids
from tests.support.waiting import eventually

pytestmark = pytest.mark.live


@pytest.fixture
async def scoring(database_url: str, nats_server: NatsServer, nc: Client) -> AsyncIterator[FastAPI]:
    """Scoring as `kp serve` runs it, on a list of servers whose first is down, with a back-off that could
    grow to a minute (only the reconnect can end it in time)."""
    await migrate_async(MIGRATIONS, database_url)
    nats_url = f"nats://127.0.0.1:{free_port()},{nats_server.url}"
    common = CommonSettings(nats_url=nats_url, env="test", relay_max_backoff_seconds=60.0)
    app = create_scoring_app(ScoringSettings(database_url=database_url, relay_poll_seconds=60.0, common=common))
    async with app.router.lifespan_context(app):
        await eventually(lambda: app.state.runtime.broker_connected, timeout=20, message="the broker connects")
        yield app


async def recommend(runtime: ScoringRuntime) -> str:
    data = events.RankingRecommendedV1(
        ranking_id=new_event_id(), round_id="vest-2026", region="vest", recommended_on=date(2026, 10, 22),
        entries=(events.RankedProposal(proposal_id="p-1", reference="VEST-2026-0001", rank=1, total_score=9.5),),
    )
    async with runtime.unit_of_work() as uow:
        event_id = uow.publish(RANKING_RECOMMENDED, region="vest", subject_id=data.ranking_id, data=data)
        await uow.commit()
    return event_id


async def nothing_pending(runtime: ScoringRuntime) -> bool:
    return (await runtime.outbox_status()).pending == 0


async def test_a_commit_is_published_at_once_through_a_list_of_servers(scoring: FastAPI, nc: Client) -> None:
    runtime: ScoringRuntime = scoring.state.runtime
    event_id = await recommend(runtime)
    # The poll is a minute away: only the commit's wake-up publishes this soon.
    await eventually(lambda: nothing_pending(runtime), timeout=10, message="published after the commit")
    assert await stream_msg_ids(nc, SCORING) == Counter([event_id])
    status = await runtime.outbox_status()
    assert (status.pending, status.oldest_pending_seconds) == (0, None)


async def test_the_brokers_reconnect_ends_the_relays_back_off(
    scoring: FastAPI, nc: Client, nats_server: NatsServer
) -> None:
    runtime: ScoringRuntime = scoring.state.runtime
    nats_server.kill()
    event_ids = [await recommend(runtime) for _ in range(3)]
    await eventually(lambda: runtime.relay.stats.failures_in_a_row >= 6, timeout=30, message="it backs off")
    status = await runtime.outbox_status()
    assert status.pending == 3 and status.last_error and "NATS" in status.last_error

    nats_server.start()
    back = time.monotonic()
    await eventually(lambda: nothing_pending(runtime), timeout=20, message="published once reconnected")
    # Six failures in, the next pause would be 3.2 s and then 6.4 s; the reconnect ends it.
    assert time.monotonic() - back < 3.0
    await eventually(lambda: nc.is_connected, timeout=20)
    assert await stream_msg_ids(nc, SCORING) == Counter(event_ids)


async def test_the_consumer_joins_the_trace_of_the_request_that_committed_the_event(
    scoring: FastAPI, database_url: str, nats_server: NatsServer, tmp_path: Path
) -> None:
    # Another service's relay (a table of its own) publishes a proposal that scoring consumes: scoring's
    # consumer span must belong to the trace of the request that committed the event.
    exporter = InMemorySpanExporter()
    tracer_provider("scoring").add_span_processor(SimpleSpanProcessor(exporter))
    producer = await outbox_database(f"sqlite+aiosqlite:///{tmp_path / 'producer.db'}")
    broker = create_broker(nats_server.url, "relay-test")
    await broker.connect()
    try:
        with tracer_provider("relay-test").get_tracer("test").start_as_current_span("POST /proposals") as request:
            await stage(producer, 1)
        assert await OutboxRelay(producer, OUTBOX, broker, "relay-test").publish_pending() == 1
        trace_id = request.get_span_context().trace_id

        def consumed() -> list[ReadableSpan]:
            return [s for s in exporter.get_finished_spans() if s.kind is SpanKind.CONSUMER]

        [span, *_] = await eventually(consumed, timeout=20, message="scoring consumes the event")
    finally:
        await broker.stop()
        await producer.dispose()
    assert span.context.trace_id == trace_id, "scoring's consumer span continues the request's trace"
