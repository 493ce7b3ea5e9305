"""create_app(settings) for ordering: each feature's routers and subscribers on the shared runtime."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from faststream.nats import NatsBroker

from ordering.decisions import api as decisions_api
from ordering.decisions import events as decisions_events
from ordering.deps import OrderingRuntime
from ordering.settings import OrderingSettings
from shared.runtime import build_service_app

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: OrderingSettings | None = None, broker: NatsBroker | None = None) -> FastAPI:
    runtime = OrderingRuntime(settings or OrderingSettings(), broker)
    return build_service_app(runtime, [decisions_api.router], [decisions_events.events])
