"""What every service has: its database, broker, outbox relay, health, problem handlers and telemetry."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from faststream.nats import NatsBroker
from sqlalchemy import Table

from shared.auth import SecretTokenVerifier
from shared.db import Database
from shared.messaging.broker import create_broker, describe_error
from shared.messaging.consumer import EventRouter
from shared.messaging.outbox import OutboxRelay, OutboxStatus, outbox_status
from shared.settings import ServiceSettings
from shared.telemetry import configure_logging, get_logger, instrument_app
from shared.web import health
from shared.web.pages import PageKit, install_refusal_pages, static_router
from shared.web.problems import install_problem_handlers

log = get_logger("kp.runtime")


class ServiceRuntime:
    """The service's long-lived parts, started and stopped by the FastAPI lifespan (pitfall 10).

    Routes reach it through `request.app.state.runtime` (the service's `deps.py`), subscribers get it as their
    context (`EventRouter.attach`); nothing is threaded through closures. A service subclasses it to add its
    unit of work and whatever else its features need (a mailer, signed links).
    """

    pages: PageKit | None = None

    def __init__(self, settings: ServiceSettings, outbox: Table, inbox: Table, broker: NatsBroker | None = None):
        self.settings = settings
        self.name = settings.service_name
        self.database = Database(settings.database_url)
        common = settings.common
        # The relay stops backing off when the connection is back; a broker given by a test is its own.
        self.broker = broker or create_broker(common.nats_url, self.name, on_reconnected=self._broker_reconnected)
        self.outbox = outbox
        self.inbox = inbox
        self.relay = OutboxRelay(
            self.database, outbox, self.broker, self.name,
            batch_size=settings.relay_batch_size, poll_seconds=settings.relay_poll_seconds,
            publish_timeout=common.relay_publish_timeout_seconds, max_backoff=common.relay_max_backoff_seconds,
        )
        # Verifies session tokens; it holds no key that can sign one.
        self.tokens = SecretTokenVerifier(settings.common.auth_secret)
        self.broker_connected = False
        self._connector: asyncio.Task[None] | None = None

    async def start(self) -> None:
        # The HTTP side comes up even while the broker is away; /readyz tells the difference.
        self._connector = asyncio.create_task(self._connect_broker(), name=f"broker-connect-{self.name}")
        self.relay.start()

    async def _connect_broker(self) -> None:
        delay = 0.2
        while True:
            try:
                await self.broker.start()
                self.broker_connected = True
                log.info("broker.connected", service=self.name)
                # Rows committed while the broker was away go now, not after the relay's back-off.
                await self.relay.broker_reconnected()
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:
                # The message names the cause ("invalid connect url option", "no servers available").
                log.warning("broker.connect_failed", service=self.name, error=describe_error(error))
                await asyncio.sleep(delay)
                delay = min(5.0, delay * 2)

    async def _broker_reconnected(self) -> None:
        log.info("broker.reconnected", service=self.name)
        await self.relay.broker_reconnected()

    async def outbox_status(self) -> OutboxStatus:
        """The outbox's pending count and the age of its oldest pending row (`kp outbox status`)."""
        return await outbox_status(self.database, self.outbox)

    async def stop(self) -> None:
        if self._connector is not None:
            self._connector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connector
        await self.relay.stop()
        with contextlib.suppress(Exception):
            await self.broker.stop()
        await self.database.dispose()

    async def readiness(self) -> dict[str, bool]:
        try:
            await asyncio.wait_for(self.database.ping(), 2.0)
            database_ok = True
        except Exception:
            database_ok = False
        broker_ok = False
        if self.broker_connected:
            with contextlib.suppress(Exception):
                broker_ok = bool(await self.broker.ping(timeout=2.0))
        return {f"{self.name}.database": database_ok, f"{self.name}.broker": broker_ok}


def build_service_app(
    runtime: ServiceRuntime, routers: Sequence[APIRouter], events: Sequence[EventRouter[Any]] = (),
    **fastapi_kwargs: Any,
) -> FastAPI:
    """A FastAPI app whose lifespan owns the runtime; the same app runs alone or behind the gateway.

    `routers` are the features' module-level routers, `events` their subscribers, attached to the runtime's
    broker with the runtime as their context."""
    configure_logging()
    name = runtime.name

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title=f"Kunnskapsportalen {name}",
        lifespan=lifespan,
        docs_url=f"/api/{name}/docs",
        openapi_url=f"/api/{name}/openapi.json",
        redoc_url=None,
        **fastapi_kwargs,
    )
    app.state.runtime = runtime
    install_problem_handlers(app)
    if runtime.pages is not None:
        install_refusal_pages(app, runtime.pages)
        app.include_router(static_router)
    app.include_router(health.router)
    for router in routers:
        app.include_router(router)
    for event_router in events:
        event_router.attach(runtime.broker, runtime)
    instrument_app(app, runtime.database.sync_engines, name)
    return app
