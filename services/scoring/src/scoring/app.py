"""create_app(settings) for scoring: each feature's routers and subscribers on the shared runtime."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from faststream.nats import NatsBroker

from scoring.candidates import api as candidates_api
from scoring.candidates import events as candidates_events
from scoring.deps import ScoringRuntime
from scoring.settings import ScoringSettings
from shared.runtime import build_service_app

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: ScoringSettings | None = None, broker: NatsBroker | None = None) -> FastAPI:
    runtime = ScoringRuntime(settings or ScoringSettings(), broker)
    return build_service_app(runtime, [candidates_api.router], [candidates_events.events])
