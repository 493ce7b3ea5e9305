"""What ordering's routes and subscribers get: the runtime, a unit of work, a reader."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from faststream.nats import NatsBroker

from ordering.settings import OrderingSettings
from ordering.tables import inbox, outbox
from ordering.uow import OrderingReader, OrderingUnitOfWork
from shared.runtime import ServiceRuntime


class OrderingRuntime(ServiceRuntime):
    """Ordering's long-lived parts; subscribers get it as their context."""

    settings: OrderingSettings

    def __init__(self, settings: OrderingSettings, broker: NatsBroker | None = None) -> None:
        super().__init__(settings, outbox, inbox, broker)

    def unit_of_work(self) -> OrderingUnitOfWork:
        return OrderingUnitOfWork(self.database, outbox, inbox, on_commit=self.relay.wake)

    def reader(self) -> OrderingReader:
        return OrderingReader(self.database)


async def runtime(request: Request) -> OrderingRuntime:
    found: OrderingRuntime = request.app.state.runtime
    return found


RuntimeDep = Annotated[OrderingRuntime, Depends(runtime)]


async def unit_of_work(runtime: RuntimeDep) -> OrderingUnitOfWork:
    return runtime.unit_of_work()


async def reader(runtime: RuntimeDep) -> OrderingReader:
    return runtime.reader()


UnitOfWorkDep = Annotated[OrderingUnitOfWork, Depends(unit_of_work)]
ReaderDep = Annotated[OrderingReader, Depends(reader)]
