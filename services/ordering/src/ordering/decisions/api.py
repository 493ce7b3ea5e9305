"""Ordering's HTTP API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from ordering.adapters.repository import DecisionRepository
from ordering.domain.model import Decision, DecisionNotFound
from shared.db import Database


class DecisionEntryOut(BaseModel):
    proposal_id: str
    reference: str
    rank: int
    total_score: float
    reason: str


class DecisionOut(BaseModel):
    id: str
    ranking_id: str
    round: str
    region: str
    status: str
    recommended_on: date
    created_at: datetime
    entries: list[DecisionEntryOut]


def _out(decision: Decision) -> DecisionOut:
    return DecisionOut(
        id=decision.id, ranking_id=decision.ranking_id, round=decision.round_id, region=decision.region,
        status=decision.status.value, recommended_on=decision.recommended_on, created_at=decision.created_at,
        entries=[
            DecisionEntryOut(
                proposal_id=e.proposal_id, reference=e.reference, rank=e.rank, total_score=e.total_score,
                reason=e.reason,
            )
            for e in decision.entries
        ],
    )


def build_router(database: Database) -> APIRouter:
    router = APIRouter(prefix="/api/ordering/v1", tags=["ordering"])

    @router.get("/decisions", response_model=list[DecisionOut])
    async def list_decisions(round: Annotated[str, Query(min_length=1, max_length=80)]) -> list[DecisionOut]:
        """The round's decisions, newest first, each with its ranked entries."""
        async with database.reader() as session:
            found = await DecisionRepository(session).for_round(round)
        return [_out(d) for d in found]

    @router.get("/decisions/{decision_id}", response_model=DecisionOut)
    async def get_decision(decision_id: str) -> DecisionOut:
        """One decision with its ranked entries."""
        async with database.reader() as session:
            decision = await DecisionRepository(session).get(decision_id)
        if decision is None:
            raise DecisionNotFound(f"no decision with id {decision_id!r}")
        return _out(decision)

    return router
