"""Intake's subscriber for other regions' systems on KP_INGEST (`kp.ingest.<region>.proposal.v1`).

The shared `event_subscriber` dead-letters what it cannot parse. Submissions from outside are different:
an invalid one is quarantined with its reasons, where the region's secretariat can fix and replay it, and
the message is acknowledged. Only transient failures (the database is away) are nacked with a delay; a
submission that still fails on its last delivery is quarantined too, so nothing is dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from faststream.exceptions import NackMessage
from faststream.nats import NatsBroker, NatsMessage

from intake.adapters.uow import IntakeUnitOfWork
from intake.service import ingestion
from intake.service.ingestion import MAX_TEXT, Arrival, IngestionContext, Reason
from shared.contracts.ingest import REGION_PATTERN
from shared.contracts.subjects import INTAKE_INGEST_PROPOSAL
from shared.db import Database
from shared.messaging.consumer import delivery_info, retry_delay, subscribe_durable
from shared.telemetry import get_logger

log = get_logger("kp.intake.ingest")


def arrival_from_message(subject: str, body: bytes) -> Arrival:
    """The region is the subject's token: NATS credentials limit each region to its own subjects."""
    tokens = subject.split(".")
    region = tokens[2] if len(tokens) > 2 and re.fullmatch(REGION_PATTERN, tokens[2]) else "unknown"
    actor = f"nats:{region}"
    try:
        payload = json.loads(body)
    except ValueError:
        text = body[:MAX_TEXT].decode("utf-8", errors="replace")
        return Arrival(region, "nats", "text", text, subject, actor)
    return Arrival(region, "nats", "event", payload, subject, actor)


def register_subscribers(
    broker: NatsBroker, database: Database, new_uow: Callable[[], IntakeUnitOfWork], *, batch_size: int = 16
) -> None:
    spec = INTAKE_INGEST_PROPOSAL
    ctx = IngestionContext(database, new_uow)

    async def on_region_submission(message: NatsMessage) -> None:
        """Take proposals from other regions' systems: invalid ones are quarantined for the region's secretariat."""
        raw = message.raw_message
        deliveries, location = delivery_info(raw, spec)
        arrival = arrival_from_message(raw.subject, raw.data)
        try:
            outcome = await ingestion.ingest(arrival, ctx)
        except Exception as error:
            delay = retry_delay(deliveries)
            if deliveries < spec.max_deliver:
                log.warning(
                    "ingest.retry", consumer=spec.durable, deliveries=deliveries, delay=delay,
                    error=type(error).__name__, **location,
                )
                raise NackMessage(delay=delay) from error
            reason = Reason("<message>", "failed", f"failed {deliveries} times; last: {type(error).__name__}")
            try:
                outcome = await ingestion.quarantine_failure(arrival, reason, ctx)
            except Exception as again:
                # Not even the quarantine took it: the server's MAX_DELIVERIES advisory lands in KP_DLQ.
                log.error("ingest.gave_up", consumer=spec.durable, deliveries=deliveries, **location)
                raise NackMessage(delay=delay) from again
        log.info(
            "ingest.message", consumer=spec.durable, region=arrival.region, outcome=outcome.status,
            external_id=outcome.external_id, proposal_id=outcome.proposal_id, quarantine_id=outcome.quarantine_id,
            **location,
        )

    subscribe_durable(broker, spec, on_region_submission, batch_size=batch_size)
