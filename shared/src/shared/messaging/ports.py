"""The ports a use case sees of its unit of work: a transaction that stages events, and the inbox.

Use cases type their unit of work as a Protocol of their own feature (repositories + these), so the
SQLAlchemy adapter and the in-memory fake in `tests/support/fakes.py` both satisfy it.
"""

from __future__ import annotations

from typing import Any, Protocol, Self

from pydantic import BaseModel

from shared.contracts.subjects import EventSpec


class Transaction(Protocol):
    """One transaction: state and staged events are committed together, or not at all."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc: Any) -> None: ...

    def publish(self, spec: EventSpec, *, region: str, subject_id: str, data: BaseModel) -> str:
        """Stage an event; written with the state at commit, published by the relay after. Returns its id."""
        ...

    async def commit(self) -> None: ...


class Inbox(Protocol):
    async def claim(self, consumer: str, event_id: str) -> bool:
        """Record that `consumer` handles `event_id`; False when it already has (a redelivery)."""
        ...


class ReadOnly(Protocol):
    """A read-only session: repositories for queries, never queued behind SQLite's writer."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc: Any) -> None: ...
