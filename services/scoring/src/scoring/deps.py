"""What scoring's routes and subscribers get: the runtime, a unit of work, a reader."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from faststream.nats import NatsBroker

from scoring.settings import ScoringSettings
from scoring.tables import inbox, outbox
from scoring.uow import ScoringReader, ScoringUnitOfWork
from shared.runtime import ServiceRuntime


class ScoringRuntime(ServiceRuntime):
    """Scoring's long-lived parts; subscribers get it as their context."""

    settings: ScoringSettings

    def __init__(self, settings: ScoringSettings, broker: NatsBroker | None = None) -> None:
        super().__init__(settings, outbox, inbox, broker)

    def unit_of_work(self) -> ScoringUnitOfWork:
        return ScoringUnitOfWork(self.database, outbox, inbox, on_commit=self.relay.wake)

    def reader(self) -> ScoringReader:
        return ScoringReader(self.database)


# `async def`, though nothing awaits: FastAPI runs a plain `def` dependency in its thread pool, a hand-off per
# dependency per request that costs more than the dependency itself.
async def runtime(request: Request) -> ScoringRuntime:
    found: ScoringRuntime = request.app.state.runtime
    return found


RuntimeDep = Annotated[ScoringRuntime, Depends(runtime)]


async def unit_of_work(runtime: RuntimeDep) -> ScoringUnitOfWork:
    return runtime.unit_of_work()


async def reader(runtime: RuntimeDep) -> ScoringReader:
    return runtime.reader()


UnitOfWorkDep = Annotated[ScoringUnitOfWork, Depends(unit_of_work)]
ReaderDep = Annotated[ScoringReader, Depends(reader)]
