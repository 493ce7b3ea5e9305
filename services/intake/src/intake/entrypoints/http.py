"""Intake's HTTP API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from intake.adapters.repository import ProposalRepository, RoundRepository
from intake.adapters.uow import IntakeUnitOfWork
from intake.domain.model import EffectQuestion, ProposalNotFound, Proposer
from intake.service import use_cases
from shared.db import Database

REGION = r"^[a-z][a-z0-9-]{1,30}$"


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    population: str = Field(min_length=3, max_length=2000, description="Who: the patients or users concerned")
    intervention: str = Field(min_length=3, max_length=2000, description="What measure or practice")
    comparison: str = Field(default="", max_length=2000, description="Compared with what (may be empty)")
    outcome: str = Field(min_length=3, max_length=2000, description="Which effect matters")


class ProposerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=2, max_length=200)
    email: EmailStr


class ProposalIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    region: str = Field(pattern=REGION)
    round: str = Field(min_length=1, max_length=80)
    municipality: str = Field(pattern=r"^[0-9]{4}$", description="The municipality's official number (SSB)")
    title: str = Field(min_length=5, max_length=200)
    question: Question
    background: str = Field(default="", max_length=10000)
    proposer: ProposerIn
    language: Literal["nb", "nn"] = "nb"


class ProposalCreated(BaseModel):
    id: str
    reference: str


class QuestionOut(BaseModel):
    population: str
    intervention: str
    comparison: str
    outcome: str


class ProposalOut(BaseModel):
    """A proposal as anyone may see it: no proposer name or address."""

    id: str
    reference: str
    region: str
    round: str
    municipality: str
    title: str
    question: QuestionOut
    background: str
    language: str
    status: str
    submitted_at: datetime


class RoundOut(BaseModel):
    id: str
    region: str
    name: str
    status: str
    opens_at: datetime
    closes_at: datetime
    default_language: str


def build_router(database: Database, new_uow: Callable[[], IntakeUnitOfWork]) -> APIRouter:
    router = APIRouter(prefix="/api/intake/v1", tags=["intake"])

    @router.get("/regions/{region}/rounds", response_model=list[RoundOut])
    async def list_rounds(
        region: Annotated[str, PathParam(pattern=REGION)],
        status: Annotated[Literal["planned", "open", "closed"] | None, Query()] = None,
    ) -> list[RoundOut]:
        """The region's rounds, optionally only those with the given status right now."""
        now = datetime.now(UTC)
        async with database.reader() as session:
            found = await RoundRepository(session).for_region(region)
        return [
            RoundOut(
                id=r.id, region=r.region, name=r.name, status=r.status_at(now).value, opens_at=r.opens_at,
                closes_at=r.closes_at, default_language=r.default_language,
            )
            for r in found
            if status is None or r.status_at(now).value == status
        ]

    @router.post("/proposals", status_code=201, response_model=ProposalCreated)
    async def submit_proposal(
        body: ProposalIn,
        response: Response,
        idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    ) -> ProposalCreated:
        """Submit a proposal to an open round. The same Idempotency-Key returns the same proposal."""
        result = await use_cases.submit_proposal(
            use_cases.SubmitProposal(
                region=body.region, round_id=body.round, municipality_number=body.municipality, title=body.title,
                question=EffectQuestion(
                    body.question.population, body.question.intervention, body.question.comparison,
                    body.question.outcome,
                ),
                background=body.background, proposer=Proposer(body.proposer.name, str(body.proposer.email)),
                language=body.language, idempotency_key=idempotency_key,
            ),
            new_uow(),
        )
        response.headers["Location"] = f"/api/intake/v1/proposals/{result.id}"
        if not result.created:
            response.status_code = 200
        return ProposalCreated(id=result.id, reference=result.reference)

    @router.get("/proposals/{proposal_id}", response_model=ProposalOut)
    async def get_proposal(proposal_id: str, request: Request) -> ProposalOut:
        """One proposal, without personal data."""
        async with database.reader() as session:
            proposal = await ProposalRepository(session).get(proposal_id)
        if proposal is None:
            raise ProposalNotFound(f"no proposal with id {proposal_id!r}")
        q = proposal.question
        return ProposalOut(
            id=proposal.id, reference=proposal.reference, region=proposal.region, round=proposal.round_id,
            municipality=proposal.municipality_number, title=proposal.title,
            question=QuestionOut(population=q.population, intervention=q.intervention, comparison=q.comparison,
                                 outcome=q.outcome),
            background=proposal.background, language=proposal.language, status=proposal.status,
            submitted_at=proposal.submitted_at,
        )

    return router




