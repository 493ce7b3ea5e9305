"""The broker factory: explicit acks, reconnect forever, telemetry on every publish and consume.

Also what every NATS client of the project shares: how `KP_NATS_URL` names its servers (one URL, or a
comma-separated list of a cluster's servers), and how a broker error is told in one log line.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from faststream import AckPolicy
from faststream.nats import NatsBroker
from faststream.nats.opentelemetry import NatsTelemetryMiddleware

from shared.telemetry import tracer_provider


def nats_servers(nats_url: str) -> list[str]:
    """`nats://a:4222,nats://b:4222` → both URLs. nats-py and FastStream take a list of servers, never a
    comma-separated string (a string is one URL, and `nats://a,nats://b` is an invalid one)."""
    servers = [part.strip() for part in nats_url.split(",") if part.strip()]
    if not servers:
        raise ValueError("no NATS server given: set KP_NATS_URL to one URL or a comma-separated list")
    return servers


def describe_error(error: BaseException) -> str:
    """`Class: message` for a log line or `outbox.last_error`; several NATS errors have an empty message,
    and a bare class name ("Error", "TimeoutError") hides the cause."""
    message = str(error).strip()
    name = type(error).__name__
    if not message:
        return name
    return message if message.startswith(name) else f"{name}: {message}"


def is_routine_failure(error: BaseException) -> bool:
    """A failure that a failover, a broker restart or a database restart causes and time cures.

    These are logged as warnings with their message; anything else is a bug and gets a traceback."""
    from nats.errors import Error as NatsError
    from sqlalchemy.exc import DBAPIError, OperationalError

    return isinstance(error, NatsError | TimeoutError | asyncio.TimeoutError | OSError | OperationalError) or (
        isinstance(error, DBAPIError) and error.connection_invalidated
    )


class RoutineFailuresAsWarnings(logging.Filter):
    """FastStream logs a broken connection, and a subscriber's fetch that failed while JetStream elected a
    leader, with the exception's traceback (the latter at ERROR). A failover is routine: one WARNING line
    with the cause, no traceback; anything else passes unchanged."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is not None and is_routine_failure(error):
            record.msg = f"{record.getMessage()} ({describe_error(error)})"
            record.args = None
            record.exc_info = None
            record.exc_text = None
            if record.levelno > logging.WARNING:
                record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def broker_logger(service_name: str) -> logging.Logger:
    logger = logging.getLogger(f"kp.{service_name}.broker")
    if not any(isinstance(f, RoutineFailuresAsWarnings) for f in logger.filters):
        logger.addFilter(RoutineFailuresAsWarnings())
    return logger


ReconnectedCallback = Callable[[], Awaitable[None]]


def create_broker(
    nats_url: str, service_name: str, *, on_reconnected: ReconnectedCallback | None = None
) -> NatsBroker:
    """A broker that never terminates a message because a handler raised (pitfall 1).

    `nats_url` may list several servers (a cluster), comma-separated; `on_reconnected` runs each time the
    connection is back (the outbox relay stops backing off then)."""
    return NatsBroker(
        nats_servers(nats_url),
        name=f"kp-{service_name}",
        # A handler that raises is nacked, not terminated; handlers nack with a delay themselves.
        ack_policy=AckPolicy.NACK_ON_ERROR,
        middlewares=[NatsTelemetryMiddleware(tracer_provider=tracer_provider(service_name))],
        # Outages of the broker are survived, not fatal: the outbox holds events meanwhile.
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        connect_timeout=5,
        graceful_timeout=10.0,
        reconnected_cb=on_reconnected,
        logger=broker_logger(service_name),
        log_level=logging.DEBUG,
    )
