"""Dead letters: messages that can never succeed are recorded in KP_DLQ with the reason.

A record points at the original message by stream and sequence rather than copying it, so a
contact message's personal data is not duplicated. The server's MAX_DELIVERIES advisories (for a
consumer that died on its last attempt) and MSG_TERMINATED advisories (for a message a consumer
terminated) land in the same stream, and every kind can be replayed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from faststream.nats import NatsBroker
from nats.aio.client import Client
from nats.js.errors import NotFoundError

from shared.contracts.streams import DLQ
from shared.contracts.subjects import DEAD_LETTER_PREFIX, ConsumerSpec

ADVISORY_PREFIX = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES."
TERMINATED_PREFIX = "$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED."


@dataclass(frozen=True)
class DeadLetter:
    dlq_seq: int
    consumer: str
    stream: str
    stream_seq: int
    subject: str
    deliveries: int
    reason: str
    dead_at: str


async def record_dead_letter(
    broker: NatsBroker, consumer: ConsumerSpec, *, stream: str, stream_seq: int, subject: str, deliveries: int,
    reason: str,
) -> None:
    """Store one dead letter; the msg id makes a repeated attempt for the same message a no-op."""
    record = {
        "consumer": consumer.durable,
        "service": consumer.service,
        "stream": stream,
        "stream_seq": stream_seq,
        "subject": subject,
        "deliveries": deliveries,
        "reason": reason[:2000],
        "dead_at": datetime.now(UTC).isoformat(),
    }
    await broker.publish(
        json.dumps(record).encode(),
        f"{DEAD_LETTER_PREFIX}.{consumer.service}.{consumer.durable}",
        headers={"Nats-Msg-Id": f"dlq-{consumer.durable}-{stream}-{stream_seq}", "content-type": "application/json"},
        stream=DLQ,
        timeout=5.0,
    )


def _parse(seq: int, subject: str, data: bytes) -> DeadLetter | None:
    try:
        body: dict[str, Any] = json.loads(data)
    except ValueError:
        return None
    if subject.startswith((ADVISORY_PREFIX, TERMINATED_PREFIX)):
        if subject.startswith(ADVISORY_PREFIX):
            reason = "max deliveries reached without an acknowledgement (server advisory)"
        else:
            given = str(body.get("reason") or "").strip()
            reason = "terminated by the consumer (server advisory)" + (f": {given}" if given else "")
        return DeadLetter(
            dlq_seq=seq,
            consumer=str(body.get("consumer", "")),
            stream=str(body.get("stream", "")),
            stream_seq=int(body.get("stream_seq", 0)),
            subject="",
            deliveries=int(body.get("deliveries", 0)),
            reason=reason,
            dead_at=str(body.get("timestamp", "")),
        )
    return DeadLetter(
        dlq_seq=seq,
        consumer=str(body.get("consumer", "")),
        stream=str(body.get("stream", "")),
        stream_seq=int(body.get("stream_seq", 0)),
        subject=str(body.get("subject", "")),
        deliveries=int(body.get("deliveries", 0)),
        reason=str(body.get("reason", "")),
        dead_at=str(body.get("dead_at", "")),
    )


async def list_dead_letters(nc: Client, limit: int = 1000) -> list[DeadLetter]:
    """Every dead letter still in KP_DLQ, oldest first."""
    jsm = nc.jsm()
    info = await jsm.stream_info(DLQ)
    letters: list[DeadLetter] = []
    if info.state.messages == 0:
        return letters
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        try:
            raw = await jsm.get_msg(DLQ, seq)
        except NotFoundError:
            continue
        letter = _parse(seq, raw.subject or "", raw.data or b"")
        if letter is not None:
            letters.append(letter)
        if len(letters) >= limit:
            break
    return letters


async def replay_dead_letter(nc: Client, letter: DeadLetter) -> str:
    """Publish the original message again (its consumers' inboxes skip what they already did) and
    remove the dead letter. Returns the subject it was replayed to."""
    jsm = nc.jsm()
    js = nc.jetstream()
    original = await jsm.get_msg(letter.stream, letter.stream_seq)
    subject = original.subject or letter.subject
    headers = dict(original.headers or {})
    original_id = headers.get("Nats-Msg-Id", f"{letter.stream}-{letter.stream_seq}")
    headers["Nats-Msg-Id"] = f"{original_id}-replay-{letter.dlq_seq}"
    headers["Kp-Replay-Of"] = f"{letter.stream}/{letter.stream_seq}"
    await js.publish(subject, original.data or b"", headers=headers, stream=letter.stream, timeout=5.0)
    await jsm.delete_msg(DLQ, letter.dlq_seq)
    return subject
