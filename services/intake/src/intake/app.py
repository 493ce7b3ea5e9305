"""create_app(settings) for intake: thin wiring of the layers."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from faststream.nats import NatsBroker

from intake.adapters.tables import inbox, outbox
from intake.adapters.uow import IntakeUnitOfWork
from intake.entrypoints.http import build_router
from intake.settings import IntakeSettings
from shared.runtime import ServiceRuntime, build_service_app

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: IntakeSettings | None = None, broker: NatsBroker | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    runtime = ServiceRuntime(settings, outbox, inbox, broker)

    def new_uow() -> IntakeUnitOfWork:
        return IntakeUnitOfWork(runtime.database, outbox, inbox, on_commit=runtime.relay.wake)

    app = build_service_app(runtime, [build_router(runtime.database, new_uow)])
    app.state.new_uow = new_uow
    return app
