"""Screening fixtures: the intake app of tests/intake/conftest.py, the region's secretariat, proposals to screen."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from httpx import AsyncClient

from shared.auth import Role
from tests.intake.helpers import outbox_rows, proposal

API = "/api/intake/v1/screening"


@pytest.fixture
def secretariat(bearer) -> dict[str, str]:
    return bearer((Role.SECRETARIAT, "vest"), subject="sekretariat-vest")


@pytest.fixture
def submit(intake: AsyncClient) -> Callable[..., Awaitable[dict[str, Any]]]:
    """Submit a proposal to the open round through the API; returns {id, reference, …}."""

    async def post(**changes: Any) -> dict[str, Any]:
        response = await intake.post("/api/intake/v1/proposals", json=proposal(**changes))
        assert response.status_code == 201, response.text
        return dict(response.json())

    return post


async def events_of(client: AsyncClient, event_type: str) -> list[dict[str, Any]]:
    """The outbox's CloudEvents of one type, oldest first."""
    return [json.loads(r["payload"]) for r in await outbox_rows(client) if r["event_type"] == event_type]
