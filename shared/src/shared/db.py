"""Database engines (SQLite for the embedded default, PostgreSQL in production) and Alembic per service."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import DateTime, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that comes back timezone-aware in UTC on every database (SQLite stores no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store timestamps with a time zone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


# The writer runs on the event loop's thread (see sqlite_inline): a busy wait there would stall every
# request, so it is short; other processes writing the same file (a seed, a migration) are brief.
WRITER_BUSY_TIMEOUT_SECONDS = 5.0


def _sqlite_engine(url: str, *, writer: bool) -> AsyncEngine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    if writer and database and database != ":memory:":
        from shared.sqlite_inline import inline_creator

        engine = create_async_engine(url, async_creator=inline_creator(database, WRITER_BUSY_TIMEOUT_SECONDS))
    else:
        engine = create_async_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine.sync_engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Transactions are begun by the "begin" hook below, not lazily by the driver.
        if dbapi_connection.isolation_level is not None:
            dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk when it returns, so an acknowledged proposal survives a power cut.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int((WRITER_BUSY_TIMEOUT_SECONDS if writer else 30) * 1000)}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Any) -> None:
        # A writing transaction takes the lock up front: one that reads and later writes must not
        # fail with SQLITE_BUSY halfway. Readers begin deferred and never block in WAL mode.
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

    return engine


class Database:
    """One service's store: a writer and a reader side (the same pool on PostgreSQL)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite = is_sqlite(url)
        if self.sqlite:
            self.engine = _sqlite_engine(url, writer=True)
            self.read_engine = _sqlite_engine(url, writer=False)
            # SQLite has one writer: queue writers in-process rather than in SQLite's sleeping busy handler.
            self._write_lock: asyncio.Lock | None = asyncio.Lock()
        else:
            self.engine = create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
            self.read_engine = self.engine
            self._write_lock = None
        self.writer = async_sessionmaker(self.engine, expire_on_commit=False)
        self.reader = async_sessionmaker(self.read_engine, expire_on_commit=False)

    @property
    def write_lock(self) -> asyncio.Lock | None:
        return self._write_lock

    async def ping(self) -> None:
        async with self.read_engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()


def reader_session(database: Database) -> AsyncSession:
    return database.reader()


def alembic_config(migrations_dir: Path, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(migrations_dir: Path, url: str, revision: str = "head") -> None:
    """Upgrade one service's database to `revision` (a separate step, never implicit in a request)."""
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(migrations_dir, url), revision)


async def migrate_async(migrations_dir: Path, url: str, revision: str = "head") -> None:
    """`migrate` from inside a running event loop (Alembic's env runs its own loop, so use a thread)."""
    await asyncio.to_thread(migrate, migrations_dir, url, revision)


def dialect_insert(session: AsyncSession) -> Any:
    """The dialect's INSERT construct, which offers ON CONFLICT on both SQLite and PostgreSQL."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
