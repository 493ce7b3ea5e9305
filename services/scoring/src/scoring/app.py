"""create_app(settings) for scoring."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from faststream.nats import NatsBroker

from scoring.adapters.repository import ScoringUnitOfWork
from scoring.adapters.tables import inbox, outbox
from scoring.entrypoints.http import build_router
from scoring.entrypoints.messaging import register_subscribers
from scoring.settings import ScoringSettings
from shared.runtime import ServiceRuntime, build_service_app

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: ScoringSettings | None = None, broker: NatsBroker | None = None) -> FastAPI:
    settings = settings or ScoringSettings()
    runtime = ServiceRuntime(settings, outbox, inbox, broker)

    def new_uow() -> ScoringUnitOfWork:
        return ScoringUnitOfWork(runtime.database, outbox, inbox, on_commit=runtime.relay.wake)

    register_subscribers(runtime.broker, new_uow)
    app = build_service_app(runtime, [build_router(runtime.database)])
    app.state.new_uow = new_uow
    return app
