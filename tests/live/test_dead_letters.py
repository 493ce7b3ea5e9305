"""Messages that can never succeed go to KP_DLQ with their reason, are acknowledged, and can be replayed."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from nats.aio.client import Client
from nats.js.api import AckPolicy as JsAckPolicy
from nats.js.api import ConsumerConfig
from sqlalchemy import func, select

from kp_cli.nats_server import NatsServer
from scoring.candidates import service as use_cases
from scoring.tables import candidates, inbox
from shared.contracts.envelope import CloudEvent
from shared.contracts.streams import DLQ, INTAKE
from shared.contracts.subjects import (
    PROPOSAL_SUBMITTED,
    PROPOSAL_SUBMITTED_V1,
    SCORING_PROPOSAL_SUBMITTED,
    ConsumerSpec,
)
from shared.db import Database
from shared.messaging.bootstrap import bootstrap_streams
from shared.messaging.consumer import PermanentError
from shared.messaging.deadletters import DeadLetter, list_dead_letters, replay_dead_letter
from tests.support.live import (
    proposal_envelope,
    publish_event,
    running_scoring,
    scoring_database,
    scoring_uow,
    stream_messages,
    subscribed,
)
from tests.support.waiting import eventually

pytestmark = pytest.mark.live

SUBJECT = PROPOSAL_SUBMITTED.subject("vest")  # kp.intake.vest.proposal.submitted.v1

GIVING_UP = ConsumerSpec(
    "live-giving-up", INTAKE, PROPOSAL_SUBMITTED_V1, "scoring", max_deliver=3, ack_wait_seconds=10.0,
    description="A live test's consumer whose handler fails until it is fixed",
)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    database = await scoring_database(database_url)
    try:
        yield database
    finally:
        await database.dispose()


async def count(database: Database, table: Any) -> int:
    async with database.reader() as session:
        return int((await session.execute(select(func.count()).select_from(table))).scalar_one())


async def letters_for(nc: Client, consumer: str) -> list[DeadLetter]:
    return [letter for letter in await list_dead_letters(nc) if letter.consumer == consumer]


async def test_malformed_messages_are_dead_lettered_with_the_reason_and_the_next_event_flows(
    database_url: str, nats_server: NatsServer, nc: Client
) -> None:
    unknown_version = proposal_envelope() | {"type": "kp.intake.proposal.submitted.v9"}
    bad_field = proposal_envelope()
    bad_field["data"]["submitted_at"] = "the day before yesterday"
    valid = proposal_envelope(round_id="vest-2026")
    seqs = {
        "not json": await publish_event(nc, b"{this is not JSON", msg_id="poison-1"),
        "unknown type": await publish_event(nc, unknown_version),
        "bad field": await publish_event(nc, bad_field),
    }
    valid_seq = await publish_event(nc, valid)
    durable = SCORING_PROPOSAL_SUBMITTED

    async with running_scoring(database_url, nats_server.url) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://scoring.test") as client:

            async def candidate_listed() -> bool:
                response = await client.get("/api/scoring/v1/rounds/vest-2026/candidates")
                return [c["proposal_id"] for c in response.json()] == [valid["data"]["proposal_id"]]

            await eventually(candidate_listed, timeout=30, message="the valid event after the poison still flows")

        async def all_acknowledged() -> bool:
            info = await nc.jsm().consumer_info(durable.stream, durable.durable)
            return info.ack_floor.stream_seq >= valid_seq and info.num_ack_pending == 0

        await eventually(all_acknowledged, timeout=30, message="the poison messages are acknowledged")

        async def three_letters() -> list[DeadLetter]:
            found = await letters_for(nc, durable.durable)
            return found if len(found) == 3 else []

        letters = await eventually(three_letters, timeout=20, message="three dead letters")

    by_seq = {letter.stream_seq: letter for letter in letters}
    assert set(by_seq) == set(seqs.values())
    for letter in letters:
        assert letter.stream == INTAKE and letter.subject == SUBJECT
        assert letter.deliveries == 1, "a message that can never succeed is not retried"
    assert by_seq[seqs["not json"]].reason.startswith("not JSON")
    assert "kp.intake.proposal.submitted.v9" in by_seq[seqs["unknown type"]].reason
    assert "unknown event type" in by_seq[seqs["unknown type"]].reason
    bad_reason = by_seq[seqs["bad field"]].reason
    assert "data.submitted_at" in bad_reason
    assert "the day before yesterday" not in bad_reason, "a reason names the field, not its (maybe personal) value"
    info = await nc.jsm().consumer_info(durable.stream, durable.durable)
    assert info.num_redelivered == 0 and info.num_pending == 0


async def test_a_handler_that_keeps_failing_is_dead_lettered_after_max_deliver_and_replayed_once_fixed(
    database: Database, nats_server: NatsServer, nc: Client
) -> None:
    broken = True
    attempts: list[float] = []

    async def on_proposal_submitted(event: CloudEvent[Any]) -> None:
        attempts.append(time.monotonic())
        if broken:
            raise LookupError("criteria set for the round is missing")
        command = use_cases.AddCandidate.from_event(event, GIVING_UP.durable)
        await use_cases.add_candidate(command, scoring_uow(database))

    event = proposal_envelope()
    seq = await publish_event(nc, event)
    async with subscribed(nats_server.url, nc, GIVING_UP, on_proposal_submitted):
        [letter] = await eventually(lambda: letters_for(nc, GIVING_UP.durable), timeout=30)
        assert letter.stream == INTAKE and letter.stream_seq == seq and letter.subject == SUBJECT
        assert letter.deliveries == GIVING_UP.max_deliver
        assert letter.reason.startswith(f"failed {GIVING_UP.max_deliver} times")
        assert "LookupError: criteria set for the round is missing" in letter.reason

        async def given_up() -> bool:
            info = await nc.jsm().consumer_info(GIVING_UP.stream, GIVING_UP.durable)
            return info.ack_floor.stream_seq >= seq and info.num_ack_pending == 0

        await eventually(given_up, timeout=20, message="the last attempt is acknowledged, not left hanging")
        assert len(attempts) == GIVING_UP.max_deliver
        assert await count(database, candidates) == 0

        # The operator fixes the cause and replays the dead letter.
        broken = False
        replayed_to = await replay_dead_letter(nc, letter)
        assert replayed_to == SUBJECT

        async def handled() -> bool:
            return await count(database, candidates) == 1

        await eventually(handled, timeout=30, message="the replayed event is handled by the fixed consumer")

    assert await count(database, inbox) == 1
    assert await letters_for(nc, GIVING_UP.durable) == [], "a replayed dead letter leaves the list"
    replayed = [m for m in await stream_messages(nc, INTAKE) if (m.headers or {}).get("Kp-Replay-Of")]
    assert len(replayed) == 1
    assert json.loads(replayed[0].data or b"") == event, "the original message is replayed unchanged"
    assert (replayed[0].headers or {})["Kp-Replay-Of"] == f"{INTAKE}/{seq}"


async def test_a_consumer_that_never_acknowledges_is_dead_lettered_by_the_server_advisory(
    nats_server: NatsServer, nc: Client
) -> None:
    # A consumer process that dies on every attempt never records a dead letter itself: the server's
    # MAX_DELIVERIES advisory, captured by KP_DLQ, does.
    durable = "live-never-acks"
    await nc.jsm().add_consumer(
        INTAKE,
        ConsumerConfig(
            durable_name=durable, filter_subject=PROPOSAL_SUBMITTED_V1, ack_policy=JsAckPolicy.EXPLICIT,
            max_deliver=2, ack_wait=1.0,
        ),
    )
    event = proposal_envelope()
    seq = await publish_event(nc, event)
    subscription = await nc.jetstream().pull_subscribe(PROPOSAL_SUBMITTED_V1, durable=durable, stream=INTAKE)
    for _ in range(2):
        [message] = await subscription.fetch(1, timeout=10)  # taken, and never acknowledged
        assert message.metadata.sequence.stream == seq

    over_delivered: list[Any] = []

    async def advisory_captured() -> list[DeadLetter]:
        # The server notices the exhausted message when the consumer asks for more, as a live one keeps doing.
        with contextlib.suppress(TimeoutError):
            over_delivered.extend(await subscription.fetch(1, timeout=0.5))
        return await letters_for(nc, durable)

    [letter] = await eventually(advisory_captured, timeout=30, message="the advisory is captured")
    assert over_delivered == [], "never more than max_deliver deliveries"
    assert letter.stream == INTAKE and letter.stream_seq == seq
    assert letter.deliveries == 2
    assert "max deliveries" in letter.reason
    assert (await nc.jsm().stream_info(DLQ)).state.messages == 1

    await replay_dead_letter(nc, letter)
    [replayed] = await subscription.fetch(1, timeout=10)
    assert json.loads(replayed.data) == event
    await replayed.ack()
    assert await letters_for(nc, durable) == []


async def test_a_message_a_consumer_terminates_is_dead_lettered_by_the_server_advisory(
    nats_server: NatsServer, nc: Client
) -> None:
    # Terminating a message (FastStream's reject, a tool, another client) stops its redelivery for good:
    # the MSG_TERMINATED advisory, captured by KP_DLQ, keeps it from being dropped silently.
    durable = "live-terminates"
    await nc.jsm().add_consumer(
        INTAKE,
        ConsumerConfig(
            durable_name=durable, filter_subject=PROPOSAL_SUBMITTED_V1, ack_policy=JsAckPolicy.EXPLICIT,
            max_deliver=5, ack_wait=10.0,
        ),
    )
    event = proposal_envelope()
    seq = await publish_event(nc, event)
    subscription = await nc.jetstream().pull_subscribe(PROPOSAL_SUBMITTED_V1, durable=durable, stream=INTAKE)
    [message] = await subscription.fetch(1, timeout=10)
    await message.term()

    [letter] = await eventually(lambda: letters_for(nc, durable), timeout=20, message="the advisory is captured")
    assert letter.stream == INTAKE and letter.stream_seq == seq and letter.deliveries == 1
    assert "terminated" in letter.reason

    await replay_dead_letter(nc, letter)
    [replayed] = await subscription.fetch(1, timeout=10)
    assert json.loads(replayed.data) == event
    await replayed.ack()


async def test_an_event_the_service_can_never_handle_is_dead_lettered_at_once(
    database: Database, nats_server: NatsServer, nc: Client
) -> None:
    attempts = 0

    async def on_proposal_submitted(event: CloudEvent[Any]) -> None:
        nonlocal attempts
        attempts += 1
        async with scoring_uow(database) as uow:
            await uow.claim(GIVING_UP.durable, event.id)
            await uow.candidates.add(use_cases.AddCandidate.from_event(event, GIVING_UP.durable).candidate)
            raise PermanentError("the round is not known to scoring")  # before the commit: nothing is kept

    seq = await publish_event(nc, proposal_envelope())
    async with subscribed(nats_server.url, nc, GIVING_UP, on_proposal_submitted):
        [letter] = await eventually(lambda: letters_for(nc, GIVING_UP.durable), timeout=30)

        async def acknowledged() -> bool:
            info = await nc.jsm().consumer_info(GIVING_UP.stream, GIVING_UP.durable)
            return info.ack_floor.stream_seq >= seq and info.num_ack_pending == 0

        await eventually(acknowledged, timeout=20)
    assert attempts == 1 and letter.deliveries == 1
    assert letter.stream_seq == seq
    assert letter.reason == "the round is not known to scoring"
    assert await count(database, candidates) == 0
    assert await count(database, inbox) == 0


async def test_a_poison_message_waits_with_a_delay_while_the_dead_letter_store_is_away(
    database: Database, nats_server: NatsServer, nc: Client
) -> None:
    # If KP_DLQ cannot take the record, the message must be kept and tried again later (never at once, which
    # would burn max_deliver in milliseconds), so that it is recorded once the store is back.
    spec = dataclasses.replace(GIVING_UP, durable="live-dlq-away", max_deliver=5)
    jsm = nc.jsm()
    await jsm.delete_stream(DLQ)

    async def on_proposal_submitted(event: CloudEvent[Any]) -> None:
        raise AssertionError("a message that is not JSON never reaches the handler")

    seq = await publish_event(nc, b"\x00 not JSON at all", msg_id="poison-dlq-away")
    async with subscribed(nats_server.url, nc, spec, on_proposal_submitted):

        async def tried_twice() -> bool:
            info = await jsm.consumer_info(spec.stream, spec.durable)
            return info.delivered.consumer_seq >= 2

        await eventually(tried_twice, timeout=20, message="the consumer tries to dead-letter the message")
        await bootstrap_streams(nc)  # the store is back

        [letter] = await eventually(lambda: letters_for(nc, spec.durable), timeout=30, message="recorded later")

    assert letter.stream == INTAKE and letter.stream_seq == seq
    assert letter.reason.startswith("not JSON")
    assert 2 <= letter.deliveries < spec.max_deliver
