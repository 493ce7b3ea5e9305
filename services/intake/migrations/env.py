"""Alembic environment for intake: its own database, its own tables."""

from intake.tables import metadata
from shared.migrations_env import run_migrations

run_migrations(metadata)
