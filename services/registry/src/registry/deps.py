"""What the registry's routes and subscribers get: the runtime, its settings, a unit of work, a reader."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from faststream.nats import NatsBroker

from registry.settings import RegistrySettings
from registry.tables import inbox, outbox
from registry.uow import RegistryReader, RegistryUnitOfWork
from shared.runtime import ServiceRuntime


class RegistryRuntime(ServiceRuntime):
    """The registry's long-lived parts; subscribers get it as their context."""

    settings: RegistrySettings

    def __init__(self, settings: RegistrySettings, broker: NatsBroker | None = None) -> None:
        super().__init__(settings, outbox, inbox, broker)

    def unit_of_work(self) -> RegistryUnitOfWork:
        return RegistryUnitOfWork(self.database, outbox, inbox, on_commit=self.relay.wake)

    def reader(self) -> RegistryReader:
        return RegistryReader(self.database)


async def runtime(request: Request) -> RegistryRuntime:
    found: RegistryRuntime = request.app.state.runtime
    return found


RuntimeDep = Annotated[RegistryRuntime, Depends(runtime)]


async def settings(runtime: RuntimeDep) -> RegistrySettings:
    return runtime.settings


async def unit_of_work(runtime: RuntimeDep) -> RegistryUnitOfWork:
    return runtime.unit_of_work()


async def reader(runtime: RuntimeDep) -> RegistryReader:
    return runtime.reader()


SettingsDep = Annotated[RegistrySettings, Depends(settings)]
UnitOfWorkDep = Annotated[RegistryUnitOfWork, Depends(unit_of_work)]
ReaderDep = Annotated[RegistryReader, Depends(reader)]
