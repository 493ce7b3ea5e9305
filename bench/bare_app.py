"""Baseline: a bare FastAPI + SQLAlchemy endpoint that inserts one row, written the way a small app
usually is (an async engine on aiosqlite, one session and commit per request), on the same SQLite
durability settings as the services (WAL, synchronous=FULL), so the intake figure reads as a ratio."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import Column, Integer, MetaData, String, Table, event, insert
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from shared.db import UtcDateTime

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
    engine = create_async_engine(os.environ["BENCH_DATABASE_URL"])

    @event.listens_for(engine.sync_engine, "connect")
    def _durable(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    sessions = async_sessionmaker(engine, expire_on_commit=False)
    one_writer = asyncio.Lock()  # SQLite has one writer; without it, writers fail with "database is locked"
    app = FastAPI()

    @app.on_event("startup")
    async def create_table() -> None:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)

    @app.post("/rows", status_code=201)
    async def add_row(body: RowIn) -> dict[str, int]:
        async with one_writer, sessions() as session:
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
