"""/livez (the process answers) and /readyz (its database and broker answer)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from shared.web.access import public

router = APIRouter(tags=["health"], include_in_schema=False, dependencies=[public])


@router.get("/livez")
async def livez() -> dict[str, str]:
    """The process is alive (no dependency is checked)."""
    return {"status": "alive"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """The service's database and broker answer."""
    checks = await request.app.state.runtime.readiness()
    ready = all(checks.values())
    return JSONResponse({"status": "ready" if ready else "not ready", "checks": checks}, 200 if ready else 503)
