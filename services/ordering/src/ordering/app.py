"""create_app(settings) for ordering."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from faststream.nats import NatsBroker

from ordering.adapters.repository import OrderingUnitOfWork
from ordering.adapters.tables import inbox, outbox
from ordering.entrypoints.http import build_router
from ordering.entrypoints.messaging import register_subscribers
from ordering.settings import OrderingSettings
from shared.runtime import ServiceRuntime, build_service_app

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: OrderingSettings | None = None, broker: NatsBroker | None = None) -> FastAPI:
    settings = settings or OrderingSettings()
    runtime = ServiceRuntime(settings, outbox, inbox, broker)

    def new_uow() -> OrderingUnitOfWork:
        return OrderingUnitOfWork(runtime.database, outbox, inbox, on_commit=runtime.relay.wake)

    register_subscribers(runtime.broker, new_uow)
    app = build_service_app(runtime, [build_router(runtime.database)])
    app.state.new_uow = new_uow
    return app
