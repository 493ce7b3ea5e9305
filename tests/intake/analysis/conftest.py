"""Intake with the synthetic autumn-2019 round loaded, on SQLite (and on PostgreSQL for the live tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient

from intake.app import create_app
from intake.settings import IntakeSettings
from intake.tables import proposals, rounds
from shared.auth import Role, RoleGrant, issue_token
from shared.settings import CommonSettings
from tests.intake.helpers import BACKENDS

__all__ = ["BACKENDS", "secretariat", "token"]

COMMON = CommonSettings(env="test")


@pytest.fixture
async def client(database_url: str, tmp_path: Path) -> AsyncIterator[AsyncClient]:
    app = create_app(IntakeSettings(database_url=database_url, common=CommonSettings(env="test", var_dir=tmp_path)))
    async with AsyncClient(transport=ASGITransport(app), base_url="http://intake.test") as http:
        http.app = app  # type: ignore[attr-defined]
        yield http
    await app.state.runtime.database.dispose()


def token(role: Role = Role.SECRETARIAT, region: str = "vest") -> str:
    """A session token as the registry issues it (signed with the test secret)."""
    return issue_token(COMMON.auth_secret, "user-1", (RoleGrant(role, region),), 600)


def secretariat(region: str = "vest") -> dict[str, str]:
    return {"Authorization": f"Bearer {token(Role.SECRETARIAT, region)}"}


@pytest.fixture
def add_round(client: AsyncClient) -> Callable[..., Awaitable[None]]:
    """Insert a round with proposals given as (municipality number, unit code, service area, theme) tuples."""

    async def insert(round_id: str, opens_at: datetime, closes_at: datetime,
                     items: list[tuple[str | None, str | None, str | None, str | None]]) -> None:
        database = client.app.state.runtime.database  # type: ignore[attr-defined]
        rows: list[dict[str, Any]] = [
            {
                "id": f"{round_id}-{i}", "reference": f"{round_id.upper()}-{i:04d}", "region": "vest",
                "round_id": round_id, "municipality_number": number, "unit_code": unit, "service_area": area,
                "theme": theme, "title": f"Testforslag {i}", "population": "Eldre", "intervention": "Tiltak",
                "comparison": "", "outcome": "Effekt", "background": "", "language": "nb", "status": "submitted",
                "submitted_at": opens_at.replace(hour=9 + i % 6, tzinfo=UTC), "proposer_name": "Test Person",
                "proposer_email": "test@example.no",
            }
            for i, (number, unit, area, theme) in enumerate(items, start=1)
        ]
        async with database.write() as session:
            await session.execute(rounds.insert().values(
                id=round_id, region="vest", name=f"Runde {round_id}", opens_at=opens_at, closes_at=closes_at,
            ))
            await session.execute(proposals.insert(), rows)

    return insert
