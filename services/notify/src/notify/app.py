"""create_app(settings) for notify: each feature's routers and subscribers on the shared runtime."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from faststream.nats import NatsBroker

from notify.deliveries import api as deliveries_api
from notify.deliveries import events as deliveries_events
from notify.deps import NotifyRuntime
from notify.settings import NotifySettings
from shared.runtime import build_service_app

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: NotifySettings | None = None, broker: NatsBroker | None = None) -> FastAPI:
    runtime = NotifyRuntime(settings or NotifySettings(), broker)
    return build_service_app(runtime, [deliveries_api.router], [deliveries_events.events])
