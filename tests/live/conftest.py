"""Live-layer fixtures: one real PostgreSQL per session, a real nats-server per test, both on free ports."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from nats.aio.client import Client

from kp_cli.nats_server import NatsServer
from shared.messaging.bootstrap import bootstrap_streams
from tests.live.relay_support import connect
from tests.support.postgres import EmbeddedPostgres


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[EmbeddedPostgres]:
    """Started on first use, stopped by its PID when the session ends."""
    server = EmbeddedPostgres().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_backend(request: pytest.FixtureRequest) -> EmbeddedPostgres | None:
    if request.param == "postgresql":
        server: EmbeddedPostgres = request.getfixturevalue("postgres_server")
        return server
    return None


@pytest.fixture
async def database_url(database_backend: EmbeddedPostgres | None, tmp_path: Path) -> str:
    """A fresh, empty database: a SQLite file in tmp_path, or a new database on the session's PostgreSQL."""
    if database_backend is None:
        return f"sqlite+aiosqlite:///{tmp_path / 'service.db'}"
    return await database_backend.create_database()


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    """A nats-server of this test's own, JetStream in tmp_path; a test may kill and restart it."""
    server = NatsServer(store_dir=tmp_path / "js", log_file=tmp_path / "nats-server.log").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def nc(nats_server: NatsServer) -> AsyncIterator[Client]:
    """A client on the test's server, after the bootstrap step created every stream and durable."""
    client = await connect(nats_server.url)
    await bootstrap_streams(client)
    try:
        yield client
    finally:
        await client.close()
