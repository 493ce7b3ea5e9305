"""Intake's subscriber for other regions' systems on KP_INGEST (`kp.ingest.<region>.proposal.v1`).

The shared CloudEvent subscribers dead-letter what they cannot parse. Submissions from outside are different: an
invalid one is quarantined with its reasons, where the region's secretariat can fix and replay it, and the
message is acknowledged. Only transient failures (the database is away) are nacked with a delay; a submission
that still fails on its last delivery is quarantined too, so nothing is dropped.
"""

from __future__ import annotations

import json
import re

from faststream.exceptions import NackMessage
from faststream.nats import NatsMessage

from intake.deps import IntakeRuntime
from intake.ingestion import service
from intake.ingestion.model import MAX_TEXT, Arrival, Reason
from shared.contracts.ingest import REGION_PATTERN
from shared.contracts.subjects import INTAKE_INGEST_PROPOSAL
from shared.messaging.consumer import EventRouter, delivery_info, retry_delay
from shared.telemetry import get_logger

log = get_logger("kp.intake.ingest")

events = EventRouter[IntakeRuntime]()


def arrival_from_message(subject: str, body: bytes) -> Arrival:
    """A message on `kp.ingest.<region>.proposal.v1` as an arrival: the region is the subject's token, since NATS
    credentials limit each region to its own subjects; a body that is not JSON is kept as text."""
    tokens = subject.split(".")
    region = tokens[2] if len(tokens) > 2 and re.fullmatch(REGION_PATTERN, tokens[2]) else "unknown"
    actor = f"nats:{region}"
    try:
        payload = json.loads(body)
    except ValueError:
        text = body[:MAX_TEXT].decode("utf-8", errors="replace")
        return Arrival(region, "nats", "text", text, subject, actor)
    return Arrival(region, "nats", "event", payload, subject, actor)


@events.raw_subscriber(INTAKE_INGEST_PROPOSAL)
async def on_region_submission(message: NatsMessage, runtime: IntakeRuntime) -> None:
    """Take proposals from other regions' systems: invalid ones are quarantined for the region's secretariat."""
    spec = INTAKE_INGEST_PROPOSAL
    raw = message.raw_message
    deliveries, location = delivery_info(raw, spec)
    arrival = arrival_from_message(raw.subject, raw.data)
    try:
        outcome = await service.ingest(arrival, runtime.unit_of_work(), runtime.reader())
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
            outcome = await service.quarantine_failure(arrival, reason, runtime.unit_of_work(), runtime.reader())
        except Exception as again:
            # Not even the quarantine took it: the server's MAX_DELIVERIES advisory lands in KP_DLQ.
            log.error("ingest.gave_up", consumer=spec.durable, deliveries=deliveries, **location)
            raise NackMessage(delay=delay) from again
    log.info(
        "ingest.message", consumer=spec.durable, region=arrival.region, outcome=outcome.status,
        external_id=outcome.external_id, proposal_id=outcome.proposal_id, quarantine_id=outcome.quarantine_id,
        **location,
    )
