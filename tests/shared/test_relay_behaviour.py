"""The relay's decisions without a broker: which servers a URL names, how errors are told, how it backs off
and when it stops backing off. A fake publisher stands in for JetStream; the outbox is a SQLite file."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

import pytest
from nats.errors import NoServersError
from nats.js.api import PubAck
from nats.js.errors import NoStreamResponseError
from structlog.testing import capture_logs

from shared.db import Database
from shared.messaging.broker import broker_logger, describe_error, is_routine_failure, nats_servers
from shared.messaging.outbox import OutboxRelay, pending_count
from shared.messaging.publisher import BrokerUnavailable, PubAckTimeout, PublishOutcome
from shared.settings import CommonSettings
from tests.live.relay_support import OUTBOX, outbox_database, stage
from tests.support.waiting import eventually


def test_a_comma_separated_url_names_every_server() -> None:
    assert nats_servers("nats://a:4222") == ["nats://a:4222"]
    assert nats_servers(" nats://a:4222, nats://b:4222 ,nats://c:4222,") == [
        "nats://a:4222", "nats://b:4222", "nats://c:4222",
    ]
    with pytest.raises(ValueError, match="KP_NATS_URL"):
        nats_servers(" , ")


def test_an_error_is_told_with_its_message() -> None:
    assert describe_error(NoStreamResponseError()) == "NoStreamResponseError: nats: no response from stream"
    assert describe_error(TimeoutError()) == "TimeoutError"
    assert describe_error(PubAckTimeout("no PubAck within 2 s")) == "PubAckTimeout: no PubAck within 2 s"
    assert is_routine_failure(NoServersError()) and is_routine_failure(PubAckTimeout())
    assert is_routine_failure(BrokerUnavailable("reconnecting"))
    assert not is_routine_failure(KeyError("payload"))


def test_a_routine_broker_failure_is_logged_as_one_warning_line(caplog: pytest.LogCaptureFixture) -> None:
    logger = broker_logger("relay-unit")
    with caplog.at_level(logging.DEBUG, logger="kp.relay-unit.broker"):
        logger.error("fetch raised an exception, retrying...", exc_info=NoStreamResponseError())
        logger.error("a bug", exc_info=KeyError("subject"))
    routine, bug = caplog.records
    assert (routine.levelname, routine.exc_info) == ("WARNING", None)
    assert routine.getMessage() == (
        "fetch raised an exception, retrying... (NoStreamResponseError: nats: no response from stream)"
    )
    assert bug.levelname == "ERROR" and bug.exc_info is not None


def test_the_relays_back_off_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KP_RELAY_MAX_BACKOFF_SECONDS", "7.5")
    monkeypatch.setenv("KP_RELAY_PUBLISH_TIMEOUT_SECONDS", "3")
    settings = CommonSettings(env="test")
    assert (settings.relay_max_backoff_seconds, settings.relay_publish_timeout_seconds) == (7.5, 3.0)


class FakePublisher:
    """Fails while `failing` is set (as during a failover), acknowledges otherwise."""

    def __init__(self) -> None:
        self.failing: BaseException | None = None
        self.calls: list[float] = []
        self.active = self.most_active = 0

    async def publish(self, rows: Sequence[Mapping[str, Any]]) -> list[PublishOutcome]:
        self.calls.append(asyncio.get_running_loop().time())
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        await asyncio.sleep(0.01)  # the PubAcks' round trip
        self.active -= 1
        if self.failing is not None:
            return [PublishOutcome(error=self.failing) for _ in rows]
        return [PublishOutcome(ack=PubAck(stream="KP_INTAKE", seq=i + 1)) for i, _ in enumerate(rows)]


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = await outbox_database(f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}")
    try:
        yield database
    finally:
        await database.dispose()


def relay_with(database: Database, publisher: FakePublisher, **options: Any) -> OutboxRelay:
    relay = OutboxRelay(database, OUTBOX, MagicMock(), "relay-test", **options)
    relay.publisher = publisher  # type: ignore[assignment]
    return relay


async def test_a_drain_publishes_batch_after_batch_two_at_a_time(database: Database) -> None:
    publisher = FakePublisher()
    relay = relay_with(database, publisher, batch_size=10)
    assert await relay.drain() == 0, "nothing pending: nothing to do"
    for _ in range(5):
        await stage(database, 10)
    assert await relay.drain() == 50
    assert len(publisher.calls) == 5 and relay.stats.batches == 5
    assert publisher.most_active == 2, "the next batch is sent while the previous one waits for its PubAcks"
    assert await relay.drain() == 0 and await pending_count(database, OUTBOX) == 0


async def test_the_back_off_doubles_up_to_its_maximum(database: Database) -> None:
    publisher = FakePublisher()
    publisher.failing = NoStreamResponseError()
    await stage(database, 1)
    relay = relay_with(database, publisher, max_backoff=0.4, poll_seconds=60)
    relay.start()
    try:
        await eventually(lambda: len(publisher.calls) >= 7, timeout=10)
    finally:
        await relay.stop()
    gaps = [b - a for a, b in zip(publisher.calls, publisher.calls[1:], strict=False)]
    # 0.1, 0.2, 0.4, then the maximum (with up to 20 % jitter below it).
    assert 0.07 < gaps[0] < 0.2 and 0.15 < gaps[1] < 0.3
    assert all(0.3 < gap < 0.55 for gap in gaps[3:6]), gaps


async def test_a_reconnect_ends_the_back_off_at_once(database: Database) -> None:
    publisher = FakePublisher()
    publisher.failing = PubAckTimeout("no PubAck within 2 s")
    await stage(database, 3)
    relay = relay_with(database, publisher, max_backoff=60.0, poll_seconds=60)
    relay.start()
    try:
        await eventually(lambda: relay.stats.failures_in_a_row >= 6, timeout=20)  # next pause: 3.2 s
        publisher.failing = None
        started = asyncio.get_running_loop().time()
        await relay.broker_reconnected()
        await eventually(lambda: _nothing_pending(database), timeout=5)
        assert asyncio.get_running_loop().time() - started < 1.0
    finally:
        await relay.stop()
    assert relay.stats.published == 3 and relay.stats.failures_in_a_row == 0


async def _nothing_pending(database: Database) -> bool:
    return await pending_count(database, OUTBOX) == 0


async def test_a_bug_is_logged_as_an_error_with_its_traceback(database: Database) -> None:
    publisher = FakePublisher()
    publisher.failing = KeyError("subject")
    await stage(database, 1)
    relay = relay_with(database, publisher, max_backoff=0.1, poll_seconds=60)

    async def broken(rows: Any) -> Any:
        raise KeyError("subject")

    publisher.publish = broken  # type: ignore[method-assign]
    with capture_logs() as logs:
        relay.start()
        try:
            await eventually(lambda: relay.stats.failures_in_a_row >= 1, timeout=5)
            await asyncio.sleep(0.05)
        finally:
            await relay.stop()
    [first, *_] = [entry for entry in logs if entry["event"] == "outbox.relay_failed"]
    assert first["log_level"] == "error" and first["exc_info"] is not None
    assert first["error"] == "KeyError: 'subject'"


async def test_with_the_in_memory_test_broker_the_relay_publishes_to_the_apps_subscribers(database: Database) -> None:
    # Service tests run FastStream's TestNatsBroker, which has no nats-py connection to pipeline on.
    from faststream.nats import JStream, NatsBroker, NatsMessage, TestNatsBroker

    from shared.contracts.subjects import PROPOSAL_SUBMITTED

    broker = NatsBroker()
    received: list[str] = []

    @broker.subscriber(PROPOSAL_SUBMITTED.subject("vest"), stream=JStream(PROPOSAL_SUBMITTED.stream, declare=False))
    async def handle(message: NatsMessage) -> None:
        # Read as the project's subscribers read it: the raw CloudEvent and the Nats-Msg-Id header.
        headers = message.raw_message.headers or {}
        assert headers["Nats-Msg-Id"] == json.loads(message.raw_message.data)["id"]
        received.append(headers["Nats-Msg-Id"])

    [event_id] = await stage(database, 1)
    async with TestNatsBroker(broker):
        relay = OutboxRelay(database, OUTBOX, broker, "relay-test")
        assert await relay.publish_pending() == 1
    assert received == [event_id]
    assert await pending_count(database, OUTBOX) == 0
