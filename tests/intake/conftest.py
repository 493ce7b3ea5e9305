"""Intake's service-layer fixtures: the app on a migrated SQLite file with FastStream's in-memory broker, and the
autumn-2019 round on SQLite or PostgreSQL (`BACKENDS`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from faststream.nats import TestNatsBroker
from httpx import ASGITransport, AsyncClient

from intake.app import MIGRATIONS, create_app
from intake.rounds import service as round_service
from intake.settings import IntakeSettings
from intake.tables import inbox, outbox
from intake.uow import IntakeUnitOfWork
from kp_cli.seed_2019 import load_demo_2019
from shared.auth import Role, RoleGrant, issue_token
from shared.db import migrate_async
from shared.settings import CommonSettings
from tests.intake.helpers import seeded_rounds
from tests.support.postgres import EmbeddedPostgres


@pytest.fixture
def settings_for(tmp_path) -> Callable[..., IntakeSettings]:
    def build(**changes: Any) -> IntakeSettings:
        url = f"sqlite+aiosqlite:///{tmp_path}/intake.db"
        return IntakeSettings(database_url=url, common=CommonSettings(env="test", var_dir=tmp_path), **changes)

    return build


@pytest.fixture
async def intake(settings_for) -> AsyncIterator[AsyncClient]:
    """A client of intake's app (lifespan not started: no clock, no relay), with three rounds in region vest."""
    settings = settings_for()
    await migrate_async(MIGRATIONS, settings.database_url)
    app = create_app(settings)
    runtime = app.state.runtime
    for round_ in seeded_rounds():
        await round_service.save_round(round_, IntakeUnitOfWork(runtime.database, outbox, inbox))
    async with TestNatsBroker(runtime.broker), AsyncClient(transport=ASGITransport(app), base_url="http://t") as client:
        client.app = app  # type: ignore[attr-defined]
        yield client
    await runtime.database.dispose()


@pytest.fixture
def bearer(intake: AsyncClient) -> Callable[..., dict[str, str]]:
    """Authorization headers for a user with the given role grants, signed with the app's secret."""

    def headers(*grants: tuple[Role, str], subject: str = "user-1") -> dict[str, str]:
        secret = intake.app.state.runtime.settings.common.auth_secret  # type: ignore[attr-defined]
        token = issue_token(secret, subject, tuple(RoleGrant(role, region) for role, region in grants), 600)
        return {"Authorization": f"Bearer {token}"}

    return headers


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[EmbeddedPostgres]:
    """One PostgreSQL for the session, started on first use and stopped by its PID."""
    server = EmbeddedPostgres().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated intake database with `kp seed demo-2019` loaded (SQLite unless parametrized otherwise)."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}"
    else:
        server: EmbeddedPostgres = request.getfixturevalue("postgres_server")
        url = await server.create_database()
    await migrate_async(MIGRATIONS, url)
    assert await load_demo_2019(url) == 66
    return url
