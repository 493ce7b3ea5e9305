"""Notify's tables (its own database)."""

from __future__ import annotations

from sqlalchemy import Column, Index, MetaData, String, Table, UniqueConstraint

from shared.db import UtcDateTime
from shared.messaging.tables import inbox_table, outbox_table

metadata = MetaData()

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("proposal_id", String(40), nullable=False),
    Column("kind", String(40), nullable=False),
    # A hash, not the address: the log can refuse a second receipt without holding personal data.
    Column("recipient_hash", String(64), nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("sent_at", UtcDateTime(), nullable=True),
    # The event that caused a status notice (one notice per state change); '' for a receipt (one per proposal).
    Column("cause_id", String(64), nullable=False, default="", server_default=""),
    UniqueConstraint("kind", "proposal_id", "recipient_hash", "cause_id", name="uq_deliveries_once_per_cause"),
)
Index("ix_deliveries_proposal", deliveries.c.proposal_id, deliveries.c.created_at)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
