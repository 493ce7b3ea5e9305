"""Alembic environment for scoring: its own database, its own tables."""

from scoring.tables import metadata
from shared.migrations_env import run_migrations

run_migrations(metadata)
