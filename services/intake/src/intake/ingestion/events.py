"""Intake's subscriber for other regions' systems on KP_INGEST (`kp.ingest.<region>.proposal.v1`).

The shared CloudEvent subscribers dead-letter what they cannot parse. Submissions from outside are different: an
invalid one is quarantined with its reasons, where the region's secretariat can fix and replay it, and the
message is acknowledged. Only transient failures (the database is away) are nacked with a delay; a submission
that still fails on its last delivery is quarantined too, so nothing is dropped.
"""

from __future__ import annotations

from faststream.exceptions import NackMessage
from faststream.nats import NatsMessage

from intake.deps import IntakeRuntime
from intake.ingestion import service
from intake.ingestion.model import Arrival, Reason
from shared.contracts.subjects import INTAKE_INGEST_PROPOSAL
from shared.messaging.consumer import EventRouter, delivery_info, retry_delay
from shared.telemetry import get_logger

log = get_logger("kp.intake.ingest")

events = EventRouter[IntakeRuntime]()


@events.raw_subscriber(INTAKE_INGEST_PROPOSAL)
async def on_region_submission(message: NatsMessage, runtime: IntakeRuntime) -> None:
    """Take proposals from other regions' systems: invalid ones are quarantined for the region's secretariat."""
    spec = INTAKE_INGEST_PROPOSAL
    raw = message.raw_message
    deliveries, location = delivery_info(raw, spec)
    arrival = Arrival.from_message(raw.subject, raw.data)
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
