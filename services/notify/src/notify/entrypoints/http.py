"""Notify's HTTP API: the delivery log, for operators. It holds no addresses, so it shows none."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from notify.adapters.repository import DeliveryRepository
from shared.db import Database


class DeliveryOut(BaseModel):
    id: str
    proposal_id: str
    kind: str
    status: str
    created_at: datetime
    sent_at: datetime | None


def build_router(database: Database) -> APIRouter:
    router = APIRouter(prefix="/api/notify/v1", tags=["notify"])

    @router.get("/deliveries", response_model=list[DeliveryOut])
    async def list_deliveries(proposal_id: Annotated[str, Query(min_length=1, max_length=40)]) -> list[DeliveryOut]:
        """The delivery log of one proposal, oldest first."""
        async with database.reader() as session:
            found = await DeliveryRepository(session).for_proposal(proposal_id)
        return [
            DeliveryOut(
                id=d.id, proposal_id=d.proposal_id, kind=d.kind.value, status=d.status.value,
                created_at=d.created_at, sent_at=d.sent_at,
            )
            for d in found
        ]

    return router
