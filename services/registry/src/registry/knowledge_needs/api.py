"""The knowledge needs' JSON API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from registry.deps import ReaderDep
from registry.knowledge_needs import service
from registry.knowledge_needs.model import KnowledgeNeed
from shared.web.access import public

REGION = r"^[a-z][a-z0-9-]{1,30}$"

router = APIRouter(prefix="/api/registry/v1", tags=["knowledge needs"])


class QuestionOut(BaseModel):
    population: str
    intervention: str
    comparison: str
    outcome: str


class KnowledgeNeedOut(BaseModel):
    """A knowledge need as anyone may see it: the question, never who asked it."""

    proposal_id: str
    reference: str
    region: str
    round: str
    municipality: str
    title: str
    question: QuestionOut
    status: str
    source: str
    recorded_at: datetime

    @staticmethod
    def of(need: KnowledgeNeed) -> KnowledgeNeedOut:
        question = need.question
        return KnowledgeNeedOut(
            proposal_id=need.proposal_id, reference=need.reference, region=need.region, round=need.round_id,
            municipality=need.municipality_number, title=need.title,
            question=QuestionOut(
                population=question.population, intervention=question.intervention, comparison=question.comparison,
                outcome=question.outcome,
            ),
            status=need.status.value, source=need.source.value, recorded_at=need.recorded_at,
        )


@router.get("/knowledge-needs", response_model=list[KnowledgeNeedOut], dependencies=[public])
async def list_knowledge_needs(
    region: Annotated[str, Query(pattern=REGION)], reader: ReaderDep
) -> list[KnowledgeNeedOut]:
    """The region's knowledge needs, newest first."""
    return [KnowledgeNeedOut.of(n) for n in await service.list_knowledge_needs(region, reader)]
