"""The broker factory: explicit acks, reconnect forever, telemetry on every publish and consume."""

from __future__ import annotations

import logging

from faststream import AckPolicy
from faststream.nats import NatsBroker
from faststream.nats.opentelemetry import NatsTelemetryMiddleware

from shared.telemetry import tracer_provider


def create_broker(nats_url: str, service_name: str) -> NatsBroker:
    """A broker that never terminates a message because a handler raised (pitfall 1)."""
    return NatsBroker(
        nats_url,
        name=f"kp-{service_name}",
        # A handler that raises is nacked, not terminated; handlers nack with a delay themselves.
        ack_policy=AckPolicy.NACK_ON_ERROR,
        middlewares=[NatsTelemetryMiddleware(tracer_provider=tracer_provider(service_name))],
        # Outages of the broker are survived, not fatal: the outbox holds events meanwhile.
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        connect_timeout=5,
        graceful_timeout=10.0,
        logger=logging.getLogger(f"kp.{service_name}.broker"),
        log_level=logging.DEBUG,
    )
