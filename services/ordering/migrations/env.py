"""Alembic environment for ordering: its own database, its own tables."""

from ordering.tables import metadata
from shared.migrations_env import run_migrations

run_migrations(metadata)
