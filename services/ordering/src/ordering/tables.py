"""Ordering's tables (its own database)."""

from __future__ import annotations

from sqlalchemy import Column, Date, Float, ForeignKey, Index, Integer, MetaData, String, Table, Text

from shared.db import UtcDateTime
from shared.messaging.tables import inbox_table, outbox_table

metadata = MetaData()

decisions = Table(
    "decisions",
    metadata,
    Column("id", String(40), primary_key=True),
    # One decision per recommendation, whichever event delivered it.
    Column("ranking_id", String(80), nullable=False, unique=True),
    Column("round_id", String(80), nullable=False),
    Column("region", String(32), nullable=False),
    Column("status", String(40), nullable=False),
    Column("recommended_on", Date, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)
Index("ix_decisions_round", decisions.c.round_id, decisions.c.created_at)

decision_entries = Table(
    "decision_entries",
    metadata,
    Column("decision_id", String(40), ForeignKey("decisions.id"), primary_key=True),
    Column("proposal_id", String(40), primary_key=True),
    Column("reference", String(40), nullable=False),
    Column("rank", Integer, nullable=False),
    Column("total_score", Float, nullable=False),
    Column("reason", Text, nullable=False),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
