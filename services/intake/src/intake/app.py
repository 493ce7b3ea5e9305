"""create_app(settings) for intake: each feature's routers and subscribers on intake's runtime."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from faststream.nats import NatsBroker

from intake.analysis import api as analysis_api
from intake.analysis import pages as analysis_pages
from intake.deps import IntakeRuntime
from intake.ingestion import api as ingestion_api
from intake.ingestion import events as ingestion_events
from intake.ingestion import pages as ingestion_pages
from intake.proposals import api as proposals_api
from intake.proposals import pages as proposals_pages
from intake.reference import api as reference_api
from intake.rounds import api as rounds_api
from intake.rounds import pages as rounds_pages
from intake.screening import api as screening_api
from intake.screening import pages as screening_pages
from intake.settings import IntakeSettings
from shared.runtime import build_service_app

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"

ROUTERS = (
    rounds_api.router, proposals_api.router, reference_api.router, screening_api.router, ingestion_api.router,
    analysis_api.router, proposals_pages.router, rounds_pages.router, screening_pages.router, ingestion_pages.router,
    analysis_pages.router,
)


def create_app(settings: IntakeSettings | None = None, broker: NatsBroker | None = None) -> FastAPI:
    """Intake as one app: the runtime (and its round clock) starts and stops with the app's lifespan."""
    runtime = IntakeRuntime(settings or IntakeSettings(), broker)
    return build_service_app(runtime, ROUTERS, [ingestion_events.events])
