"""The unit of work: one transaction for a use case's state, its outgoing events and its inbox entry."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from types import TracebackType
from typing import Any, Self

from opentelemetry.propagate import inject
from pydantic import BaseModel
from sqlalchemy import Table, bindparam, insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts.envelope import envelope, new_event_id
from shared.contracts.subjects import EventSpec
from shared.db import Database, WriteUnit


@cache
def _claim_statement(inbox: Table, sqlite: bool) -> Any:
    """INSERT … ON CONFLICT DO NOTHING into the inbox, built once per table (statements are costly to build)."""
    dialect_insert = sqlite_insert if sqlite else pg_insert
    return (
        dialect_insert(inbox)
        .values(consumer=bindparam("consumer"), event_id=bindparam("event_id"), received_at=bindparam("received_at"))
        .on_conflict_do_nothing(index_elements=["consumer", "event_id"])
    )


@cache
def _insert_statement(table: Table) -> Any:
    return insert(table)


class UnitOfWork:
    """Commit once, at the edge. Subclasses add the service's repositories in `_open`."""

    session: AsyncSession

    def __init__(
        self, database: Database, outbox: Table, inbox: Table, on_commit: Callable[[], None] | None = None
    ) -> None:
        self._database = database
        self._outbox = outbox
        self._inbox = inbox
        self._on_commit = on_commit
        self._staged: list[dict[str, Any]] = []
        self._committed = False
        self._unit: WriteUnit | None = None

    async def __aenter__(self) -> Self:
        self._unit = await self._database.open_write_unit()
        self.session = self._unit.session
        self._staged = []
        self._committed = False
        self._open()
        return self

    def _open(self) -> None:
        """Create repositories on `self.session`."""

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._unit is not None:
            unit, self._unit = self._unit, None
            await unit.close()  # rolls back whatever was not committed

    def publish(self, spec: EventSpec, *, region: str, subject_id: str, data: BaseModel) -> str:
        """Stage an event; it is written with the state at commit, and published by the relay after."""
        event_id = new_event_id()
        body = envelope(
            service=spec.service, event_type=spec.type, subject=subject_id, region=region, data=data,
            event_id=event_id,
        )
        carrier: dict[str, str] = {}
        inject(carrier)  # the current trace context, so the consumer's spans join this request's trace
        self._staged.append(
            {
                "event_id": event_id,
                "event_type": spec.type,
                "subject": spec.subject(region),
                "stream": spec.stream,
                "payload": json.dumps(body, ensure_ascii=False, separators=(",", ":")),
                "trace_headers": json.dumps(carrier),
                "created_at": datetime.now(UTC),
                "attempts": 0,
            }
        )
        return event_id

    async def claim(self, consumer: str, event_id: str) -> bool:
        """Record that `consumer` handles `event_id`; False when it already has (a redelivery)."""
        statement = _claim_statement(self._inbox, self._database.sqlite)
        result = await self.session.execute(
            statement, {"consumer": consumer, "event_id": event_id, "received_at": datetime.now(UTC)}
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def commit(self) -> None:
        """Write the state and the staged events in one transaction; durable when it returns."""
        assert self._unit is not None, "commit outside `async with uow`"
        if self._staged:
            await self.session.execute(_insert_statement(self._outbox), self._staged)
        await self._unit.commit()
        self._committed = True
        if self._staged and self._on_commit is not None:
            self._on_commit()
        self._staged = []


class Reader:
    """Repositories on a reader session: queries never queue behind SQLite's one writer. Subclasses add the
    service's repositories in `_open`, like the unit of work."""

    session: AsyncSession

    def __init__(self, database: Database) -> None:
        self._database = database

    async def __aenter__(self) -> Self:
        self.session = self._database.reader()
        self._open()
        return self

    def _open(self) -> None:
        """Create repositories on `self.session`."""

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.session.close()
