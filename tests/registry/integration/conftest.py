"""A freshly migrated registry database per test."""

from __future__ import annotations

import pytest

from registry.app import MIGRATIONS
from shared.db import migrate_async


@pytest.fixture
async def database_url(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"
    await migrate_async(MIGRATIONS, url)
    return url
