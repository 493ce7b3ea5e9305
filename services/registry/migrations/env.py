"""Alembic environment for registry: its own database, its own tables."""

from registry.tables import metadata
from shared.migrations_env import run_migrations

run_migrations(metadata)
