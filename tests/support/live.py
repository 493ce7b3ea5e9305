"""Helpers for the live layer: a real nats-server, real databases, real services' apps."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import nats
from fastapi import FastAPI
from faststream.nats import NatsBroker
from nats.aio.client import Client
from nats.js.api import RawStreamMsg
from nats.js.errors import NotFoundError

from intake.app import MIGRATIONS as INTAKE_MIGRATIONS
from intake.proposals import service as proposal_service
from intake.proposals.model import EffectQuestion, Proposer
from intake.rounds import service as round_service
from intake.rounds.model import Round
from intake.tables import inbox as intake_inbox
from intake.tables import outbox as intake_outbox
from intake.uow import IntakeUnitOfWork
from scoring.app import MIGRATIONS as SCORING_MIGRATIONS
from scoring.app import create_app as create_scoring_app
from scoring.settings import ScoringSettings
from scoring.tables import inbox as scoring_inbox
from scoring.tables import outbox as scoring_outbox
from scoring.uow import ScoringUnitOfWork
from shared.contracts import events
from shared.contracts.envelope import CloudEvent, envelope, new_event_id
from shared.contracts.subjects import PROPOSAL_SUBMITTED, ConsumerSpec
from shared.db import Database, migrate_async
from shared.messaging.broker import create_broker
from shared.messaging.consumer import consumer_config, event_subscriber
from shared.settings import CommonSettings
from tests.support.waiting import eventually

__all__ = [
    "INTAKE_MIGRATIONS",
    "SCORING_MIGRATIONS",
    "connect",
    "intake_database",
    "intake_uow",
    "open_round",
    "proposal_data",
    "proposal_envelope",
    "publish_event",
    "running_scoring",
    "scoring_database",
    "scoring_uow",
    "stream_messages",
    "submit",
    "subscribed",
]


async def connect(url: str) -> Client:
    """A nats-py client that keeps reconnecting (a test may kill and restart the server)."""
    return await nats.connect(
        url, name="kp-live-test", max_reconnect_attempts=-1, reconnect_time_wait=0.2, connect_timeout=5,
    )


async def stream_messages(nc: Client, stream: str) -> list[RawStreamMsg]:
    """Every message stored in `stream`, oldest first."""
    jsm = nc.jsm()
    info = await jsm.stream_info(stream)
    found: list[RawStreamMsg] = []
    if info.state.messages == 0:
        return found
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        try:
            found.append(await jsm.get_msg(stream, seq))
        except NotFoundError:
            continue
    return found


def proposal_data(
    *, round_id: str = "vest-2026", proposal_id: str | None = None, **changes: Any
) -> events.ProposalSubmittedV1:
    proposal_id = proposal_id or new_event_id()
    fields: dict[str, Any] = {
        "proposal_id": proposal_id,
        "reference": f"VEST-2026-{proposal_id[-4:]}",
        "region": "vest",
        "round_id": round_id,
        "municipality_number": "4601",
        "title": "Fall prevention at home",
        "question": events.EffectQuestion(
            population="Elderly living at home", intervention="Strength training", outcome="Fewer falls",
        ),
        "submitted_at": datetime.now(UTC),
    }
    return events.ProposalSubmittedV1(**(fields | changes))


def proposal_envelope(data: events.ProposalSubmittedV1 | None = None, **kwargs: Any) -> dict[str, Any]:
    """A valid CloudEvent for `kp.intake.proposal.submitted.v1`."""
    data = data or proposal_data(**kwargs)
    return envelope(
        service="intake", event_type=PROPOSAL_SUBMITTED.type, subject=data.proposal_id, region="vest", data=data,
    )


async def publish_event(
    nc: Client, body: dict[str, Any] | bytes, *, msg_id: str | None = None, subject: str | None = None
) -> int:
    """Publish straight onto the intake stream, as intake's relay (or a misbehaving producer) would."""
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Nats-Msg-Id": msg_id or (body["id"] if isinstance(body, dict) else new_event_id())}
    ack = await nc.jetstream().publish(
        subject or PROPOSAL_SUBMITTED.subject("vest"), payload, headers=headers, stream=PROPOSAL_SUBMITTED.stream,
        timeout=5.0,
    )
    return int(ack.seq)


async def intake_database(url: str) -> Database:
    """Intake's database, migrated: its outbox is the one the relay tests publish from."""
    await migrate_async(INTAKE_MIGRATIONS, url)
    return Database(url)


def intake_uow(database: Database) -> IntakeUnitOfWork:
    return IntakeUnitOfWork(database, intake_outbox, intake_inbox)


async def open_round(database: Database, round_id: str = "vest-2026") -> Round:
    now = datetime.now(UTC)
    round_ = Round(
        id=round_id, region="vest", name="Vest 2026", opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=30),
    )
    await round_service.save_round(round_, intake_uow(database))
    return round_


async def submit(
    database: Database | None = None,
    round_id: str = "vest-2026",
    title: str = "Fall prevention at home",
    *,
    uow: IntakeUnitOfWork | None = None,
) -> str:
    """Intake's real use case: one commit with the proposal, its domain event and its receipt request."""
    if uow is None:
        assert database is not None
        uow = intake_uow(database)
    result = await proposal_service.submit_proposal(
        proposal_service.SubmitProposal(
            region="vest", round_id=round_id, municipality_number="4601", title=title,
            question=EffectQuestion("Elderly living at home", "Strength training", "", "Fewer falls"),
            background="", proposer=Proposer("Kari Nordmann", "kari@example.no"), consent=True,
        ),
        uow,
    )
    return result.id


@asynccontextmanager
async def running_scoring(database_url: str, nats_url: str) -> AsyncIterator[FastAPI]:
    """Scoring's real app with a real broker, started as its lifespan would, migrated first."""
    await migrate_async(SCORING_MIGRATIONS, database_url)
    app = create_scoring_app(
        ScoringSettings(database_url=database_url, common=CommonSettings(nats_url=nats_url, env="test"))
    )
    runtime = app.state.runtime
    await runtime.start()
    try:
        await eventually(lambda: runtime.broker_connected, timeout=20, message="scoring's broker connects")
        yield app
    finally:
        await runtime.stop()


async def scoring_database(url: str) -> Database:
    """Scoring's database, migrated: the test handlers below work on its candidates and inbox."""
    await migrate_async(SCORING_MIGRATIONS, url)
    return Database(url)


def scoring_uow(database: Database, uow_class: type[ScoringUnitOfWork] = ScoringUnitOfWork) -> ScoringUnitOfWork:
    return uow_class(database, scoring_outbox, scoring_inbox)



@asynccontextmanager
async def subscribed(
    nats_url: str, nc: Client, spec: ConsumerSpec, handler: Callable[[CloudEvent[Any]], Awaitable[None]]
) -> AsyncIterator[NatsBroker]:
    """A broker built like a service's, with `handler` on the durable `spec` through the shared subscriber.

    The durable is created first, as the bootstrap step does for the contracts' consumers (pitfall 4).
    """
    await nc.jsm().add_consumer(spec.stream, consumer_config(spec))
    broker = create_broker(nats_url, "live-test")
    event_subscriber(broker, spec, [PROPOSAL_SUBMITTED])(handler)
    await broker.start()
    try:
        yield broker
    finally:
        await broker.stop()
