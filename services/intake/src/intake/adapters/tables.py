"""Intake's tables (its own database): rounds, proposals, reference counters, idempotency keys, outbox, inbox."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, MetaData, String, Table, Text, UniqueConstraint

from shared.db import UtcDateTime
from shared.messaging.tables import inbox_table, outbox_table

metadata = MetaData()

rounds = Table(
    "rounds",
    metadata,
    Column("id", String(80), primary_key=True),
    Column("region", String(32), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("opens_at", UtcDateTime(), nullable=False),
    Column("closes_at", UtcDateTime(), nullable=False),
    Column("default_language", String(2), nullable=False, default="nb"),
)

proposals = Table(
    "proposals",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("reference", String(40), nullable=False, unique=True),
    Column("region", String(32), nullable=False),
    Column("round_id", String(80), ForeignKey("rounds.id"), nullable=False),
    Column("municipality_number", String(4), nullable=False),
    Column("title", String(200), nullable=False),
    Column("population", Text, nullable=False),
    Column("intervention", Text, nullable=False),
    Column("comparison", Text, nullable=False, default=""),
    Column("outcome", Text, nullable=False),
    Column("background", Text, nullable=False, default=""),
    Column("language", String(2), nullable=False),
    Column("status", String(40), nullable=False),
    Column("submitted_at", UtcDateTime(), nullable=False),
    # Personal data: only here, never in a domain event, a span or a log line.
    Column("proposer_name", String(200), nullable=False),
    Column("proposer_email", String(320), nullable=False),
)
Index("ix_proposals_round", proposals.c.round_id, proposals.c.submitted_at)

reference_counters = Table(
    "reference_counters",
    metadata,
    Column("region", String(32), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("last_number", Integer, nullable=False),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("proposal_id", String(40), ForeignKey("proposals.id"), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("proposal_id", name="uq_idempotency_proposal"),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
