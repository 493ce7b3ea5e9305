"""Other regions publish to `kp.ingest.<region>.proposal.v1` on a real nats-server: acknowledged once handled,
quarantined when invalid (never dead-lettered or dropped), retried when the handling failed, and one proposal per
external id however often it arrives. On SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from nats.aio.client import Client
from sqlalchemy import func, select

from intake.app import MIGRATIONS, create_app
from intake.ingestion import service as ingestion
from intake.settings import IntakeSettings
from intake.tables import ingest_quarantine, proposals
from kp_cli.nats_server import NatsServer
from shared.contracts.ingest import ingest_subject
from shared.contracts.streams import DLQ, INGEST, INTAKE
from shared.contracts.subjects import INTAKE_INGEST_PROPOSAL
from shared.db import migrate_async
from shared.messaging.bootstrap import bootstrap_streams
from shared.settings import CommonSettings
from tests.intake.ingestion.conftest import event, save_rounds
from tests.support.live import connect, stream_messages
from tests.support.postgres import EmbeddedPostgres
from tests.support.waiting import eventually

pytestmark = pytest.mark.live


@pytest.fixture(scope="session")
def ingest_postgres() -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}"
    server: EmbeddedPostgres = request.getfixturevalue("ingest_postgres")
    return await server.create_database()


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    server = NatsServer(store_dir=tmp_path / "js", log_file=tmp_path / "nats-server.log").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def nc(nats_server: NatsServer) -> AsyncIterator[Client]:
    """A client after the bootstrap step created every stream and durable, intake-ingest-proposal included."""
    client = await connect(nats_server.url)
    await bootstrap_streams(client)
    try:
        yield client
    finally:
        await client.close()


@asynccontextmanager
async def running_intake(database_url: str, nats_url: str, var_dir: Path) -> AsyncIterator[FastAPI]:
    """Intake's real app with a real broker, started as its lifespan starts it, migrated first."""
    await migrate_async(MIGRATIONS, database_url)
    app = create_app(
        IntakeSettings(database_url=database_url, common=CommonSettings(nats_url=nats_url, env="test", var_dir=var_dir))
    )
    runtime = app.state.runtime
    await save_rounds(runtime.database)
    await runtime.start()
    try:
        await eventually(lambda: runtime.broker_connected, timeout=20, message="intake's broker connects")
        yield app
    finally:
        await runtime.stop()


async def publish(nc: Client, body: dict[str, Any] | bytes, msg_id: str, region: str = "vest") -> None:
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    await nc.jetstream().publish(
        ingest_subject(region), payload, headers={"Nats-Msg-Id": msg_id}, stream=INGEST, timeout=5.0
    )


async def count(app: FastAPI, table: Any, **where: Any) -> int:
    statement = select(func.count()).select_from(table)
    for column, value in where.items():
        statement = statement.where(table.c[column] == value)
    async with app.state.runtime.database.reader() as session:
        return int((await session.execute(statement)).scalar_one())


async def all_acknowledged(nc: Client) -> bool:
    info = await nc.jsm().consumer_info(INGEST, INTAKE_INGEST_PROPOSAL.durable)
    return info.num_pending == 0 and info.num_ack_pending == 0


async def test_a_malformed_message_is_quarantined_and_the_next_good_one_still_flows(
    nc: Client, nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
    async with running_intake(database_url, nats_server.url, tmp_path) as app:
        await publish(nc, b"{this is not json", "m-1")
        await publish(nc, event("NATS-1", title="x"), "m-2")
        await publish(nc, event("NATS-2"), "m-3")
        await publish(nc, event("NATS-2", event_id="sent-again"), "m-4")  # the region's system sends it again

        async def settled() -> bool:
            return await count(app, proposals) == 1 and await count(app, ingest_quarantine, status="open") == 2

        await eventually(settled, timeout=30, message="one proposal and two quarantine entries")
        await eventually(lambda: all_acknowledged(nc), timeout=30, message="every message acknowledged")
        async with app.state.runtime.database.reader() as session:
            entries = {row.kind: row for row in await session.execute(select(ingest_quarantine))}
        assert json.loads(entries["text"].reasons)[0]["rule"] == "json_invalid"
        assert json.loads(entries["event"].reasons)[0]["field"] == "data.title"
        assert entries["text"].source == "kp.ingest.vest.proposal.v1"
        # The quarantine is the dead-letter store for submissions: nothing went to KP_DLQ.
        assert await stream_messages(nc, DLQ) == []

        async def announced() -> bool:
            return any(m.subject == "kp.intake.vest.proposal.submitted.v1" for m in await stream_messages(nc, INTAKE))

        await eventually(announced, timeout=30, message="the relay publishes the new proposal's event")
        await publish(nc, event("NATS-3"), "m-5")

        async def two_proposals() -> bool:
            return await count(app, proposals) == 2

        await eventually(two_proposals, timeout=30, message="later messages still flow")


async def test_a_redelivered_submission_makes_one_proposal(
    nc: Client, nats_server: NatsServer, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_ingest = ingestion.ingest
    outcomes: list[str] = []

    async def crash_once_after_the_work(*args: Any, **kwargs: Any) -> Any:
        """Do the work, then fail before the ack the first time, as a process killed at that moment would."""
        outcome = await real_ingest(*args, **kwargs)
        outcomes.append(outcome.status)
        if len(outcomes) == 1:
            raise RuntimeError("crashed before the acknowledgement")
        return outcome

    monkeypatch.setattr(ingestion, "ingest", crash_once_after_the_work)
    async with running_intake(database_url, nats_server.url, tmp_path) as app:
        await publish(nc, event("NATS-9"), "r-1")

        await eventually(lambda: len(outcomes) >= 2, timeout=30, message="the message is delivered again")
        await eventually(lambda: all_acknowledged(nc), timeout=30, message="acknowledged after the retry")
        assert outcomes[:2] == ["accepted", "duplicate"]
        assert await count(app, proposals) == 1
        assert await count(app, ingest_quarantine) == 0
