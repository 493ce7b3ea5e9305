"""Ingestion fixtures: intake's app on a migrated SQLite file with region keys for vest and nord."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from faststream.nats import TestNatsBroker
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select

from intake.app import MIGRATIONS, create_app
from intake.rounds import service as round_service
from intake.rounds.model import Round
from intake.settings import IntakeSettings
from intake.tables import inbox, ingest_quarantine, outbox, proposals
from intake.uow import IntakeUnitOfWork
from shared.auth import Role, RoleGrant, issue_token
from shared.db import Database, migrate_async
from shared.settings import CommonSettings

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "ingest"
EXAMPLE_CSV = EXAMPLES / "proposals.csv"
EXAMPLE_EVENT = EXAMPLES / "event.json"
KEYS = {"vest": "vest-region-key-for-tests-only", "nord": "nord-region-key-for-tests-only"}
OPEN_ROUND = "vest-demo"
CLOSED_ROUND = "vest-closed"


def key_hashes() -> dict[str, str]:
    return {region: hashlib.sha256(key.encode()).hexdigest() for region, key in KEYS.items()}


def rounds(now: datetime) -> tuple[Round, ...]:
    return (
        Round(OPEN_ROUND, "vest", "Demo", now - timedelta(days=10), now + timedelta(days=30)),
        Round(CLOSED_ROUND, "vest", "Closed", now - timedelta(days=40), now - timedelta(days=1)),
    )


def event(external_id: str = "BGO-2026-0201", *, event_id: str | None = None, **data: Any) -> dict[str, Any]:
    """The example CloudEvent with another external id (and event id) and some data fields changed."""
    body = copy.deepcopy(json.loads(EXAMPLE_EVENT.read_text(encoding="utf-8")))
    body["id"] = event_id or f"evt-{external_id}"
    body["subject"] = external_id
    body["data"] |= {"external_id": external_id, **data}
    return body


def region_key(region: str = "vest") -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[region]}"}


async def save_rounds(database: Database, now: datetime | None = None) -> None:
    for round_ in rounds(now or datetime.now(UTC)):
        await round_service.save_round(round_, IntakeUnitOfWork(database, outbox, inbox))


async def count(client: AsyncClient, table: Any, **where: Any) -> int:
    statement = select(func.count()).select_from(table)
    for column, value in where.items():
        statement = statement.where(table.c[column] == value)
    async with client.app.state.runtime.database.reader() as session:  # type: ignore[attr-defined]
        return int((await session.execute(statement)).scalar_one())


async def proposal_count(client: AsyncClient) -> int:
    return await count(client, proposals)


async def open_quarantine_count(client: AsyncClient) -> int:
    return await count(client, ingest_quarantine, status="open")


@pytest.fixture
def ingest_settings(tmp_path: Path) -> IntakeSettings:
    url = f"sqlite+aiosqlite:///{tmp_path}/intake.db"
    return IntakeSettings(
        database_url=url, common=CommonSettings(env="test", var_dir=tmp_path), ingest_keys=key_hashes()
    )


@pytest.fixture
async def ingest(ingest_settings: IntakeSettings) -> AsyncIterator[AsyncClient]:
    """A client of intake's app with an open and a closed round in region vest."""
    await migrate_async(MIGRATIONS, ingest_settings.database_url)
    app = create_app(ingest_settings)
    runtime = app.state.runtime
    await save_rounds(runtime.database)
    async with TestNatsBroker(runtime.broker), AsyncClient(transport=ASGITransport(app), base_url="http://t") as client:
        client.app = app  # type: ignore[attr-defined]
        yield client
    await runtime.database.dispose()


@pytest.fixture
def secretariat(ingest_settings: IntakeSettings) -> Callable[[str], dict[str, str]]:
    """Authorization headers for a secretariat user of the given region."""

    def headers(region: str = "vest") -> dict[str, str]:
        grants = (RoleGrant(Role.SECRETARIAT, region),)
        token = issue_token(ingest_settings.common.auth_secret, f"secretariat-{region}", grants, 600)
        return {"Authorization": f"Bearer {token}"}

    return headers
