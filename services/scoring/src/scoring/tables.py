"""Scoring's tables (its own database)."""

from __future__ import annotations

from sqlalchemy import Column, Index, MetaData, String, Table

from shared.db import UtcDateTime
from shared.messaging.tables import inbox_table, outbox_table

metadata = MetaData()

candidates = Table(
    "candidates",
    metadata,
    Column("proposal_id", String(40), primary_key=True),
    Column("reference", String(40), nullable=False),
    Column("region", String(32), nullable=False),
    Column("round_id", String(80), nullable=False),
    Column("municipality_number", String(4), nullable=False),
    Column("title", String(200), nullable=False),
    Column("submitted_at", UtcDateTime(), nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
)
Index("ix_candidates_round", candidates.c.round_id, candidates.c.reference)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
