"""The delivery log's JSON API, for operators. It holds no addresses, so it shows none."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from notify.deliveries import service
from notify.deliveries.model import Delivery
from notify.deps import ReaderDep
from shared.web.access import public

router = APIRouter(prefix="/api/notify/v1", tags=["deliveries"])


class DeliveryOut(BaseModel):
    id: str
    proposal_id: str
    kind: str
    status: str
    created_at: datetime
    sent_at: datetime | None

    @staticmethod
    def of(delivery: Delivery) -> DeliveryOut:
        return DeliveryOut(
            id=delivery.id, proposal_id=delivery.proposal_id, kind=delivery.kind.value,
            status=delivery.status.value, created_at=delivery.created_at, sent_at=delivery.sent_at,
        )


@router.get("/deliveries", response_model=list[DeliveryOut], dependencies=[public])
async def list_deliveries(
    proposal_id: Annotated[str, Query(min_length=1, max_length=40)], reader: ReaderDep
) -> list[DeliveryOut]:
    """The delivery log of one proposal, oldest first."""
    return [DeliveryOut.of(d) for d in await service.list_deliveries(proposal_id, reader)]
