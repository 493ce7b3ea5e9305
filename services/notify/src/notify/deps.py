"""What notify's routes and subscribers get: the runtime (with its mailer), a unit of work, a reader."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from faststream.nats import NatsBroker

from notify.deliveries.mail import EmailMailer, mail_transport
from notify.deliveries.service import Mailer
from notify.settings import NotifySettings
from notify.tables import inbox, outbox
from notify.uow import NotifyReader, NotifyUnitOfWork
from shared.runtime import ServiceRuntime


class NotifyRuntime(ServiceRuntime):
    """Notify's long-lived parts, the mailer among them; subscribers get it as their context."""

    settings: NotifySettings

    def __init__(
        self, settings: NotifySettings, broker: NatsBroker | None = None, mailer: Mailer | None = None
    ) -> None:
        super().__init__(settings, outbox, inbox, broker)
        self.mailer: Mailer = mailer or EmailMailer(mail_transport(settings), settings.mail_from)

    def unit_of_work(self) -> NotifyUnitOfWork:
        return NotifyUnitOfWork(self.database, outbox, inbox, on_commit=self.relay.wake)

    def reader(self) -> NotifyReader:
        return NotifyReader(self.database)


async def runtime(request: Request) -> NotifyRuntime:
    found: NotifyRuntime = request.app.state.runtime
    return found


RuntimeDep = Annotated[NotifyRuntime, Depends(runtime)]


async def unit_of_work(runtime: RuntimeDep) -> NotifyUnitOfWork:
    return runtime.unit_of_work()


async def reader(runtime: RuntimeDep) -> NotifyReader:
    return runtime.reader()


UnitOfWorkDep = Annotated[NotifyUnitOfWork, Depends(unit_of_work)]
ReaderDep = Annotated[NotifyReader, Depends(reader)]
