"""Alembic environment for notify: its own database, its own tables."""

from notify.tables import metadata
from shared.migrations_env import run_migrations

run_migrations(metadata)
