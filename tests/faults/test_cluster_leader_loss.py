"""The production topology loses a node: three nats-servers in a cluster (JetStream, `sync_interval: always`),
streams with 3 replicas, two replicas of a service's outbox relay on one PostgreSQL database, publishing a
few thousand events while the KP_INTAKE stream's leader is killed with SIGKILL mid-run.

Asserted: nothing lost, nothing duplicated in the stream, every relay failure a warning that names its cause.
Printed, not asserted (timings vary by machine): how long publishing paused, and how long after the new
leader's election it resumed."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from faststream.nats import NatsBroker
from nats.aio.client import Client
from structlog.testing import capture_logs

from kp_cli.main import _bootstrap
from kp_cli.nats_server import NatsCluster
from shared.contracts.streams import INTAKE
from shared.db import Database
from shared.messaging.broker import create_broker
from shared.messaging.outbox import OutboxRelay, pending_count
from shared.messaging.publisher import JetStreamPublisher, PublishOutcome
from tests.live.relay_support import OUTBOX, connect, outbox_database, stage, stream_msg_ids
from tests.support.postgres import EmbeddedPostgres
from tests.support.waiting import eventually

pytestmark = pytest.mark.faults

TOTAL = 3000
PER_COMMIT = 5
RATE = 400  # events per second offered by the "requests"
KILL_AFTER = 1000  # events committed before the leader is killed


@pytest.fixture(scope="module")
def postgres() -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[NatsCluster]:
    with NatsCluster(tmp_path / "nats", size=3, sync_always=True) as started:
        yield started


@dataclass
class AckClock:
    """When each relay's PubAcks came in (monotonic seconds), to measure the pause."""

    acks: list[tuple[float, int]] = field(default_factory=list)


class TimedPublisher:
    def __init__(self, inner: JetStreamPublisher, clock: AckClock) -> None:
        self.inner, self.clock = inner, clock

    async def publish(self, rows: Sequence[Mapping[str, Any]]) -> list[PublishOutcome]:
        outcomes = await self.inner.publish(rows)
        acked = sum(1 for outcome in outcomes if outcome.ack is not None)
        if acked:
            self.clock.acks.append((time.monotonic(), acked))
        return outcomes


@dataclass
class Replica:
    database: Database
    broker: NatsBroker
    relay: OutboxRelay


async def start_replica(database_url: str, nats_url: str, clock: AckClock) -> Replica:
    """One replica of the service, as the runtime wires it: the broker's reconnect ends the relay's back-off."""
    database = Database(database_url)
    replica: Replica | None = None

    async def reconnected() -> None:
        if replica is not None:
            await replica.relay.broker_reconnected()

    broker = create_broker(nats_url, "relay-fault", on_reconnected=reconnected)
    await broker.connect()
    relay = OutboxRelay(database, OUTBOX, broker, "relay-fault", poll_seconds=0.2)
    relay.publisher = TimedPublisher(relay.publisher, clock)  # type: ignore[assignment]
    replica = Replica(database, broker, relay)
    relay.start()
    return replica


async def watch_leader(nc: Client, stream: str, killed: str, found: asyncio.Future[float]) -> None:
    """The moment another server leads the stream (polled through a surviving server)."""
    jsm = nc.jsm(timeout=0.5)
    while not found.done():
        try:
            info = await jsm.stream_info(stream)
            if info.cluster and info.cluster.leader and info.cluster.leader != killed:
                found.set_result(time.monotonic())
                return
        except Exception:  # no leader yet: the request times out or is refused
            pass
        await asyncio.sleep(0.05)


@pytest.fixture
async def database_url(postgres: EmbeddedPostgres) -> AsyncIterator[str]:
    url = await postgres.create_database("kp_fault")
    database = await outbox_database(url)
    await database.dispose()
    yield url


async def produce(database: Database, killed: asyncio.Event, kill: Any) -> list[str]:
    """Commit events at a steady rate, as requests would, and kill the leader on the way."""
    event_ids: list[str] = []
    started = time.monotonic()
    commits = TOTAL // PER_COMMIT
    for index in range(commits):
        await asyncio.sleep(max(0.0, started + index * PER_COMMIT / RATE - time.monotonic()))
        event_ids += await stage(database, PER_COMMIT)
        if len(event_ids) >= KILL_AFTER and not killed.is_set():
            killed.set()
            await kill()
    return event_ids


async def test_killing_the_stream_leader_loses_and_repeats_nothing(
    cluster: NatsCluster, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    await _bootstrap(cluster.url, 3, wait=60)
    observer = await connect(cluster.url)
    leader = (await observer.jsm().stream_info(INTAKE)).cluster.leader  # type: ignore[union-attr]
    assert leader is not None
    followers = [s for s in cluster.servers if s.server_name != leader]
    survivor = await connect(followers[0].url)  # it never loses its connection
    clock = AckClock()
    # One replica connects first to the leader (its connection drops and comes back elsewhere), one to a
    # follower (its connection stays, its publishes meet a stream without a leader).
    replicas = [
        await start_replica(database_url, cluster.by_name(leader).url + "," + followers[1].url, clock),
        await start_replica(database_url, followers[0].url, clock),
    ]
    producer_database = Database(database_url)
    killed = asyncio.Event()
    elected: asyncio.Future[float] = asyncio.get_running_loop().create_future()
    kill_at = 0.0
    watcher: list[asyncio.Task[None]] = []  # held, so the task is not collected while it runs

    async def kill() -> None:
        nonlocal kill_at
        kill_at = time.monotonic()
        cluster.by_name(leader).kill()  # SIGKILL, by its PID
        watcher.append(asyncio.create_task(watch_leader(survivor, INTAKE, leader, elected)))

    try:
        with capture_logs() as logs:
            event_ids = await produce(producer_database, killed, kill)
            await eventually(lambda: _nothing_pending(producer_database), timeout=120, message="all published")
    finally:
        for task in watcher:
            task.cancel()
        for replica in replicas:
            await replica.relay.stop()
            await replica.broker.stop()
            await replica.database.dispose()
        await producer_database.dispose()

    stored = await stream_msg_ids(survivor, INTAKE, timeout=60)
    await survivor.close()
    await observer.close()
    lost = set(event_ids) - set(stored)
    duplicated = {event_id: n for event_id, n in stored.items() if n > 1}
    report(event_ids, stored, replicas, clock=clock, kill_at=kill_at, elected=elected, logs=logs)
    assert not lost, f"{len(lost)} events lost"
    assert not duplicated, f"{len(duplicated)} events stored twice"
    assert set(stored) == set(event_ids)
    failures = [entry for entry in logs if entry["event"] == "outbox.relay_failed"]
    assert all(entry["log_level"] == "warning" and entry["error"] for entry in failures), failures[:3]
    errors = [r for r in caplog.records if r.name.startswith("kp.") and (r.levelno >= logging.ERROR or r.exc_info)]
    assert not errors, f"a routine failover logged errors or tracebacks: {[r.getMessage() for r in errors[:3]]}"


async def _nothing_pending(database: Database) -> bool:
    return await pending_count(database, OUTBOX) == 0


def report(
    event_ids: list[str], stored: Counter[str], replicas: list[Replica], *, clock: AckClock, kill_at: float,
    elected: asyncio.Future[float], logs: list[MutableMapping[str, Any]],
) -> None:
    times = sorted(t for t, _ in clock.acks)
    # The pause: the longest time without any PubAck while events kept being committed (the kill's).
    gap, resumed_at = max(((b - a, b) for a, b in itertools.pairwise(times)), default=(0.0, kill_at))
    election = elected.result() - kill_at if elected.done() else float("nan")
    causes = Counter(str(entry.get("error", ""))[:90] for entry in logs if entry["event"] == "outbox.relay_failed")
    print(
        f"\n{len(event_ids)} events committed, {len(stored)} distinct in {INTAKE} "
        f"({sum(stored.values())} messages); lost {len(set(event_ids) - set(stored))}, "
        f"duplicated {sum(n - 1 for n in stored.values())}"
    )
    print(
        f"leader killed: publishing paused {gap:.2f} s (no PubAck), resumed {resumed_at - kill_at:.2f} s after the "
        f"kill; a polling client saw the new leader after {election:.2f} s (each poll may lag up to 0.5 s)"
    )
    for index, replica in enumerate(replicas):
        stats = replica.relay.stats
        print(f"relay {index}: published {stats.published}, duplicate PubAcks {stats.duplicates}, "
              f"failed {stats.failed} in {stats.batches} batches")
    for cause, count in causes.most_common(5):
        print(f"  warning x{count}: {cause}")
