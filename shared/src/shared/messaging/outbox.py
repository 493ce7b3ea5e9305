"""The outbox relay: publishes committed events to JetStream and marks them sent after the PubAck.

How it keeps up:
- a batch of up to `batch_size` rows is in flight at once (`JetStreamPublisher`, nats-py's
  `publish_async`), and its PubAcks are awaited together, not one round trip per event; the next batch
  is claimed and sent while the previous one waits (`pipeline_depth` batches under way);
- the rows acknowledged are marked sent in one UPDATE per batch (contact rows deleted in one DELETE);
- it drains while rows are pending (batch after batch, and again at once when a commit woke it during
  a batch), and only then waits for the next wake-up or poll;
- on SQLite its reads go through the reader engine (aiosqlite's thread) and its writes join the request
  path's group commit (one fsync for both), so it neither blocks the event loop nor takes the writer
  for long.

What it never gives up: a row is marked sent only after its PubAck; every publish carries
`Nats-Msg-Id` = the event id, so a retry (after a timeout or an error the row stays pending and is sent
again, with the same id) is deduplicated by the stream; the request's stored trace context is the parent
of the publish span.

On PostgreSQL several replicas share the rows with `FOR UPDATE SKIP LOCKED`: a batch's rows stay locked
from the SELECT to the UPDATE that marks them sent, so no other relay publishes them meanwhile. The lock
is held only as long as the pipelined publish takes: its PubAcks are awaited at most `publish_timeout`
seconds after the last send, and while the broker is disconnected nothing is sent (the rows only get the
cause in `last_error`, and their locks go at once).

On failure it backs off exponentially up to `max_backoff` seconds, and starts again at once when the
broker reconnects (`broker_reconnected`) or JetStream announces a stream's new leader (a failover ended).
A routine failure (a failover, a restart) is a warning line with the error's message, which is also
stored in the row's `last_error`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from faststream.nats import NatsBroker
from sqlalchemy import Table, delete, func, select, update

from shared.contracts.streams import CONTACTS
from shared.db import Database, WriteUnit
from shared.messaging.broker import describe_error, is_routine_failure
from shared.messaging.publisher import JetStreamPublisher, OutboxRow, PublishOutcome
from shared.telemetry import get_logger, tracer_provider

log = get_logger("kp.outbox")

SENT_RETENTION = timedelta(days=1)
CLEANUP_EVERY = timedelta(minutes=10)


class RelayBatchFailed(RuntimeError):
    """Some rows of a batch got no PubAck; they stay pending and are retried with the same Nats-Msg-Id."""

    def __init__(self, message: str, cause: BaseException) -> None:
        super().__init__(message)
        self.cause = cause


@dataclass(frozen=True)
class _Claim:
    """A batch taken for publishing; on PostgreSQL with the transaction that holds its rows' locks."""

    rows: Sequence[OutboxRow]
    unit: WriteUnit | None = None


@dataclass
class RelayStats:
    """What this relay did since it started (benchmarks and tests read it; operators read `outbox_status`)."""

    published: int = 0
    duplicates: int = 0  # PubAcks that said the stream already held the message (a retry after a lost ack)
    failed: int = 0
    batches: int = 0
    last_error: str | None = None
    failures_in_a_row: int = field(default=0, repr=False)


class OutboxRelay:
    def __init__(
        self,
        database: Database,
        outbox: Table,
        broker: NatsBroker,
        service_name: str,
        *,
        batch_size: int = 512,
        poll_seconds: float = 0.5,
        publish_timeout: float = 2.0,
        max_backoff: float = 2.0,
        pipeline_depth: int = 2,
    ) -> None:
        self._database = database
        self._outbox = outbox
        self._service = service_name
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._max_backoff = max_backoff
        self._depth = pipeline_depth

        async def in_memory(row: OutboxRow, headers: dict[str, str]) -> None:
            # FastStream's TestNatsBroker routes this to the app's own subscribers (service tests).
            await broker.publish(row["payload"].encode(), row["subject"], headers=headers, stream=row["stream"])

        self.publisher = JetStreamPublisher(
            lambda: broker.connection, tracer_provider(service_name).get_tracer("kp.outbox"),
            timeout=publish_timeout, window=batch_size * pipeline_depth, on_leader_elected=self.retry_now,
            in_memory=in_memory,
        )
        self.stats = RelayStats()
        self._wake = asyncio.Event()
        self._reconnected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last_cleanup = datetime.now(UTC)

    def wake(self) -> None:
        """Called after a commit that staged events: publish now rather than at the next poll."""
        self._wake.set()

    async def broker_reconnected(self) -> None:
        """The broker's reconnected callback: end the back-off now, the broker is back."""
        await self.retry_now()

    async def retry_now(self) -> None:
        """What failed may work now (the broker reconnected, a stream has a new leader): end the back-off
        and start counting failures afresh."""
        self.stats.failures_in_a_row = 0
        self._reconnected.set()
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self._service}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            # Cleared before the attempt, not after it fails: a reconnect during a failing batch counts.
            self._reconnected.clear()
            try:
                await self.drain()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the broker or database is away: keep the rows, try again
                await self._back_off(error)
                continue
            self.stats.failures_in_a_row = 0
            if not self._wake.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll_seconds)
            if datetime.now(UTC) - self._last_cleanup > CLEANUP_EVERY:
                await self._delete_old_sent_rows()

    async def drain(self) -> int:
        """Publish until nothing is pending; returns how many rows were acknowledged.

        Up to `pipeline_depth` batches are under way at once: the next batch is claimed and sent while the
        previous one waits for its PubAcks and its UPDATE, so the broker's disk never waits for the
        database. On a failure no new batch starts; those under way finish, then the first error is raised."""
        total = 0
        after: int | None = None  # SQLite: the last row claimed in this drain (PostgreSQL's locks skip them)
        more = True
        in_flight: set[asyncio.Task[int]] = set()
        try:
            while more or in_flight:
                while more and len(in_flight) < self._depth:
                    claim = await self._claim(after)
                    if claim is None:
                        more = False
                        break
                    after = claim.rows[-1]["id"]
                    more = len(claim.rows) == self._batch_size
                    in_flight.add(asyncio.create_task(self._complete(claim)))
                if not in_flight:
                    break
                done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    total += task.result()
        except asyncio.CancelledError:
            for task in in_flight:
                task.cancel()  # their rows stay pending (a PostgreSQL batch's transaction rolls back)
            await asyncio.gather(*in_flight, return_exceptions=True)
            raise
        except Exception:
            await asyncio.gather(*in_flight, return_exceptions=True)  # let them record what they did
            raise
        return total

    async def _back_off(self, error: Exception) -> None:
        self.stats.failures_in_a_row += 1
        failures = self.stats.failures_in_a_row
        # 0.1, 0.2, 0.4 … s up to the maximum, with jitter so that replicas do not retry in step.
        delay = min(self._max_backoff, 0.1 * 2 ** (failures - 1)) * random.uniform(0.8, 1.0)
        fields = {"service": self._service, "error": describe_error(error), "retry_in": round(delay, 2),
                  "failures": failures}
        cause = error.cause if isinstance(error, RelayBatchFailed) else error
        if is_routine_failure(cause):
            log.warning("outbox.relay_failed", **fields)
        else:
            log.error("outbox.relay_failed", exc_info=error, **fields)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._reconnected.wait(), delay)

    async def publish_pending(self) -> int:
        """Publish one batch of pending rows; returns how many the broker acknowledged."""
        claim = await self._claim(None)
        return 0 if claim is None else await self._complete(claim)

    async def _claim(self, after: int | None) -> _Claim | None:
        """The next pending rows, oldest first. On PostgreSQL they stay locked (`FOR UPDATE SKIP LOCKED`)
        in a transaction of their own until `_complete` marks them sent, so another replica's relay, and
        this relay's next batch, skip them."""
        outbox = self._outbox
        query = select(outbox).where(outbox.c.sent_at.is_(None)).order_by(outbox.c.id).limit(self._batch_size)
        if self._database.sqlite:
            # One process owns a SQLite file: reading without a lock is safe, and a batch under way is
            # skipped by its ids (a group's rows are committed together, in id order).
            if after is not None:
                query = query.where(outbox.c.id > after)
            async with self._database.reader() as session:
                rows = (await session.execute(query)).mappings().all()
            return _Claim(rows) if rows else None
        unit = await self._database.open_write_unit()
        try:
            rows = (await unit.session.execute(query.with_for_update(skip_locked=True))).mappings().all()
        except BaseException:
            await unit.close()
            raise
        if not rows:
            await unit.close()
            return None
        return _Claim(rows, unit)

    async def _complete(self, claim: _Claim) -> int:
        """Publish a claimed batch and record the outcome; SQLite's write joins the requests' group commit."""
        try:
            outcomes = await self.publisher.publish(claim.rows)
            if claim.unit is None:
                async with self._database.write() as session:
                    await self._record(session, claim.rows, outcomes)
            else:
                await self._record(claim.unit.session, claim.rows, outcomes)
                await claim.unit.commit()
        finally:
            if claim.unit is not None:
                await claim.unit.close()
        return self._account(claim.rows, outcomes)

    def _account(self, rows: Sequence[OutboxRow], outcomes: list[PublishOutcome]) -> int:
        failures = [outcome.error for outcome in outcomes if outcome.error is not None]
        acked = len(rows) - len(failures)
        self.stats.batches += 1
        self.stats.published += acked
        self.stats.duplicates += sum(1 for outcome in outcomes if outcome.ack is not None and outcome.ack.duplicate)
        if failures:
            self.stats.failed += len(failures)
            self.stats.last_error = describe_error(failures[0])
            # Recorded above; raising makes the loop back off while the broker is away.
            raise RelayBatchFailed(
                f"{len(failures)} of {len(rows)} outbox events were not acknowledged: {self.stats.last_error}",
                failures[0],
            )
        return acked

    async def _record(self, session: Any, rows: Sequence[OutboxRow], outcomes: list[PublishOutcome]) -> None:
        """One UPDATE for the rows acknowledged, one DELETE for acknowledged contact rows, one UPDATE per
        distinct error for the rest."""
        outbox = self._outbox
        sent: list[int] = []
        sent_contacts: list[int] = []
        failed: dict[str, list[int]] = {}
        for row, outcome in zip(rows, outcomes, strict=True):
            if outcome.error is not None:
                failed.setdefault(describe_error(outcome.error)[:500], []).append(row["id"])
            elif row["stream"] == CONTACTS:
                # Contact details have done their job once the broker holds them: keep no copy here.
                sent_contacts.append(row["id"])
            else:
                sent.append(row["id"])
        if sent:
            await session.execute(update(outbox).where(outbox.c.id.in_(sent)).values(sent_at=datetime.now(UTC)))
        if sent_contacts:
            await session.execute(delete(outbox).where(outbox.c.id.in_(sent_contacts)))
        for error, ids in failed.items():
            await session.execute(
                update(outbox).where(outbox.c.id.in_(ids)).values(attempts=outbox.c.attempts + 1, last_error=error)
            )

    async def _delete_old_sent_rows(self) -> None:
        self._last_cleanup = datetime.now(UTC)
        cutoff = self._last_cleanup - SENT_RETENTION
        async with self._database.write() as session:
            await session.execute(
                delete(self._outbox).where(self._outbox.c.sent_at.is_not(None), self._outbox.c.sent_at < cutoff)
            )


@dataclass(frozen=True)
class OutboxStatus:
    """What operators watch: how many events wait for the broker, and how long the oldest has waited."""

    pending: int
    oldest_pending_seconds: float | None  # None when nothing is pending
    last_error: str | None  # of the oldest pending row that has failed at least once

    def as_dict(self) -> dict[str, Any]:
        return {"pending": self.pending, "oldest_pending_seconds": self.oldest_pending_seconds,
                "last_error": self.last_error}


async def outbox_status(database: Database, outbox: Table) -> OutboxStatus:
    """The pending count and the age of the oldest pending row, read through the reader (never the writer)."""
    pending = outbox.c.sent_at.is_(None)
    async with database.reader() as session:
        count, oldest = (
            await session.execute(select(func.count(), func.min(outbox.c.created_at)).where(pending))
        ).one()
        last_error = (await session.execute(
            select(outbox.c.last_error).where(pending, outbox.c.last_error.is_not(None)).order_by(outbox.c.id).limit(1)
        )).scalar_one_or_none()
    # min() keeps the column's type, so `oldest` comes back timezone-aware on SQLite too.
    age = None if oldest is None else max(0.0, (datetime.now(UTC) - oldest).total_seconds())
    return OutboxStatus(int(count), age, last_error)


async def pending_count(database: Database, outbox: Table) -> int:
    """How many events wait for the broker (for readiness and operators)."""
    return (await outbox_status(database, outbox)).pending
