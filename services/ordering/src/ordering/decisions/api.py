"""The decisions' JSON API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from ordering.decisions import service
from ordering.decisions.model import Decision
from ordering.deps import ReaderDep
from shared.web.access import public

router = APIRouter(prefix="/api/ordering/v1", tags=["decisions"])


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

    @staticmethod
    def of(decision: Decision) -> DecisionOut:
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


@router.get("/decisions", response_model=list[DecisionOut], dependencies=[public])
async def list_decisions(
    round: Annotated[str, Query(min_length=1, max_length=80)], reader: ReaderDep
) -> list[DecisionOut]:
    """The round's decisions, newest first, each with its ranked entries."""
    return [DecisionOut.of(d) for d in await service.list_decisions(round, reader)]


@router.get("/decisions/{decision_id}", response_model=DecisionOut, dependencies=[public])
async def get_decision(decision_id: str, reader: ReaderDep) -> DecisionOut:
    """One decision with its ranked entries."""
    return DecisionOut.of(await service.get_decision(decision_id, reader))
