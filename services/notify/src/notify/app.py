"""create_app(settings) for notify."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from faststream.nats import NatsBroker

from notify.adapters.mail import ReceiptMailer, mail_transport
from notify.adapters.repository import NotifyUnitOfWork
from notify.adapters.tables import inbox, outbox
from notify.entrypoints.http import build_router
from notify.entrypoints.messaging import register_subscribers
from notify.settings import NotifySettings
from shared.runtime import ServiceRuntime, build_service_app

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: NotifySettings | None = None, broker: NatsBroker | None = None) -> FastAPI:
    settings = settings or NotifySettings()
    runtime = ServiceRuntime(settings, outbox, inbox, broker)

    def new_uow() -> NotifyUnitOfWork:
        return NotifyUnitOfWork(runtime.database, outbox, inbox, on_commit=runtime.relay.wake)

    mailer = ReceiptMailer(mail_transport(settings), settings.mail_from)
    register_subscribers(runtime.broker, new_uow, mailer)
    app = build_service_app(runtime, [build_router(runtime.database)])
    app.state.new_uow = new_uow
    app.state.mailer = mailer
    return app
