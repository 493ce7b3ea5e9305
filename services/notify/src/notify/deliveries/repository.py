"""The delivery log's queries, behind the port the use cases know."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from notify.deliveries.model import Delivery, DeliveryKind, DeliveryStatus
from notify.tables import deliveries
from shared.db import dialect_insert


class Deliveries(Protocol):
    """What the use cases need of the delivery log."""

    async def get_or_add(self, delivery: Delivery) -> Delivery:
        """Log the delivery, or return the one already logged for the same kind, proposal, recipient and cause."""
        ...

    async def mark_sent(self, delivery_id: str, sent_at: datetime) -> None: ...

    async def for_proposal(self, proposal_id: str) -> list[Delivery]:
        """The proposal's deliveries, oldest first."""
        ...


def _delivery(row: Any) -> Delivery:
    return Delivery(
        id=row.id, proposal_id=row.proposal_id, kind=DeliveryKind(row.kind), recipient_hash=row.recipient_hash,
        status=DeliveryStatus(row.status), created_at=row.created_at, sent_at=row.sent_at, cause_id=row.cause_id,
    )


class DeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_or_add(self, delivery: Delivery) -> Delivery:
        """Insert the delivery, or return the one already logged for the same kind, proposal, recipient and cause."""
        await self.session.execute(
            dialect_insert(self.session)(deliveries)
            .values(
                id=delivery.id, proposal_id=delivery.proposal_id, kind=delivery.kind.value,
                recipient_hash=delivery.recipient_hash, status=delivery.status.value,
                created_at=delivery.created_at, sent_at=delivery.sent_at, cause_id=delivery.cause_id,
            )
            .on_conflict_do_nothing(index_elements=["kind", "proposal_id", "recipient_hash", "cause_id"])
        )
        # Read back rather than trust rowcount: a concurrent transaction may have inserted the row first.
        row = (
            await self.session.execute(
                select(deliveries).where(
                    deliveries.c.kind == delivery.kind.value,
                    deliveries.c.proposal_id == delivery.proposal_id,
                    deliveries.c.recipient_hash == delivery.recipient_hash,
                    deliveries.c.cause_id == delivery.cause_id,
                )
            )
        ).one()
        return _delivery(row)

    async def mark_sent(self, delivery_id: str, sent_at: datetime) -> None:
        await self.session.execute(
            update(deliveries)
            .where(deliveries.c.id == delivery_id, deliveries.c.status == DeliveryStatus.PENDING.value)
            .values(status=DeliveryStatus.SENT.value, sent_at=sent_at)
        )

    async def for_proposal(self, proposal_id: str) -> list[Delivery]:
        result = await self.session.execute(
            select(deliveries)
            .where(deliveries.c.proposal_id == proposal_id)
            .order_by(deliveries.c.created_at, deliveries.c.id)
        )
        return [_delivery(row) for row in result]

