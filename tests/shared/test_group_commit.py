"""SQLite's shared writer: units commit in groups, fail alone, and leave nothing half-written."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select
from sqlalchemy.engine import Connection

from shared.db import Database, GroupCommitFailed

metadata = MetaData()
notes = Table("notes", metadata, Column("id", Integer, primary_key=True), Column("text", String(50), nullable=False))


@pytest.fixture
async def database(tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/group.db")
    metadata.create_all(db.write_engine)
    yield db
    await db.dispose()


async def texts(db: Database) -> list[str]:
    async with db.reader() as session:
        return sorted((await session.execute(select(notes.c.text))).scalars())


async def write_note(db: Database, text: str, fail: bool = False) -> None:
    unit = await db.open_write_unit()
    try:
        await unit.session.execute(insert(notes).values(text=text))
        await asyncio.sleep(0)  # let other units queue up behind this one
        if fail:
            raise RuntimeError("the use case changed its mind")
        await unit.commit()
    finally:
        await unit.close()


async def test_concurrent_units_are_all_durable_and_share_commits(database, monkeypatch):
    commits = 0
    connection_commit = Connection.commit

    def counting_commit(self):  # type: ignore[no-untyped-def]
        nonlocal commits
        commits += 1
        connection_commit(self)

    monkeypatch.setattr(Connection, "commit", counting_commit)
    await asyncio.gather(*(write_note(database, f"note {i}") for i in range(40)))
    assert await texts(database) == sorted(f"note {i}" for i in range(40))
    assert 1 <= commits < 40, "every unit paid for its own COMMIT"


async def test_a_failing_unit_is_rolled_back_alone(database):
    results = await asyncio.gather(
        write_note(database, "kept 1"), write_note(database, "dropped", fail=True), write_note(database, "kept 2"),
        return_exceptions=True,
    )
    assert isinstance(results[1], RuntimeError)
    assert await texts(database) == ["kept 1", "kept 2"]


async def test_a_failed_group_commit_fails_every_unit_and_keeps_nothing(database, monkeypatch):
    original = Connection.commit
    calls = 0

    def failing_once(self):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("disk full")
        original(self)

    monkeypatch.setattr(Connection, "commit", failing_once)
    results = await asyncio.gather(*(write_note(database, f"lost {i}") for i in range(5)), return_exceptions=True)
    assert all(isinstance(r, GroupCommitFailed) for r in results)
    assert await texts(database) == []
    await write_note(database, "after the failure")
    assert await texts(database) == ["after the failure"]


async def test_a_rolled_back_unit_leaves_the_file_free_for_other_writers(database, tmp_path):
    with pytest.raises(RuntimeError):
        await write_note(database, "never", fail=True)
    other = sqlite3.connect(tmp_path / "group.db", timeout=0.5)
    other.execute("INSERT INTO notes (text) VALUES ('from another process')")
    other.commit()
    other.close()
    assert await texts(database) == ["from another process"]
