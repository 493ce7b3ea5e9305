"""create_app(settings) for intake: thin wiring of the layers."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from faststream.nats import NatsBroker

from intake.adapters.tables import inbox, outbox
from intake.adapters.uow import IntakeUnitOfWork
from intake.entrypoints.analysis import build_analysis_router
from intake.entrypoints.clock import RoundClock
from intake.entrypoints.http import build_router
from intake.entrypoints.ingest_http import build_ingest_router
from intake.entrypoints.ingest_messaging import register_subscribers as register_ingest_subscribers
from intake.entrypoints.ingest_pages import build_ingest_pages_router
from intake.entrypoints.pages import build_pages_router
from intake.entrypoints.round_pages import build_round_pages_router
from intake.entrypoints.screening_http import build_screening_router
from intake.entrypoints.screening_pages import build_screening_pages_router
from intake.service.screening import RevisionLinks
from intake.settings import IntakeSettings
from shared.runtime import ServiceRuntime, build_service_app

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: IntakeSettings | None = None, broker: NatsBroker | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    runtime = ServiceRuntime(settings, outbox, inbox, broker)

    def new_uow() -> IntakeUnitOfWork:
        return IntakeUnitOfWork(runtime.database, outbox, inbox, on_commit=runtime.relay.wake)

    app = build_service_app(runtime, [build_router(runtime.database, new_uow, settings.common.auth_secret)])
    app.state.new_uow = new_uow
    # The clock joins the lifespan built by shared.runtime (which the gateway also enters), so it starts
    # after the database and broker and stops before them, without a hook in shared code.
    app.state.clock = RoundClock(new_uow, settings.clock_seconds)
    app.router.lifespan_context = app.state.clock.around(app.router.lifespan_context)
    app.include_router(build_pages_router(runtime.database, new_uow, settings.common.auth_secret))
    app.include_router(build_analysis_router(runtime.database, settings.common.auth_secret))
    # The secretariat's screening (API and pages) and the proposer's signed revise link.
    links = RevisionLinks(settings.common.auth_secret, settings.public_url, settings.revise_link_days)
    app.include_router(build_screening_router(runtime.database, new_uow, settings.common.auth_secret, links))
    app.include_router(build_screening_pages_router(runtime.database, new_uow, settings.common.auth_secret, links))
    # Other regions' systems: HTTP CloudEvents, files and the quarantine; and the KP_INGEST subscriber.
    app.include_router(build_ingest_router(runtime.database, new_uow, settings))
    app.include_router(build_ingest_pages_router(runtime.database, new_uow, settings.common.auth_secret))
    app.include_router(build_round_pages_router(runtime.database, new_uow, settings.common.auth_secret))
    register_ingest_subscribers(runtime.broker, runtime.database, new_uow)
    return app
