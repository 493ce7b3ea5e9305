"""Notify's unit of work (repositories, outbox and inbox in one transaction) and its read-only twin."""

from __future__ import annotations

from notify.deliveries.repository import DeliveryRepository
from shared.messaging.uow import Reader, UnitOfWork


class NotifyUnitOfWork(UnitOfWork):
    deliveries: DeliveryRepository

    def _open(self) -> None:
        self.deliveries = DeliveryRepository(self.session)


class NotifyReader(Reader):
    deliveries: DeliveryRepository

    def _open(self) -> None:
        self.deliveries = DeliveryRepository(self.session)
