"""The outbox and inbox tables, added to each service's own metadata (and so to its own migrations)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, String, Table, Text

from shared.db import UtcDateTime


def outbox_table(metadata: MetaData) -> Table:
    """Events waiting for the broker's acknowledgement, written in the same transaction as the state."""
    table = Table(
        "outbox",
        metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("event_id", String(64), nullable=False, unique=True),
        Column("event_type", String(200), nullable=False),
        Column("subject", String(250), nullable=False),
        Column("stream", String(64), nullable=False),
        Column("payload", Text, nullable=False),
        Column("trace_headers", Text, nullable=False, default="{}"),
        Column("created_at", UtcDateTime(), nullable=False),
        Column("sent_at", UtcDateTime(), nullable=True),
        Column("attempts", Integer, nullable=False, default=0),
        Column("last_error", Text, nullable=True),
    )
    Index("ix_outbox_pending", table.c.sent_at, table.c.id)
    return table


def inbox_table(metadata: MetaData) -> Table:
    """Events a consumer has handled; the primary key makes a redelivery a no-op."""
    return Table(
        "inbox",
        metadata,
        Column("consumer", String(120), primary_key=True),
        Column("event_id", String(64), primary_key=True),
        Column("received_at", UtcDateTime(), nullable=False),
    )
