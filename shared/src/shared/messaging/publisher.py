"""Pipelined JetStream publishes for the outbox relay: a whole batch in flight, its PubAcks awaited together.

One publish waiting for its PubAck before the next is sent costs a round trip (and, with
`sync_interval: always`, an fsync) per event; nats-py's `publish_async` sends every message of the
batch at once and the server acknowledges them as fast as it stores them. Every message carries
`Nats-Msg-Id` = the event id, so a retry after a lost PubAck is deduplicated by the stream, and the
`traceparent`/`tracestate` of its own publish span, a child of the request's stored context, so the
consumers (FastStream's telemetry middleware reads these headers) join the request's trace.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import PubAck
from nats.js.client import JetStreamContext
from opentelemetry import trace
from opentelemetry.propagate import extract, inject
from opentelemetry.trace import SpanKind, Status, StatusCode

from shared.contracts.envelope import CONTENT_TYPE
from shared.messaging.broker import describe_error, is_routine_failure

# A row of the outbox table as SQLAlchemy returns it (a RowMapping) or as a test builds it.
OutboxRow = Mapping[Any, Any]


class BrokerUnavailable(ConnectionError):
    """The connection to NATS is down (it reconnects by itself); nothing was sent."""


class PubAckTimeout(TimeoutError):
    """No PubAck came in time. The message may still have been stored: the retry carries the same
    Nats-Msg-Id, so the stream drops it as a duplicate (pitfall 6)."""


@dataclass(frozen=True)
class PublishOutcome:
    """One row's result: the PubAck, or why there is none (the row stays pending). Neither: published to
    the in-memory test broker, which acknowledges nothing."""

    ack: PubAck | None = None
    error: BaseException | None = None


# JetStream announces each stream's new leader in the account; after a failover, that is when to retry.
LEADER_ELECTED = "$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.>"


class JetStreamPublisher:
    """Publishes outbox rows on the broker's nats-py connection, many in flight at once.

    `on_leader_elected` is called when a stream gets a new leader (a failover ended): a relay backing off
    because its stream had none retries at once instead of at the end of its pause. `in_memory` publishes
    one row when the broker is FastStream's in-memory test broker, which has no nats-py connection."""

    def __init__(
        self, connection: Callable[[], Client], tracer: trace.Tracer, *, timeout: float, window: int,
        on_leader_elected: Callable[[], Awaitable[None]] | None = None,
        in_memory: Callable[[OutboxRow, dict[str, str]], Awaitable[None]] | None = None,
    ) -> None:
        self._connection = connection
        self._tracer = tracer
        self._timeout = timeout
        self._window = window
        self._on_leader_elected = on_leader_elected
        self._in_memory = in_memory
        # One JetStream context per connection: each owns a reply subscription for its PubAcks, so a new
        # context per batch would leave subscriptions behind.
        self._context: tuple[Client, JetStreamContext] | None = None
        # Every publish future a batch got back and still waits for (batches may overlap).
        self._waiting: set[asyncio.Future[PubAck]] = set()

    def _client(self) -> Client:
        try:
            client = self._connection()
        except Exception as error:  # the broker was never connected, or was stopped
            raise BrokerUnavailable(f"not connected to NATS: {describe_error(error)}") from error
        if isinstance(client, Client) and not client.is_connected:
            # Messages published now would wait in the client's buffer until it reconnects; send none.
            raise BrokerUnavailable("not connected to NATS (reconnecting)")
        return client

    async def _jetstream(self, client: Client) -> JetStreamContext:
        if self._context is None or self._context[0] is not client:
            self._context = (client, client.jetstream(publish_async_max_pending=self._window))
            if self._on_leader_elected is not None:
                on_leader_elected = self._on_leader_elected

                async def leader_elected(_message: Msg) -> None:
                    await on_leader_elected()

                # nats-py renews the subscription after each reconnect.
                await client.subscribe(LEADER_ELECTED, cb=leader_elected)
        return self._context[1]

    async def publish(self, rows: Sequence[OutboxRow]) -> list[PublishOutcome]:
        """Send every row, then wait (at most `timeout` after the last send) for all their PubAcks."""
        try:
            client = self._client()
        except BrokerUnavailable as error:
            # Every row records why it waits (its last_error), as operators read it in `kp outbox status`.
            return [PublishOutcome(error=error)] * len(rows)
        if not isinstance(client, Client) and self._in_memory is not None:
            return await self._publish_in_memory(rows)
        js = await self._jetstream(client)
        spans: list[trace.Span] = []
        futures: list[asyncio.Future[PubAck]] = []
        send_error: BaseException | None = None
        for row in rows:
            spans.append(span := self._start_span(row))
            try:
                future = await js.publish_async(
                    row["subject"], row["payload"].encode(), stream=row["stream"], headers=self._headers(row, span),
                )
            except Exception as error:
                send_error = error
                break
            futures.append(future)
            self._waiting.add(future)
            future.add_done_callback(self._waiting.discard)
        if futures:
            await asyncio.wait(futures, timeout=self._timeout)
        outcomes = [self._outcome(future) for future in futures]
        if send_error is not None:
            _forget_unsent(js, self._waiting)
            if not is_routine_failure(send_error):
                _end(spans, [PublishOutcome(error=send_error)] * len(spans))
                raise send_error  # a bug: the relay logs it with its traceback
            # The connection broke mid-batch: the rest waits for the retry.
            outcomes += [PublishOutcome(error=send_error)] * (len(rows) - len(futures))
        _end(spans, outcomes)
        return outcomes

    async def _publish_in_memory(self, rows: Sequence[OutboxRow]) -> list[PublishOutcome]:
        assert self._in_memory is not None
        outcomes = []
        for row in rows:
            span = self._start_span(row)
            try:
                await self._in_memory(row, self._headers(row, span))
                outcomes.append(PublishOutcome())
            except Exception as error:
                outcomes.append(PublishOutcome(error=error))
            _end([span], outcomes[-1:])
        return outcomes

    def _start_span(self, row: OutboxRow) -> trace.Span:
        # The request's stored context is the parent: the publish, and through its headers every
        # consumer, joins the trace of the request that committed the event.
        parent = extract(json.loads(row["trace_headers"] or "{}"))
        return self._tracer.start_span(
            f"{row['subject']} publish", context=parent, kind=SpanKind.PRODUCER,
            # Few attributes: each one is validated per span, and this runs for every event (the kind says
            # "publish", the name the subject).
            attributes={"messaging.system": "nats", "messaging.message.id": row["event_id"]},
        )

    @staticmethod
    def _headers(row: OutboxRow, span: trace.Span) -> dict[str, str]:
        headers = {"Nats-Msg-Id": row["event_id"], "content-type": CONTENT_TYPE}
        inject(headers, context=trace.set_span_in_context(span))
        return headers

    def _outcome(self, future: asyncio.Future[PubAck]) -> PublishOutcome:
        if not future.done():
            future.cancel()  # gives its place in nats-py's window back
            return PublishOutcome(error=PubAckTimeout(f"no PubAck within {self._timeout:g} s"))
        if future.cancelled():
            return PublishOutcome(error=PubAckTimeout("the publish was cancelled"))
        error = future.exception()
        if error is not None:
            return PublishOutcome(error=error)
        return PublishOutcome(ack=future.result())


def _end(spans: Sequence[trace.Span], outcomes: Sequence[PublishOutcome]) -> None:
    for span, outcome in zip(spans, outcomes, strict=False):
        if outcome.error is not None:
            span.set_status(Status(StatusCode.ERROR, describe_error(outcome.error)))
        span.end()


def _forget_unsent(js: JetStreamContext, waiting: set[asyncio.Future[PubAck]]) -> None:
    """nats-py registers a publish's future before it sends, and leaves it behind when the send raises,
    holding a slot of its window forever. The relay's context is its own, so every future it holds that
    no batch got back is such a leftover: cancel it, which frees the slot."""
    mine = {id(future) for future in waiting}
    leftovers: dict[str, asyncio.Future[Any]] = getattr(js, "_publish_async_futures", {})
    for future in list(leftovers.values()):
        if id(future) not in mine and not future.done():
            future.cancel()
