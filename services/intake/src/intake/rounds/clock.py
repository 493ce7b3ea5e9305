"""The round clock: a background loop that announces rounds whose proposal window opened or closed.

Intake's runtime starts it after the database and broker and stops it before them (`IntakeRuntime.start`), so it
runs inside whichever lifespan starts the runtime: the service's own, or the gateway's with all five services.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime

from intake.rounds import service
from intake.rounds.service import RoundsUnitOfWork
from shared.telemetry import get_logger

log = get_logger("kp.intake.clock")


class RoundClock:
    """Calls `announce_round_changes` every `interval` seconds; a failed tick is logged and retried next time."""

    def __init__(
        self,
        new_uow: Callable[[], RoundsUnitOfWork],
        interval: float,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._new_uow = new_uow
        self._interval = interval
        self._now = now
        self._task: asyncio.Task[None] | None = None
        self.ticks = 0

    async def tick(self) -> service.Announcements:
        """One pass: announce what is due now."""
        announced = await service.announce_round_changes(self._now(), self._new_uow())
        self.ticks += 1
        if announced.opened or announced.closed:
            log.info("rounds.announced", opened=list(announced.opened), closed=list(announced.closed))
        return announced

    def start(self) -> None:
        if self._interval > 0 and self._task is None:
            self._task = asyncio.create_task(self._run(), name="intake-round-clock")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database is away: the marks are unchanged, so the next tick retries
                log.warning("rounds.clock_failed", error=type(error).__name__)
            await asyncio.sleep(self._interval)
