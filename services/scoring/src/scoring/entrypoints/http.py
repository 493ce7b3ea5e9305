"""Scoring's HTTP API."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from scoring.adapters.repository import CandidateRepository
from shared.db import Database


class CandidateOut(BaseModel):
    proposal_id: str
    reference: str
    region: str
    round: str
    municipality: str
    title: str
    submitted_at: datetime


def build_router(database: Database) -> APIRouter:
    router = APIRouter(prefix="/api/scoring/v1", tags=["scoring"])

    @router.get("/rounds/{round_id}/candidates", response_model=list[CandidateOut])
    async def list_candidates(round_id: str) -> list[CandidateOut]:
        """The round's candidates, by reference."""
        async with database.reader() as session:
            found = await CandidateRepository(session).for_round(round_id)
        return [
            CandidateOut(
                proposal_id=c.proposal_id, reference=c.reference, region=c.region, round=c.round_id,
                municipality=c.municipality_number, title=c.title, submitted_at=c.submitted_at,
            )
            for c in found
        ]

    return router
