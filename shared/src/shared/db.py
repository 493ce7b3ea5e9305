"""Database engines (SQLite for the embedded default, PostgreSQL in production) and Alembic per service."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.config import Config
from sqlalchemy import DateTime, Engine, create_engine, event, text
from sqlalchemy.engine import Connection, make_url
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


# The writer runs on the event loop's thread (see SqliteGroupCommit): a busy wait there would stall
# every request, so it is short; other processes writing the same file (a seed, a migration) are brief.
WRITER_BUSY_TIMEOUT_SECONDS = 5.0


def _configure_sqlite(engine: Engine, *, writer: bool) -> None:
    @event.listens_for(engine, "connect")
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

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # A writing transaction takes the lock up front: one that reads and later writes must not
        # fail with SQLITE_BUSY halfway. Readers begin deferred and never block in WAL mode.
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")


def _sqlite_file(url: str) -> str:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise ValueError("a service's SQLite database must be a file: readers and the writer share it")
    Path(database).parent.mkdir(parents=True, exist_ok=True)
    return database


def _sqlite_reader_engine(url: str) -> AsyncEngine:
    """Reads, which may be long (analysis pages), run on aiosqlite's thread and never block the loop."""
    _sqlite_file(url)
    engine = create_async_engine(url, connect_args={"timeout": 30})
    _configure_sqlite(engine.sync_engine, writer=False)
    return engine


def _sqlite_writer_engine(url: str) -> Engine:
    """The writer is synchronous, on purpose: see SqliteGroupCommit."""
    engine = create_engine(f"sqlite:///{_sqlite_file(url)}", connect_args={"check_same_thread": False})
    _configure_sqlite(engine, writer=True)
    return engine


class InlineSession:
    """The part of AsyncSession that repositories use, served synchronously by the SQLite writer.

    Each call runs on the event loop's thread and returns without suspending, so a unit of work's
    statements run back to back: no thread hand-off per statement, no greenlet, no other task
    slipping in between. Writes to a local SQLite file take microseconds; the one slow step, the
    COMMIT's fsync, happens once per group.
    """

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._savepoint = connection.begin_nested()

    async def execute(self, statement: Any, params: Any = None, **kwargs: Any) -> Any:
        return self._connection.execute(statement, params, **kwargs)

    async def scalar(self, statement: Any, params: Any = None, **kwargs: Any) -> Any:
        return self._connection.scalar(statement, params, **kwargs)

    def get_bind(self) -> Connection:
        return self._connection

    async def commit(self) -> None:
        self._savepoint.commit()  # RELEASE SAVEPOINT: part of the group's transaction

    async def rollback(self) -> None:
        if self._savepoint.is_active:
            self._savepoint.rollback()

    async def close(self) -> None:
        await self.rollback()


class WriteUnit:
    """One unit of work's write transaction. `commit` returns once the writes are durable."""

    session: AsyncSession

    async def commit(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        """Roll back whatever was not committed and give the writer back."""
        raise NotImplementedError


class _PlainWriteUnit(WriteUnit):
    """PostgreSQL: a session of the pool, its own transaction, committed by itself."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def commit(self) -> None:
        await self.session.commit()

    async def close(self) -> None:
        await self.session.close()


class SqliteGroupCommit:
    """SQLite's one writer, shared by every unit of work of the process, with group commit.

    Units run one after another on one connection, each inside a SAVEPOINT of a transaction that
    stays open while more units are queued. A unit that commits releases its savepoint and waits;
    once the queue is drained, one COMMIT (one fsync, with synchronous=FULL) makes the whole group
    durable and answers every waiting unit. A unit that fails rolls back to its own savepoint and
    leaves the others alone; if the COMMIT itself fails, every unit of the group gets the error and
    none of their writes remain. Units never see half of another's work: they run strictly in turn.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = asyncio.Lock()
        self._connection: Connection | None = None
        self._waiting: list[asyncio.Future[None]] = []
        self._flush: asyncio.Task[None] | None = None
        self.groups_committed = 0

    async def open_unit(self) -> WriteUnit:
        await self._lock.acquire()
        try:
            if self._connection is None:
                self._connection = self._engine.connect()
            if not self._connection.in_transaction():
                self._connection.begin()
            session = InlineSession(self._connection)
        except BaseException:
            self._lock.release()
            raise
        return _SqliteWriteUnit(self, session)

    async def _finish(self, session: InlineSession, committed: bool) -> asyncio.Future[None] | None:
        """Called with the lock held: end the unit's savepoint, queue it for the group's COMMIT."""
        try:
            if committed:
                await session.commit()
                future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                self._waiting.append(future)
                if self._flush is None:
                    self._flush = asyncio.create_task(self._commit_group(), name="sqlite-group-commit")
                return future
            await session.rollback()
            if not self._waiting and self._connection is not None and self._connection.in_transaction():
                # Nothing of the group to keep: end the transaction so other processes can write.
                self._connection.rollback()
            return None
        finally:
            self._lock.release()

    async def _commit_group(self) -> None:
        # Queued behind every unit already waiting for the lock (asyncio.Lock is fair), so they join.
        async with self._lock:
            waiting, self._waiting = self._waiting, []
            self._flush = None
            assert self._connection is not None
            try:
                self._connection.commit()
            except Exception as error:
                with contextlib.suppress(Exception):
                    self._connection.rollback()
                for future in waiting:
                    if not future.done():
                        future.set_exception(GroupCommitFailed(f"the group commit failed: {error!r}"))
                return
            self.groups_committed += 1
            for future in waiting:
                if not future.done():
                    future.set_result(None)

    async def drain(self) -> None:
        """Wait for the group that is being committed (at shutdown)."""
        if self._flush is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._flush)

    async def close(self) -> None:
        await self.drain()
        async with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None


class GroupCommitFailed(Exception):
    """The COMMIT of a group of units failed; none of the group's writes remain."""


class _SqliteWriteUnit(WriteUnit):
    def __init__(self, writer: SqliteGroupCommit, session: InlineSession) -> None:
        self._writer = writer
        self._inline = session
        # Repositories are written against AsyncSession; InlineSession serves the calls they make.
        self.session = cast(AsyncSession, session)
        self._finished = False

    async def commit(self) -> None:
        self._finished = True
        future = await self._writer._finish(self._inline, committed=True)
        assert future is not None
        await future

    async def close(self) -> None:
        if not self._finished:
            self._finished = True
            await self._writer._finish(self._inline, committed=False)


class Database:
    """One service's store. Writes go through `open_write_unit`/`write`; reads through `reader`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite = is_sqlite(url)
        self._group: SqliteGroupCommit | None = None
        self._writer_sessions: async_sessionmaker[AsyncSession] | None = None
        self.sync_engines: list[Engine]
        if self.sqlite:
            self.write_engine = _sqlite_writer_engine(url)
            self.read_engine = _sqlite_reader_engine(url)
            # SQLite has one writer: units queue in-process and commit in groups (see SqliteGroupCommit).
            self._group = SqliteGroupCommit(self.write_engine)
            self.sync_engines = [self.write_engine, self.read_engine.sync_engine]
        else:
            self.read_engine = create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
            self._writer_sessions = async_sessionmaker(self.read_engine, expire_on_commit=False)
            self.sync_engines = [self.read_engine.sync_engine]
        self.reader = async_sessionmaker(self.read_engine, expire_on_commit=False)

    async def open_write_unit(self) -> WriteUnit:
        """A write transaction: SQLite's shared group-committed writer, or a session of the pool."""
        if self._group is not None:
            return await self._group.open_unit()
        assert self._writer_sessions is not None
        return _PlainWriteUnit(self._writer_sessions())

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A block of writes, durably committed when the block ends without an error."""
        unit = await self.open_write_unit()
        try:
            yield unit.session
            await unit.commit()
        finally:
            await unit.close()

    async def ping(self) -> None:
        async with self.read_engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        if self._group is not None:
            await self._group.close()
            self.write_engine.dispose()
        await self.read_engine.dispose()


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
