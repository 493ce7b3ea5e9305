"""create_app(settings) for the registry."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from faststream.nats import NatsBroker

from registry.adapters.repository import RegistryUnitOfWork
from registry.adapters.tables import inbox, outbox
from registry.entrypoints.http import build_router
from registry.entrypoints.messaging import register_subscribers
from registry.settings import RegistrySettings
from shared.runtime import ServiceRuntime, build_service_app

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: RegistrySettings | None = None, broker: NatsBroker | None = None) -> FastAPI:
    settings = settings or RegistrySettings()
    runtime = ServiceRuntime(settings, outbox, inbox, broker)

    def new_uow() -> RegistryUnitOfWork:
        return RegistryUnitOfWork(runtime.database, outbox, inbox, on_commit=runtime.relay.wake)

    register_subscribers(runtime.broker, new_uow)
    app = build_service_app(runtime, [build_router(runtime.database, settings)])
    app.state.new_uow = new_uow
    return app
