"""The registry's tables (its own database)."""

from __future__ import annotations

from sqlalchemy import Column, Index, MetaData, String, Table, Text

from shared.db import UtcDateTime
from shared.messaging.tables import inbox_table, outbox_table

metadata = MetaData()

knowledge_needs = Table(
    "knowledge_needs",
    metadata,
    Column("proposal_id", String(40), primary_key=True),
    Column("reference", String(40), nullable=False),
    Column("region", String(32), nullable=False),
    Column("round_id", String(80), nullable=False),
    Column("municipality_number", String(4), nullable=False),
    Column("title", String(200), nullable=False),
    Column("population", Text, nullable=False),
    Column("intervention", Text, nullable=False),
    Column("comparison", Text, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("status", String(40), nullable=False),
    Column("source", String(40), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
)
# The list is read per region, newest first.
Index("ix_knowledge_needs_region", knowledge_needs.c.region, knowledge_needs.c.recorded_at)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
