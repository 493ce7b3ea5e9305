"""Idempotent, explicitly acknowledged event subscribers on durable pull consumers.

The wrapper decides what happens to each message:
- it parses and validates the CloudEvent; a message that can never parse goes to the dead letters;
- the handler's own transient failure is nacked *with a delay* (a plain nack would burn max_deliver
  in milliseconds), and on the last allowed attempt it is dead-lettered with the reason;
- success is acknowledged. Handlers make redeliveries harmless with the inbox (`UnitOfWork.claim`).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from faststream import AckPolicy
from faststream.exceptions import NackMessage
from faststream.nats import ConsumerConfig, JStream, NatsBroker, NatsMessage, PullSub
from nats.aio.msg import Msg
from nats.errors import NotJSMessageError
from nats.js.api import AckPolicy as JsAckPolicy
from nats.js.api import DeliverPolicy
from pydantic import ValidationError

from shared.contracts.envelope import CloudEvent
from shared.contracts.subjects import ConsumerSpec, EventSpec
from shared.messaging.deadletters import record_dead_letter
from shared.telemetry import get_logger

log = get_logger("kp.consumer")

Handler = Callable[[CloudEvent[Any]], Awaitable[None]]


class PermanentError(Exception):
    """The event is well-formed but can never be handled (e.g. it contradicts the service's rules)."""


def consumer_config(spec: ConsumerSpec) -> ConsumerConfig:
    """The one definition of a durable's config, used by the bootstrap step and the subscriber."""
    return ConsumerConfig(
        durable_name=spec.durable,
        name=spec.durable,
        description=spec.description or None,
        filter_subject=spec.filter_subject,
        ack_policy=JsAckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        max_deliver=spec.max_deliver,
        ack_wait=spec.ack_wait_seconds,
        max_ack_pending=spec.max_ack_pending,
    )


def retry_delay(deliveries: int) -> float:
    """Exponential backoff between attempts: 0.5 s, 1 s, 2 s … at most 30 s."""
    return float(min(30.0, 0.5 * 2 ** max(0, deliveries - 1)))


def validation_reason(error: ValidationError) -> str:
    """Which fields broke which rule, without echoing the values (they may be personal data)."""
    parts = [
        f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}"
        for e in error.errors(include_input=False, include_url=False)
    ]
    return "invalid event: " + "; ".join(parts)


def parse_event(body: bytes, accepts: Sequence[EventSpec]) -> CloudEvent[Any]:
    """Parse an envelope for one of the accepted event types, or raise ValueError with the reason."""
    try:
        raw = json.loads(body)
    except ValueError as error:
        raise ValueError(f"not JSON: {error.__class__.__name__}") from None
    if not isinstance(raw, dict):
        raise ValueError("not a CloudEvent: the body is not a JSON object")
    event_type = raw.get("type")
    spec = next((s for s in accepts if s.type == event_type), None)
    if spec is None:
        raise ValueError(f"unknown event type or version: {event_type!r}")
    try:
        return CloudEvent[spec.model].model_validate(raw)  # type: ignore[name-defined]
    except ValidationError as error:
        raise ValueError(validation_reason(error)) from None


def delivery_info(raw: Msg, spec: ConsumerSpec) -> tuple[int, dict[str, Any]]:
    """How often the message was delivered and where it is stored. The in-memory test broker has no
    JetStream metadata: it counts as a first delivery at sequence 0."""
    try:
        meta = raw.metadata
    except NotJSMessageError:
        return 1, {"stream": spec.stream, "stream_seq": 0, "subject": raw.subject}
    location = {"stream": meta.stream, "stream_seq": meta.sequence.stream, "subject": raw.subject}
    return meta.num_delivered or 1, location


def subscribe_durable(
    broker: NatsBroker, spec: ConsumerSpec, on_message: Callable[[NatsMessage], Awaitable[None]], *, batch_size: int
) -> None:
    """Attach `on_message` to the durable pull consumer `spec`, which the bootstrap step created.

    The stream is referenced, never declared (pitfall 5), the consumer's config is the bootstrap's own
    (pitfall 4), and a raised handler is nacked, not terminated (pitfall 1). Its docstring describes it
    in AsyncAPI."""
    broker.subscriber(
        spec.filter_subject,
        stream=JStream(spec.stream, declare=False),
        durable=spec.durable,
        pull_sub=PullSub(batch_size=batch_size, timeout=2.0),
        config=consumer_config(spec),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        title=spec.durable,
        description=on_message.__doc__,
    )(on_message)


def event_subscriber(
    broker: NatsBroker, spec: ConsumerSpec, accepts: Sequence[EventSpec], *, batch_size: int = 16
) -> Callable[[Handler], Handler]:
    """Register `handler` on the durable `spec`; the handler's docstring describes it in AsyncAPI."""

    def register(handler: Handler) -> Handler:
        async def on_message(message: NatsMessage) -> None:
            raw = message.raw_message
            deliveries, location = delivery_info(raw, spec)

            async def dead_letter(reason: str) -> None:
                try:
                    await record_dead_letter(broker, spec, deliveries=deliveries, reason=reason, **location)
                except Exception as error:
                    # The dead-letter store did not take it: keep the message and try again later. A plain
                    # nack would burn max_deliver in milliseconds and lose it silently (pitfall 2).
                    log.warning(
                        "event.dead_letter_failed", consumer=spec.durable, deliveries=deliveries,
                        error=type(error).__name__, **location,
                    )
                    raise NackMessage(delay=retry_delay(deliveries)) from error

            try:
                event = parse_event(raw.data, accepts)
            except ValueError as error:
                log.warning("event.dead_lettered", consumer=spec.durable, reason=str(error), **location)
                await dead_letter(str(error))
                return
            try:
                await handler(event)
            except PermanentError as error:
                log.warning("event.dead_lettered", consumer=spec.durable, event_id=event.id, reason=str(error))
                await dead_letter(str(error))
            except Exception as error:
                reason = f"{type(error).__name__}: {str(error)[:300]}"
                if deliveries >= spec.max_deliver:
                    log.error("event.gave_up", consumer=spec.durable, event_id=event.id, deliveries=deliveries)
                    await dead_letter(f"failed {deliveries} times; last: {reason}")
                    return
                delay = retry_delay(deliveries)
                log.warning(
                    "event.retry", consumer=spec.durable, event_id=event.id, deliveries=deliveries,
                    delay=delay, error=type(error).__name__,
                )
                raise NackMessage(delay=delay) from error

        on_message.__name__ = handler.__name__
        on_message.__doc__ = handler.__doc__
        subscribe_durable(broker, spec, on_message, batch_size=batch_size)
        return handler

    return register


Context = TypeVar("Context")
ContextHandler = Callable[[CloudEvent[Any], Context], Awaitable[None]]
RawHandler = Callable[[NatsMessage, Context], Awaitable[None]]


@dataclass(frozen=True)
class _Registration(Generic[Context]):
    spec: ConsumerSpec
    accepts: tuple[EventSpec, ...]
    handler: ContextHandler[Context]
    batch_size: int


@dataclass(frozen=True)
class _RawRegistration(Generic[Context]):
    spec: ConsumerSpec
    handler: RawHandler[Context]
    batch_size: int


class EventRouter(Generic[Context]):
    """A feature's subscribers, declared at module level like an APIRouter; `create_app` attaches them.

    ```python
    events = EventRouter[ScoringRuntime]()

    @events.subscriber(SCORING_PROPOSAL_SUBMITTED, PROPOSAL_SUBMITTED)
    async def on_proposal_submitted(event: CloudEvent[ProposalSubmittedV1], runtime: ScoringRuntime) -> None:
        await add_candidate(AddCandidate.from_event(event), runtime.unit_of_work())
    ```
    The handler gets the typed event and the service's runtime (its unit of work, mailer, settings); the
    wrapper in `event_subscriber` parses, dead-letters and retries.
    """

    def __init__(self) -> None:
        self.registrations: list[_Registration[Context]] = []
        self.raw_registrations: list[_RawRegistration[Context]] = []

    def subscriber(
        self, spec: ConsumerSpec, *accepts: EventSpec, batch_size: int = 16
    ) -> Callable[[ContextHandler[Context]], ContextHandler[Context]]:
        def register(handler: ContextHandler[Context]) -> ContextHandler[Context]:
            self.registrations.append(_Registration(spec, tuple(accepts), handler, batch_size))
            return handler

        return register

    def raw_subscriber(
        self, spec: ConsumerSpec, *, batch_size: int = 16
    ) -> Callable[[RawHandler[Context]], RawHandler[Context]]:
        """A handler of the durable's messages as they arrive, for streams that carry no CloudEvents of ours
        (other regions' submissions on KP_INGEST). It decides itself what to retry, keep or give up on; a raised
        exception is nacked, never terminated (pitfall 1)."""

        def register(handler: RawHandler[Context]) -> RawHandler[Context]:
            self.raw_registrations.append(_RawRegistration(spec, handler, batch_size))
            return handler

        return register

    def attach(self, broker: NatsBroker, context: Context) -> None:
        """Subscribe every handler on `broker`, each called with the event (or message) and `context`."""
        for registration in self.registrations:
            event_subscriber(broker, registration.spec, registration.accepts, batch_size=registration.batch_size)(
                _bound(registration.handler, context)
            )
        for raw in self.raw_registrations:
            subscribe_durable(broker, raw.spec, _bound_raw(raw.handler, context), batch_size=raw.batch_size)


def _bound(handler: ContextHandler[Context], context: Context) -> Handler:
    async def call(event: CloudEvent[Any]) -> None:
        await handler(event, context)

    call.__name__ = handler.__name__
    call.__doc__ = handler.__doc__
    return call


def _bound_raw(handler: RawHandler[Context], context: Context) -> Callable[[NatsMessage], Awaitable[None]]:
    async def call(message: NatsMessage) -> None:
        await handler(message, context)

    call.__name__ = handler.__name__
    call.__doc__ = handler.__doc__
    return call
