"""The embedded default's single front door: every service's app behind one port, routed by path.

Each service keeps its own FastAPI app, lifespan, database and broker connection, exactly as when it
runs alone with `kp serve`; the gateway only dispatches `/api/<service>/…` and `/<service>/…` and
answers `/readyz` for all of them together.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

from fastapi import FastAPI
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

ReadinessCheck = Callable[[], Awaitable[dict[str, bool]]]

# `/` is intake's start page (every region's open rounds, sign-in for staff, links to each API), as the compose
# gateway and the Kubernetes Ingress route it too.
START_PAGE_SERVICE = "intake"


class Gateway:
    """An ASGI app that routes by the first path segment and owns the services' lifespans."""

    def __init__(self, apps: Mapping[str, FastAPI], extra_checks: Mapping[str, ReadinessCheck] | None = None):
        self.apps = dict(apps)
        self.extra_checks = dict(extra_checks or {})

    async def readiness(self) -> dict[str, bool]:
        """Every service's own checks (its database and its broker connection), plus the gateway's."""
        checks: dict[str, bool] = {}
        results = await asyncio.gather(
            *(app.state.runtime.readiness() for app in self.apps.values()),
            *(check() for check in self.extra_checks.values()),
            return_exceptions=True,
        )
        names = [*self.apps, *self.extra_checks]
        for name, result in zip(names, results, strict=True):
            if isinstance(result, BaseException):
                checks[name] = False
            else:
                checks.update(result)
        return checks

    @contextlib.asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            for app in self.apps.values():
                await stack.enter_async_context(app.router.lifespan_context(app))
            yield

    def _target(self, path: str) -> FastAPI | None:
        if path == "/":
            return self.apps.get(START_PAGE_SERVICE)  # the start page: open rounds, sign-in, the APIs
        parts = path.lstrip("/").split("/", 2)
        if parts[0] == "api" and len(parts) > 1:
            return self.apps.get(parts[1])
        return self.apps.get(parts[0])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        path = scope.get("path", "/")
        target = self._target(path)
        if target is not None:
            await target(scope, receive, send)
            return
        if scope["type"] != "http":
            return
        response: Response
        if path == "/livez":
            response = JSONResponse({"status": "alive"})
        elif path == "/readyz":
            checks = await self.readiness()
            ready = all(checks.values())
            body = {"status": "ready" if ready else "not ready", "checks": checks}
            response = JSONResponse(body, 200 if ready else 503)
        else:
            response = JSONResponse(
                {"type": "about:blank", "title": "Not found", "status": 404, "detail": path}, 404,
                media_type="application/problem+json",
            )
        await response(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        message = await receive()
        assert message["type"] == "lifespan.startup"
        stack = contextlib.AsyncExitStack()
        try:
            await stack.enter_async_context(self.lifespan())
        except BaseException as error:
            await send({"type": "lifespan.startup.failed", "message": repr(error)})
            raise
        await send({"type": "lifespan.startup.complete"})
        message = await receive()
        try:
            await stack.aclose()
        except Exception as error:  # report it, but still complete the shutdown
            await send({"type": "lifespan.shutdown.failed", "message": repr(error)})
            return
        await send({"type": "lifespan.shutdown.complete"})

