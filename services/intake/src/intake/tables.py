"""Intake's tables (its own database): rounds, proposals, reference counters, idempotency keys, outbox, inbox."""

from __future__ import annotations

from sqlalchemy import Column, Date, ForeignKey, Index, Integer, MetaData, String, Table, Text, UniqueConstraint

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
    # The proposal window is stored in UTC and shown in this zone (Europe/Oslo).
    Column("time_zone", String(64), nullable=False, default="Europe/Oslo", server_default="Europe/Oslo"),
    Column("committee_meeting_on", Date, nullable=True),
    Column("decision_on", Date, nullable=True),
    Column("final_report_on", Date, nullable=True),
    Column("criteria_set", String(80), nullable=True),
    Column("capacity_note", Text, nullable=False, default="", server_default=""),
    # When round.opened / round.closed were announced: the clock publishes each exactly once.
    Column("opened_announced_at", UtcDateTime(), nullable=True),
    Column("closed_announced_at", UtcDateTime(), nullable=True),
)

proposals = Table(
    "proposals",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("reference", String(40), nullable=False, unique=True),
    Column("region", String(32), nullable=False),
    Column("round_id", String(80), ForeignKey("rounds.id"), nullable=False),
    # Who proposes: a municipality (official number) or a non-municipal unit such as USHT (units.csv).
    Column("municipality_number", String(4), nullable=True),
    Column("unit_code", String(40), nullable=True),
    Column("department", String(200), nullable=False, default="", server_default=""),
    Column("service_area", String(60), nullable=True),
    Column("theme", String(60), nullable=True),
    Column("title", String(200), nullable=False),
    Column("population", Text, nullable=False),
    Column("intervention", Text, nullable=False),
    Column("comparison", Text, nullable=False, default=""),
    Column("outcome", Text, nullable=False),
    Column("background", Text, nullable=False, default=""),
    Column("language", String(2), nullable=False),
    Column("status", String(40), nullable=False),
    Column("submitted_at", UtcDateTime(), nullable=False),
    Column("decision_text", Text, nullable=False, default="", server_default=""),
    Column("decision_on", Date, nullable=True),
    # {criterion code: 1..5} as JSON: the proposer's own view against the round's criteria.
    Column("self_assessment", Text, nullable=False, default="{}", server_default="{}"),
    Column("consent_at", UtcDateTime(), nullable=True),
    # Personal data: only here, never in a domain event, a span or a log line.
    Column("proposer_name", String(200), nullable=False),
    Column("proposer_email", String(320), nullable=False),
)
Index("ix_proposals_round", proposals.c.round_id, proposals.c.submitted_at)
Index("ix_proposals_region_submitted", proposals.c.region, proposals.c.submitted_at)
# One narrow index per analysis table (by unit, service area, theme): each count is a single pass over
# the index, filtered by region, round and dates, with no sort (bench/analysis.py: 100,000 proposals).
Index(
    "ix_proposals_analysis_unit", proposals.c.region, proposals.c.municipality_number, proposals.c.unit_code,
    proposals.c.round_id, proposals.c.submitted_at,
)
Index(
    "ix_proposals_analysis_area", proposals.c.region, proposals.c.service_area, proposals.c.round_id,
    proposals.c.submitted_at,
)
Index(
    "ix_proposals_analysis_theme", proposals.c.region, proposals.c.theme, proposals.c.round_id,
    proposals.c.submitted_at,
)

# What happened to a proposal, in order: the public status page shows it (never with personal data).
proposal_history = Table(
    "proposal_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("proposal_id", String(40), ForeignKey("proposals.id"), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("event", String(60), nullable=False),
    Column("status", String(40), nullable=False),
    # Public text (e.g. the reason for a rejection); internal notes live elsewhere.
    Column("note", Text, nullable=False, default=""),
    Column("related_proposal_id", String(40), nullable=True),
)
Index("ix_proposal_history_proposal", proposal_history.c.proposal_id, proposal_history.c.id)

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

# Ingestion from other regions' systems. What was taken, one row per (region, external id): a resubmission
# finds its proposal instead of making a second one. No personal data here.
ingested_submissions = Table(
    "ingested_submissions",
    metadata,
    Column("region", String(32), primary_key=True),
    Column("external_id", String(120), primary_key=True),
    Column("proposal_id", String(40), ForeignKey("proposals.id"), nullable=False),
    Column("reference", String(40), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("source", String(200), nullable=False),
    Column("event_id", String(200), nullable=True),
    Column("content_hash", String(64), nullable=False),
    Column("external_submitted_at", UtcDateTime(), nullable=True),
    Column("accepted_at", UtcDateTime(), nullable=False),
    Column("quarantine_id", String(40), nullable=True),
)

# Submissions that could not be taken, with their reasons, for the region's secretariat to fix and replay.
# Entries are never deleted: a resolved one keeps its history. `payload` holds personal data (the
# proposer's name and e-mail): it lives only here, never in a log line, a span or an event.
ingest_quarantine = Table(
    "ingest_quarantine",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("region", String(32), nullable=False),
    Column("external_id", String(120), nullable=True),
    Column("channel", String(10), nullable=False),
    Column("source", String(200), nullable=False),
    Column("event_id", String(200), nullable=True),
    Column("row_number", Integer, nullable=True),
    Column("kind", String(12), nullable=False),
    Column("payload", Text, nullable=False),
    # The same bad content received again (a redelivery, a re-sent file) updates one entry, not a new one.
    Column("content_hash", String(64), nullable=False),
    Column("reasons", Text, nullable=False, default="[]"),
    Column("status", String(12), nullable=False),
    Column("times_received", Integer, nullable=False, default=1),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("resolved_at", UtcDateTime(), nullable=True),
    Column("proposal_id", String(40), nullable=True),
    UniqueConstraint("region", "content_hash", name="uq_ingest_quarantine_content"),
)
Index("ix_ingest_quarantine_region_status", ingest_quarantine.c.region, ingest_quarantine.c.status,
      ingest_quarantine.c.received_at)
Index("ix_ingest_quarantine_external", ingest_quarantine.c.region, ingest_quarantine.c.external_id)

ingest_quarantine_history = Table(
    "ingest_quarantine_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("entry_id", String(40), ForeignKey("ingest_quarantine.id"), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("action", String(20), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("reasons", Text, nullable=False, default="[]"),
    Column("proposal_id", String(40), nullable=True),
    # A correction keeps the payload it replaced, so the trace shows what the secretariat changed.
    Column("replaced_payload", Text, nullable=True),
)
Index("ix_ingest_quarantine_history_entry", ingest_quarantine_history.c.entry_id, ingest_quarantine_history.c.id)

# Screening (issue 3). The secretariat's internal notes: never on the public page, never in an event.
internal_notes = Table(
    "internal_notes",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("proposal_id", String(40), ForeignKey("proposals.id"), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    # The session token's opaque subject: who wrote it, without a name.
    Column("author", String(200), nullable=False),
    Column("text", Text, nullable=False),
)
Index("ix_internal_notes_proposal", internal_notes.c.proposal_id, internal_notes.c.at)

# A request to the proposer to complete or reformulate. The signed revise link names one request, so a link
# works once (resolved_at) and only until it expires, even when its signature would still verify.
revision_requests = Table(
    "revision_requests",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("proposal_id", String(40), ForeignKey("proposals.id"), nullable=False),
    Column("status", String(40), nullable=False),
    Column("request", Text, nullable=False),
    Column("requested_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("resolved_at", UtcDateTime(), nullable=True),
)
Index("ix_revision_requests_proposal", revision_requests.c.proposal_id, revision_requests.c.requested_at)

# Where a carried-over proposal came from: `proposals.round_id` moves to the new round, and this keeps the
# earlier round's record (its reports can still count what it received).
round_carry_overs = Table(
    "round_carry_overs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("proposal_id", String(40), ForeignKey("proposals.id"), nullable=False),
    Column("from_round_id", String(80), ForeignKey("rounds.id"), nullable=False),
    Column("to_round_id", String(80), ForeignKey("rounds.id"), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
)
Index("ix_round_carry_overs_from", round_carry_overs.c.from_round_id)
Index("ix_round_carry_overs_proposal", round_carry_overs.c.proposal_id)
