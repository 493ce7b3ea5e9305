"""The outbox relay's throughput with nats-server at `sync_interval: always` (every PubAck after an fsync),
on SQLite and PostgreSQL:

- backlog: 10,000 committed events, then the relay starts; seconds until none is pending, and events/s;
- load: events committed at a steady rate (two per unit of work, as a submission commits a proposal and its
  receipt request) from 16 concurrent tasks in the relay's own process, for a few seconds; events/s
  published, the pending rows' peak and their number when the load stops.

Run alone with `python -m bench.relay`; `make bench` prints it beside the other figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faststream.nats import NatsBroker

from kp_cli.main import _bootstrap
from kp_cli.nats_server import NatsServer
from shared.db import Database
from shared.messaging.broker import create_broker
from shared.messaging.outbox import OutboxRelay, pending_count
from tests.live.relay_support import OUTBOX, outbox_database, stage
from tests.support.postgres import EmbeddedPostgres

BACKLOG = 10_000
LOAD_RATE = 1_000  # events/s offered: a little more than intake's maximum today (~900)
LOAD_SECONDS = 8
PRODUCERS = 16
GOAL_EVENTS_PER_SECOND = 500
GOAL_BACKLOG_SECONDS = 60

RelayFactory = Callable[[Database, NatsBroker], Any]


def new_relay(database: Database, broker: NatsBroker) -> OutboxRelay:
    """The relay as a service's runtime builds it, with its default settings."""
    return OutboxRelay(database, OUTBOX, broker, "bench-relay")


@dataclass
class RelayFigures:
    backend: str
    backlog_seconds: float
    backlog_per_second: float
    load_offered: float
    load_committed_per_second: float
    load_published_per_second: float
    pending_peak: int
    pending_at_end: int
    drained_after_load_seconds: float
    raw_ceiling_per_second: float


async def raw_ceiling(broker: NatsBroker, count: int = 5000, window: int = 512) -> float:
    """The server's own limit: the same kind of messages published with publish_async, no database, no
    spans, `window` in flight; with `sync_interval: always` the server's fsyncs set it."""
    js = broker.connection.jetstream(publish_async_max_pending=window)
    payload = b"x" * 900  # about a proposal.submitted envelope
    started = time.perf_counter()
    for first in range(0, count, window):
        futures = [
            await js.publish_async(
                "kp.intake.bench.proposal.submitted.v1", payload, stream="KP_INTAKE",
                headers={"Nats-Msg-Id": f"ceiling-{first + i}", "content-type": "application/cloudevents+json"},
            )
            for i in range(min(window, count - first))
        ]
        await asyncio.gather(*futures)
    return count / (time.perf_counter() - started)


async def drain_backlog(database: Database, broker: NatsBroker, factory: RelayFactory) -> float:
    for _ in range(BACKLOG // 500):
        await stage(database, 500)
    relay = factory(database, broker)
    started = time.perf_counter()
    relay.start()
    relay.wake()
    try:
        await until_drained(database)
    finally:
        await relay.stop()
    return time.perf_counter() - started


async def until_drained(database: Database) -> None:
    """Poll the pending count (the relay signals nothing a benchmark could wait on): every 50 ms, so the
    polling costs the database little beside the relay."""
    while await pending_count(database, OUTBOX):  # noqa: ASYNC110
        await asyncio.sleep(0.05)


async def steady_load(database: Database, broker: NatsBroker, factory: RelayFactory) -> tuple[float, ...]:
    """Returns (events/s committed and published during the load, peak pending, pending at its end, seconds
    to drain after it)."""
    relay = factory(database, broker)
    relay.start()
    commits = LOAD_RATE * LOAD_SECONDS // 2
    interval = 2 * PRODUCERS / LOAD_RATE  # each producer's pace
    peak = 0

    async def producer(offset: int) -> None:
        begin = time.perf_counter() + offset * interval / PRODUCERS
        for index in range(commits // PRODUCERS):
            await asyncio.sleep(max(0.0, begin + index * interval - time.perf_counter()))
            await _commit_pair(database, relay)

    async def sampler() -> None:
        nonlocal peak
        while True:
            peak = max(peak, await pending_count(database, OUTBOX))
            await asyncio.sleep(0.1)

    sampling = asyncio.create_task(sampler())
    started = time.perf_counter()
    try:
        await asyncio.gather(*(producer(i) for i in range(PRODUCERS)))
        elapsed = time.perf_counter() - started
        at_end = await pending_count(database, OUTBOX)
        committed = commits // PRODUCERS * PRODUCERS * 2
        published = committed - at_end  # nothing was pending when it began
        ended = time.perf_counter()
        await until_drained(database)
        drained_after = time.perf_counter() - ended
    finally:
        sampling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampling
        await relay.stop()
    return committed / elapsed, published / elapsed, max(peak, at_end), at_end, drained_after


async def _commit_pair(database: Database, relay: Any) -> None:
    """A submission's unit of work: a domain event and a receipt request, then the relay's wake-up."""
    await stage(database, 1, with_receipts=True)
    relay.wake()


async def measure(backend: str, database_url: str, nats_url: str, factory: RelayFactory) -> RelayFigures:
    database = await outbox_database(database_url)
    broker = create_broker(nats_url, "bench-relay")
    await broker.connect()
    try:
        ceiling = await raw_ceiling(broker)
        backlog_seconds = await drain_backlog(database, broker, factory)
        committed, published, peak, at_end, drained_after = await steady_load(database, broker, factory)
    finally:
        await broker.stop()
        await database.dispose()
    return RelayFigures(
        backend, backlog_seconds, BACKLOG / backlog_seconds, LOAD_RATE, committed, published, int(peak),
        int(at_end), drained_after, ceiling,
    )


def run(root: Path | None = None, factory: RelayFactory = new_relay) -> list[RelayFigures]:
    """Both backends, each against its own nats-server with `sync_interval: always`."""
    with contextlib.ExitStack() as stack:
        if root is None:
            root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kp-bench-relay-")))
        postgres = stack.enter_context(EmbeddedPostgres())
        figures = []
        for backend in ("sqlite", "postgresql"):
            with NatsServer(store_dir=root / f"js-{backend}", sync_always=True) as server:
                asyncio.run(_bootstrap(server.url, 1))

                async def one(backend: str = backend, url: str = server.url) -> RelayFigures:
                    database_url = (
                        f"sqlite+aiosqlite:///{root / 'relay.db'}" if backend == "sqlite"
                        else await postgres.create_database("bench_relay")
                    )
                    return await measure(backend, database_url, url, factory)

                figures.append(asyncio.run(one()))
        return figures


def row(label: str, value: str, goal: str = "") -> None:
    print(f"  {label:<52} {value:>16}  {goal}")


def print_figures(figures: list[RelayFigures]) -> None:
    print("Outbox relay, nats-server with sync_interval: always, one relay in the producers' process")
    for f in figures:
        row(f"{f.backend}: {BACKLOG:,}-event backlog published", f"{f.backlog_seconds:.1f} s",
            f"(the relay's part of ≤ {GOAL_BACKLOG_SECONDS} s through every consumer)")
        row(f"{f.backend}: relay events/s (backlog)", f"{f.backlog_per_second:,.0f}",
            f"goal ≥ {GOAL_EVENTS_PER_SECOND}")
        row(f"{f.backend}: server's ceiling, raw publish_async/s", f"{f.raw_ceiling_per_second:,.0f}",
            f"relay / ceiling {f.backlog_per_second / f.raw_ceiling_per_second:.2f}")
        row(f"{f.backend}: under {f.load_offered:,.0f}/s offered: committed / published per s",
            f"{f.load_committed_per_second:,.0f} / {f.load_published_per_second:,.0f}")
        row(f"{f.backend}: pending at the load's end / peak", f"{f.pending_at_end:,} / {f.pending_peak:,}",
            f"bounded: < {f.load_offered:,.0f} (one second)")
        row(f"{f.backend}: drained after the load", f"{f.drained_after_load_seconds:.2f} s")


def main() -> None:
    print_figures(run())


if __name__ == "__main__":
    main()
