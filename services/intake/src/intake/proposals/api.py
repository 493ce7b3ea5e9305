"""The proposals' JSON API (/api/intake/v1): submit, public status, one proposal, similar questions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from intake.deps import REGION_PATTERN, ApiLanguageDep, LimitedBodyRoute, ReaderDep, Region, UnitOfWorkDep
from intake.proposals import service
from intake.proposals.model import EffectQuestion, Proposal, Proposer
from intake.reference import model as reference
from shared.i18n import translate
from shared.web.access import public

router = APIRouter(prefix="/api/intake/v1", tags=["intake"], route_class=LimitedBodyRoute)


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    population: str = Field(min_length=3, max_length=2000, description="Who: the patients or users concerned")
    intervention: str = Field(min_length=3, max_length=2000, description="What measure or practice")
    comparison: str = Field(default="", max_length=2000, description="Compared with what (may be empty)")
    outcome: str = Field(min_length=3, max_length=2000, description="Which effect matters")

    def to_question(self) -> EffectQuestion:
        return EffectQuestion(self.population, self.intervention, self.comparison, self.outcome)


class ProposerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=2, max_length=200)
    email: EmailStr = Field(max_length=320)


class DecisionIn(BaseModel):
    """An upcoming decision the answer would serve."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)

    text: str = Field(default="", max_length=5000)
    on: date | None = Field(default=None, alias="date", description="YYYY-MM-DD")


CriterionCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Score = Annotated[int, Field(ge=1, le=5)]


class ProposalIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    region: str = Field(pattern=REGION_PATTERN)
    round: str = Field(min_length=1, max_length=80)
    municipality: str | None = Field(
        default=None, pattern=r"^[0-9]{4}$", description="The municipality's official number (SSB); or give `unit`",
    )
    unit: str | None = Field(
        default=None, pattern=r"^[a-z0-9][a-z0-9-]{1,39}$", description="A non-municipal unit (GET /reference)",
    )
    department: str = Field(default="", max_length=200, description="Agency or department (etat)")
    service_area: str | None = Field(default=None, max_length=60, description="Code from GET /reference")
    theme: str | None = Field(default=None, max_length=60, description="Code from GET /reference")
    title: str = Field(min_length=5, max_length=200)
    question: Question
    background: str = Field(default="", max_length=10000)
    decision: DecisionIn = Field(default_factory=DecisionIn)
    self_assessment: dict[CriterionCode, Score] = Field(
        default_factory=dict, max_length=20, description="The proposer's own scores, criterion code → 1..5",
    )
    consent: bool = Field(description="Must be true: the proposer agrees to the storing of the proposal")
    proposer: ProposerIn
    language: Literal["nb", "nn"] = "nb"

    def to_command(self, idempotency_key: str | None) -> service.SubmitProposal:
        return service.SubmitProposal(
            region=self.region, round_id=self.round, municipality_number=self.municipality, unit_code=self.unit,
            department=self.department, service_area=self.service_area, theme=self.theme, title=self.title,
            question=self.question.to_question(), background=self.background, decision_text=self.decision.text,
            decision_on=self.decision.on, self_assessment=dict(self.self_assessment), consent=self.consent,
            proposer=Proposer(self.proposer.name, str(self.proposer.email)), language=self.language,
            idempotency_key=idempotency_key,
        )


class ProposalCreated(BaseModel):
    id: str
    reference: str
    status: str
    status_url: str


class QuestionOut(BaseModel):
    population: str
    intervention: str
    comparison: str
    outcome: str

    @staticmethod
    def of(q: EffectQuestion) -> QuestionOut:
        return QuestionOut(population=q.population, intervention=q.intervention, comparison=q.comparison,
                           outcome=q.outcome)


class DecisionOut(BaseModel):
    text: str
    date: str | None


class ProposalOut(BaseModel):
    """A proposal as anyone may see it: no proposer name or address."""

    id: str
    reference: str
    region: str
    round: str
    municipality: str | None
    unit: str | None
    department: str
    service_area: str | None
    theme: str | None
    title: str
    question: QuestionOut
    background: str
    decision: DecisionOut
    self_assessment: dict[str, int]
    language: str
    status: str
    submitted_at: datetime


class HistoryOut(BaseModel):
    at: datetime
    event: str
    status: str
    status_label: str
    note: str
    related_reference: str | None


class PublicStatusOut(ProposalOut):
    status_label: str
    round_name: str
    service_area_label: str | None
    theme_label: str | None
    history: list[HistoryOut]


class SimilarProposalOut(BaseModel):
    reference: str
    title: str
    round: str
    status: str
    status_label: str
    submitted_at: datetime
    score: float
    status_url: str


class KnownSummaryOut(BaseModel):
    code: str
    title: str
    product: str
    product_label: str
    delivered: str
    url: str
    score: float


class SimilarOut(BaseModel):
    proposals: list[SimilarProposalOut]
    summaries: list[KnownSummaryOut]


def state_label(code: str, language: str) -> str:
    """A proposal state's label from the contracts' catalogue; an unknown code is shown as itself."""
    return translate(f"proposal.state.{code}", language, default=code)


def _proposal_out(proposal: Proposal) -> dict[str, Any]:
    return {
        "id": proposal.id, "reference": proposal.reference, "region": proposal.region, "round": proposal.round_id,
        "municipality": proposal.municipality_number, "unit": proposal.unit_code, "department": proposal.department,
        "service_area": proposal.service_area, "theme": proposal.theme, "title": proposal.title,
        "question": QuestionOut.of(proposal.question), "background": proposal.background,
        "decision": DecisionOut(
            text=proposal.decision_text, date=proposal.decision_on.isoformat() if proposal.decision_on else None
        ),
        "self_assessment": proposal.self_assessment, "language": proposal.language, "status": proposal.status,
        "submitted_at": proposal.submitted_at,
    }


def status_url(reference_code: str) -> str:
    return f"/api/intake/v1/proposals/by-reference/{reference_code}"


@router.post("/proposals", status_code=201, response_model=ProposalCreated, dependencies=[public])
async def submit_proposal(
    body: ProposalIn,
    response: Response,
    uow: UnitOfWorkDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> ProposalCreated:
    """Submit a proposal to an open round. The same Idempotency-Key returns the same proposal."""
    result = await service.submit_proposal(body.to_command(idempotency_key), uow)
    response.headers["Location"] = f"/api/intake/v1/proposals/{result.id}"
    if not result.created:
        response.status_code = 200
    return ProposalCreated(
        id=result.id, reference=result.reference, status="submitted", status_url=status_url(result.reference)
    )


@router.get("/proposals/by-reference/{reference_code}", response_model=PublicStatusOut, dependencies=[public])
async def public_status(
    reference_code: Annotated[str, PathParam(max_length=40)], reader: ReaderDep, language: ApiLanguageDep,
) -> PublicStatusOut:
    """A proposal's public status and history by its reference, without personal data."""
    found = await service.get_public_status(reference_code, reader)
    proposal = found.proposal
    area = reference.service_areas().get(proposal.service_area or "")
    theme = reference.themes().get(proposal.theme or "")
    return PublicStatusOut(
        **_proposal_out(proposal), status_label=state_label(proposal.status, language),
        round_name=found.round_name, service_area_label=area.label(language) if area else None,
        theme_label=theme.label(language) if theme else None,
        history=[
            HistoryOut(at=h.at, event=h.event, status=h.status, status_label=state_label(h.status, language),
                       note=h.note, related_reference=h.related_reference)
            for h in found.history
        ],
    )


@router.get("/proposals/{proposal_id}", response_model=ProposalOut, dependencies=[public])
async def get_proposal(proposal_id: str, reader: ReaderDep) -> ProposalOut:
    """One proposal, without personal data."""
    return ProposalOut(**_proposal_out(await service.get_proposal(proposal_id, reader)))


@router.get("/regions/{region}/similar", response_model=SimilarOut, dependencies=[public])
async def similar(
    region: Region,
    q: Annotated[str, Query(min_length=3, max_length=2000, description="Title and question text")],
    reader: ReaderDep,
    language: ApiLanguageDep,
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
) -> SimilarOut:
    """Earlier proposals of the region (the newest 5,000) and delivered summaries similar to `q`, best first."""
    found = await service.find_similar(region, q, reader, limit)
    return SimilarOut(
        proposals=[
            SimilarProposalOut(
                reference=r.item.reference, title=r.item.title, round=r.item.round_id, status=r.item.status,
                status_label=state_label(r.item.status, language), submitted_at=r.item.submitted_at,
                score=r.score, status_url=status_url(r.item.reference),
            )
            for r in found.proposals
        ],
        summaries=[
            KnownSummaryOut(
                code=r.item.code, title=r.item.title, product=r.item.product,
                product_label=translate(f"reference.product.{r.item.product}", language, default=r.item.product),
                delivered=r.item.delivered, url=r.item.url, score=r.score,
            )
            for r in found.summaries
        ],
    )
