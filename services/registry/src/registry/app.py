"""create_app(settings) for the registry: each feature's routers and subscribers on the shared runtime."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from faststream.nats import NatsBroker

from registry.deps import RegistryRuntime
from registry.knowledge_needs import api as knowledge_needs_api
from registry.knowledge_needs import events as knowledge_needs_events
from registry.sessions import api as sessions_api
from registry.settings import RegistrySettings
from shared.runtime import build_service_app

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: RegistrySettings | None = None, broker: NatsBroker | None = None) -> FastAPI:
    runtime = RegistryRuntime(settings or RegistrySettings(), broker)
    return build_service_app(
        runtime, [knowledge_needs_api.router, sessions_api.router], [knowledge_needs_events.events]
    )
