"""The outbox relay: publishes committed events to JetStream and marks them sent after the PubAck.

Each publish carries `Nats-Msg-Id` = the event id, so a retry after a lost PubAck (the row stays
pending) is deduplicated by the server. The stored trace context becomes the parent of the publish
span, so consumers join the request's trace. On PostgreSQL several replicas share the rows with
`FOR UPDATE SKIP LOCKED`; on SQLite one process owns the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from faststream.nats import NatsBroker
from opentelemetry import context as otel_context
from opentelemetry.propagate import extract
from sqlalchemy import Table, delete, select, update

from shared.contracts.envelope import CONTENT_TYPE
from shared.contracts.streams import CONTACTS
from shared.db import Database
from shared.telemetry import get_logger

log = get_logger("kp.outbox")

SENT_RETENTION = timedelta(days=1)


class OutboxRelay:
    def __init__(
        self,
        database: Database,
        outbox: Table,
        broker: NatsBroker,
        service_name: str,
        *,
        batch_size: int = 256,
        poll_seconds: float = 0.5,
        publish_timeout: float = 5.0,
    ) -> None:
        self._database = database
        self._outbox = outbox
        self._broker = broker
        self._service = service_name
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._publish_timeout = publish_timeout
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last_cleanup = datetime.now(UTC)

    def wake(self) -> None:
        """Called after a commit that staged events: publish now rather than at the next poll."""
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
        failures = 0
        while True:
            self._wake.clear()
            try:
                published = await self.publish_pending()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the broker or database is away: keep the rows, try again
                failures += 1
                log.warning("outbox.relay_failed", service=self._service, error=type(error).__name__)
                await asyncio.sleep(min(5.0, 0.2 * 2**failures))
                continue
            if published >= self._batch_size:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_seconds)
            if datetime.now(UTC) - self._last_cleanup > timedelta(minutes=10):
                await self._delete_old_sent_rows()

    async def publish_pending(self) -> int:
        """Publish one batch of pending rows; returns how many the broker acknowledged."""
        outbox = self._outbox
        query = select(outbox).where(outbox.c.sent_at.is_(None)).order_by(outbox.c.id).limit(self._batch_size)
        if self._database.sqlite:
            async with self._database.reader() as session:
                rows = (await session.execute(query)).mappings().all()
            if not rows:
                return 0
            results = await self._publish_all(rows)
            async with self._database.write() as session:
                await self._record(session, rows, results)
        else:
            # Rows stay locked from the SELECT to the UPDATE, so another replica's relay skips them.
            async with self._database.write() as session:
                rows = (await session.execute(query.with_for_update(skip_locked=True))).mappings().all()
                if not rows:
                    return 0
                results = await self._publish_all(rows)
                await self._record(session, rows, results)
        failed = sum(1 for r in results if r is not None)
        if failed:
            # Recorded above; raising makes the loop back off while the broker is away.
            raise RuntimeError(f"{failed} of {len(rows)} outbox events were not acknowledged")
        return len(rows)

    async def _publish_all(self, rows: Any) -> list[BaseException | None]:
        outcomes = await asyncio.gather(*(self._publish(row) for row in rows), return_exceptions=True)
        return [o if isinstance(o, BaseException) else None for o in outcomes]

    async def _publish(self, row: Any) -> None:
        # The request's stored context becomes the parent of the broker's publish span (FastStream's
        # telemetry middleware), which injects it into the headers the consumers continue from.
        token = otel_context.attach(extract(json.loads(row["trace_headers"] or "{}")))
        try:
            await self._broker.publish(
                row["payload"].encode(),
                row["subject"],
                headers={"Nats-Msg-Id": row["event_id"], "content-type": CONTENT_TYPE},
                stream=row["stream"],
                timeout=self._publish_timeout,
            )
        finally:
            otel_context.detach(token)

    async def _record(self, session: Any, rows: Any, results: list[BaseException | None]) -> None:
        outbox = self._outbox
        now = datetime.now(UTC)
        sent = [row["id"] for row, error in zip(rows, results, strict=True) if error is None]
        # Contact details have done their job once the broker holds them: keep no copy here.
        sent_contacts = [
            row["id"] for row, error in zip(rows, results, strict=True) if error is None and row["stream"] == CONTACTS
        ]
        if sent:
            await session.execute(update(outbox).where(outbox.c.id.in_(sent)).values(sent_at=now))
        if sent_contacts:
            await session.execute(delete(outbox).where(outbox.c.id.in_(sent_contacts)))
        for row, error in zip(rows, results, strict=True):
            if error is not None:
                await session.execute(
                    update(outbox)
                    .where(outbox.c.id == row["id"])
                    .values(attempts=outbox.c.attempts + 1, last_error=type(error).__name__ + ": " + str(error)[:500])
                )

    async def _delete_old_sent_rows(self) -> None:
        self._last_cleanup = datetime.now(UTC)
        cutoff = self._last_cleanup - SENT_RETENTION
        async with self._database.write() as session:
            await session.execute(
                delete(self._outbox).where(self._outbox.c.sent_at.is_not(None), self._outbox.c.sent_at < cutoff)
            )


async def pending_count(database: Database, outbox: Table) -> int:
    """How many events wait for the broker (for readiness and operators)."""
    from sqlalchemy import func

    async with database.reader() as session:
        return int((await session.execute(select(func.count()).where(outbox.c.sent_at.is_(None)))).scalar_one())
