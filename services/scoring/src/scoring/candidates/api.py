"""The candidates' JSON API."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from scoring.candidates import service
from scoring.deps import ReaderDep
from shared.web.access import public

router = APIRouter(prefix="/api/scoring/v1", tags=["candidates"])


class CandidateOut(BaseModel):
    proposal_id: str
    reference: str
    region: str
    round: str
    municipality: str
    title: str
    submitted_at: datetime


@router.get("/rounds/{round_id}/candidates", response_model=list[CandidateOut], dependencies=[public])
async def list_candidates(round_id: str, reader: ReaderDep) -> list[CandidateOut]:
    """The round's candidates, by reference."""
    return [
        CandidateOut(
            proposal_id=c.proposal_id, reference=c.reference, region=c.region, round=c.round_id,
            municipality=c.municipality_number, title=c.title, submitted_at=c.submitted_at,
        )
        for c in await service.list_candidates(round_id, reader)
    ]
