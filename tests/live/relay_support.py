"""An outbox of its own for the relay's live tests, fault tests and benchmark: the shared outbox and inbox
tables on a fresh database, events staged through the shared unit of work as a use case stages them, and
the stream's contents read back by Nats-Msg-Id. No service is imported: the relay is the code under test."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import nats
from nats.aio.client import Client
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy import MetaData, Table, select

from shared.contracts import events
from shared.contracts.envelope import new_event_id
from shared.contracts.subjects import PROPOSAL_SUBMITTED, RECEIPT_REQUESTED
from shared.db import Database
from shared.messaging.tables import inbox_table, outbox_table
from shared.messaging.uow import UnitOfWork

METADATA = MetaData()
OUTBOX: Table = outbox_table(METADATA)
INBOX: Table = inbox_table(METADATA)


async def connect(url: str) -> Client:
    """A nats-py client that keeps reconnecting (a test may kill and restart the server); `url` may list
    several servers, comma-separated."""
    async def quiet(_error: Exception) -> None:
        """A test kills servers on purpose: nats-py's default would log each failed reconnect as an error."""

    return await nats.connect(
        [part.strip() for part in url.split(",")], name="kp-live-test", max_reconnect_attempts=-1,
        reconnect_time_wait=0.2, connect_timeout=5, error_cb=quiet,
    )


async def outbox_database(url: str) -> Database:
    """A database with nothing but the outbox and inbox tables, as every service's migrations create them."""
    database = Database(url)
    async with database.read_engine.begin() as connection:
        await connection.run_sync(METADATA.create_all)
    return database


def proposal(title: str = "Fall prevention at home") -> events.ProposalSubmittedV1:
    proposal_id = new_event_id()
    return events.ProposalSubmittedV1(
        proposal_id=proposal_id, reference=f"VEST-2026-{proposal_id[-6:]}", region="vest", round_id="vest-2026",
        municipality_number="4601", title=title,
        question=events.EffectQuestion(population="Elderly", intervention="Training", outcome="Fewer falls"),
        submitted_at=datetime.now(UTC),
    )


async def stage(database: Database, count: int, *, with_receipts: bool = False) -> list[str]:
    """Commit `count` proposal events in one unit of work (and as many receipt requests on the contacts
    stream with `with_receipts`); returns the event ids in commit order."""
    ids: list[str] = []
    async with UnitOfWork(database, OUTBOX, INBOX) as uow:
        for _ in range(count):
            data = proposal()
            ids.append(uow.publish(PROPOSAL_SUBMITTED, region="vest", subject_id=data.proposal_id, data=data))
            if with_receipts:
                receipt = events.ReceiptRequestedV1(
                    proposal_id=data.proposal_id, reference=data.reference, title=data.title,
                    recipient=events.Recipient(name="Kari Nordmann", email="kari@example.no"),
                )
                ids.append(uow.publish(RECEIPT_REQUESTED, region="vest", subject_id=data.proposal_id, data=receipt))
        await uow.commit()
    return ids


async def outbox_rows(database: Database) -> list[Any]:
    async with database.reader() as session:
        return list((await session.execute(select(OUTBOX).order_by(OUTBOX.c.id))).mappings().all())


async def stream_msg_ids(nc: Client, stream: str, *, timeout: float = 30.0) -> Counter[str]:
    """How often each Nats-Msg-Id is stored in `stream`, read with one ephemeral consumer (fast for thousands)."""
    js = nc.jetstream()
    info = await js.stream_info(stream)
    expected = info.state.messages
    found: Counter[str] = Counter()
    if expected == 0:
        return found
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            subscription = await js.pull_subscribe(
                info.config.subjects[0] if info.config.subjects else ">", stream=stream,
                config=ConsumerConfig(
                    ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL, inactive_threshold=60.0,
                ),
            )
            break
        except nats.errors.TimeoutError:
            # A cluster that just lost a node may still be electing the leader that creates consumers.
            if asyncio.get_running_loop().time() > deadline:
                raise
    try:
        while sum(found.values()) < expected and asyncio.get_running_loop().time() < deadline:
            try:
                for message in await subscription.fetch(1000, timeout=2.0):
                    found[(message.headers or {}).get("Nats-Msg-Id", "")] += 1
            except nats.errors.TimeoutError:
                continue
    finally:
        await subscription.unsubscribe()
    return found
