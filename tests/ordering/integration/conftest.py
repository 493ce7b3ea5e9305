"""A freshly migrated ordering database per test."""

from __future__ import annotations

import pytest

from ordering.app import MIGRATIONS
from shared.db import migrate_async


@pytest.fixture
async def database_url(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'ordering.db'}"
    await migrate_async(MIGRATIONS, url)
    return url
