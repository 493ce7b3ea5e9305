"""Baseline: a bare FastAPI + SQLAlchemy endpoint that inserts one row, on the same SQLite settings as
the services (WAL, synchronous=FULL, one writer), so the intake figure can be read as a ratio of it."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import Column, Integer, MetaData, String, Table, insert

from shared.db import Database, UtcDateTime

metadata = MetaData()
rows = Table(
    "rows", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("title", String(200), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)


class RowIn(BaseModel):
    title: str


def create() -> FastAPI:
    database = Database(os.environ["BENCH_DATABASE_URL"])
    app = FastAPI()

    @app.on_event("startup")
    async def create_table() -> None:
        async with database.engine.begin() as connection:
            await connection.run_sync(metadata.create_all)

    @app.post("/rows", status_code=201)
    async def add_row(body: RowIn) -> dict[str, int]:
        lock = database.write_lock
        assert lock is not None
        async with lock, database.writer() as session:
            result = await session.execute(insert(rows).values(title=body.title, created_at=datetime.now(UTC)))
            await session.commit()
            return {"id": int(result.inserted_primary_key[0])}  # type: ignore[index]

    return app


def create_noop() -> FastAPI:
    """No database at all: what the HTTP stack and the load generator alone cost."""
    app = FastAPI()

    @app.post("/rows", status_code=201)
    async def add_row(body: RowIn) -> dict[str, int]:
        return {"id": len(body.title)}

    return app
