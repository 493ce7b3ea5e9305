"""Intake's JSON API (/api/intake/v1): rounds, proposals, public status, similar questions and reference data."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from intake.adapters.repository import ProposalRepository
from intake.adapters.uow import IntakeReader, IntakeUnitOfWork
from intake.domain import reference
from intake.domain.model import (
    EffectQuestion,
    InvalidInput,
    Proposal,
    ProposalNotFound,
    Proposer,
    Round,
    RoundStatus,
    round_status_label,
    state_label,
)
from intake.service import use_cases
from shared.auth import Principal, Role, principal_dependency, require_role
from shared.db import Database
from shared.web.i18n import negotiate_language, register_messages, translate
from shared.web.problems import DomainError

REGION = r"^[a-z][a-z0-9-]{1,30}$"
ROUND_ID = r"^[a-z0-9][a-z0-9-]{2,79}$"
# Larger than any valid proposal (the longest texts add up to about 30 KB of UTF-8); refusing before parsing
# keeps a flood of huge bodies from costing memory and JSON parsing.
MAX_BODY_BYTES = 64 * 1024
PUBLIC_ZONE = ZoneInfo("Europe/Oslo")

# Titles and field messages of intake's rules. Registered here, beside the rules' only HTTP users.
register_messages({
    "problem.payload-too-large": {
        "nb": "Forespørselen er for stor", "nn": "Førespurnaden er for stor", "en": "The request is too large",
    },
    "problem.round-exists": {"nb": "Runden finnes allerede", "nn": "Runden finst alt", "en": "The round exists"},
    "rule.closes-before-opens": {
        "nb": "Runden må stenge etter at den åpner", "nn": "Runden må stengje etter at han opnar",
        "en": "The round must close after it opens",
    },
    "rule.unknown-time-zone": {
        "nb": "Ukjent tidssone (bruk for eksempel Europe/Oslo)", "nn": "Ukjend tidssone (bruk til dømes Europe/Oslo)",
        "en": "Unknown time zone (use e.g. Europe/Oslo)",
    },
    "rule.unknown-language": {"nb": "Språket må være nb eller nn", "nn": "Språket må vere nb eller nn",
                              "en": "The language must be nb or nn"},
    "rule.unknown-criteria-set": {"nb": "Ukjent kriteriesett", "nn": "Ukjent kriteriesett",
                                  "en": "Unknown criteria set"},
    "rule.date-before-previous-milestone": {
        "nb": "Datoen kan ikke være før {previous} ({date})", "nn": "Datoen kan ikkje vere før {previous} ({date})",
        "en": "The date cannot be before {previous} ({date})",
    },
    "rule.municipality-or-unit": {
        "nb": "Oppgi enten en kommune eller en enhet", "nn": "Oppgi anten ein kommune eller ei eining",
        "en": "Give either a municipality or a unit",
    },
    "rule.unknown-municipality": {
        "nb": "Kommunenummeret {number} gjelder ikke {date}", "nn": "Kommunenummeret {number} gjeld ikkje {date}",
        "en": "Municipality number {number} is not valid on {date}",
    },
    "rule.unknown-unit": {"nb": "Ukjent enhet", "nn": "Ukjend eining", "en": "Unknown unit"},
    "rule.unknown-service-area": {"nb": "Ukjent tjenesteområde", "nn": "Ukjent tenesteområde",
                                  "en": "Unknown service area"},
    "rule.unknown-theme": {"nb": "Ukjent tema", "nn": "Ukjent tema", "en": "Unknown theme"},
    "rule.unknown-criterion": {"nb": "Ikke et kriterium i denne runden", "nn": "Ikkje eit kriterium i denne runden",
                               "en": "Not a criterion of this round"},
    "rule.score-out-of-range": {"nb": "Må være fra {min} til {max}", "nn": "Må vere frå {min} til {max}",
                                "en": "Must be from {min} to {max}"},
    "rule.decision-text-required": {
        "nb": "Beskriv beslutningen datoen gjelder", "nn": "Skildre avgjerda datoen gjeld",
        "en": "Describe the decision the date belongs to",
    },
    "rule.consent-required": {
        "nb": "Du må samtykke før du kan sende inn", "nn": "Du må samtykkje før du kan sende inn",
        "en": "Consent is required to submit",
    },
    "rule.greater_than_equal": {"nb": "Må være minst {ge}", "nn": "Må vere minst {ge}", "en": "Must be at least {ge}"},
    "rule.less_than_equal": {"nb": "Kan være høyst {le}", "nn": "Kan vere høgst {le}", "en": "Must be at most {le}"},
    "rule.int_parsing": {"nb": "Må være et heltall", "nn": "Må vere eit heiltal", "en": "Must be a whole number"},
    "rule.bool_parsing": {"nb": "Må være ja eller nei", "nn": "Må vere ja eller nei", "en": "Must be yes or no"},
    "rule.date_from_datetime_parsing": {"nb": "Må være en dato (ÅÅÅÅ-MM-DD)", "nn": "Må vere ein dato (ÅÅÅÅ-MM-DD)",
                                        "en": "Must be a date (YYYY-MM-DD)"},
    "rule.datetime_from_date_parsing": {
        "nb": "Må være et tidspunkt (ÅÅÅÅ-MM-DDTHH:MM)", "nn": "Må vere eit tidspunkt (ÅÅÅÅ-MM-DDTHH:MM)",
        "en": "Must be a date and time (YYYY-MM-DDTHH:MM)",
    },
    "rule.too_long": {"nb": "For mange verdier", "nn": "For mange verdiar", "en": "Too many values"},
})


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload-too-large"


class IntakeRoute(APIRoute):
    """Refuses bodies over MAX_BODY_BYTES before they are parsed, and words intake's rule messages in the
    caller's language (the shared handler gives only the title)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def limited(request: Request) -> Response:
            if request.method in ("POST", "PUT", "PATCH"):
                await _read_limited_body(request)
            try:
                return await handler(request)
            except InvalidInput as error:
                language = negotiate_language(request)
                error.extra["errors"] = [
                    {"field": p.field, "rule": p.rule,
                     "message": translate(f"rule.{p.rule}", language, default=p.message, **p.params)}
                    for p in error.problems
                ]
                raise

        return limited


async def _read_limited_body(request: Request) -> None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body has {declared} bytes; at most {MAX_BODY_BYTES} are accepted")
    body = bytearray()
    async for chunk in request.stream():  # a chunked body has no length: count as it arrives
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"the body is larger than {MAX_BODY_BYTES} bytes")
    # FastAPI reads the body from this cache; the stream itself can be read only once.
    request._body = bytes(body)


# --- Models --------------------------------------------------------------------------------------------------------


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    population: str = Field(min_length=3, max_length=2000, description="Who: the patients or users concerned")
    intervention: str = Field(min_length=3, max_length=2000, description="What measure or practice")
    comparison: str = Field(default="", max_length=2000, description="Compared with what (may be empty)")
    outcome: str = Field(min_length=3, max_length=2000, description="Which effect matters")


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

    region: str = Field(pattern=REGION)
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


class RoundIn(BaseModel):
    """A round as the secretariat sets it. Timestamps without an offset are wall-clock time in `time_zone`."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=3, max_length=200)
    opens_at: datetime
    closes_at: datetime
    time_zone: str = Field(default="Europe/Oslo", min_length=1, max_length=64)
    default_language: str = Field(default="nb", min_length=2, max_length=2)
    committee_meeting_on: date | None = None
    decision_on: date | None = None
    final_report_on: date | None = None
    criteria_set: str | None = Field(default=use_cases.DEFAULT_CRITERIA_SET, max_length=80)
    capacity_note: str = Field(default="", max_length=5000)

    def fields(self) -> use_cases.RoundFields:
        return use_cases.RoundFields(**self.model_dump())


class RoundCreateIn(RoundIn):
    id: str | None = Field(default=None, pattern=ROUND_ID, description="Generated when not given")

    def fields(self) -> use_cases.RoundFields:
        return use_cases.RoundFields(**self.model_dump(exclude={"id"}))


class CriterionOut(BaseModel):
    code: str
    label: str
    help: str
    inverse: bool


class RoundOut(BaseModel):
    id: str
    region: str
    name: str
    status: str
    status_label: str
    opens_at: datetime
    closes_at: datetime
    time_zone: str
    default_language: str
    committee_meeting_on: date | None
    decision_on: date | None
    final_report_on: date | None
    criteria_set: str | None
    capacity_note: str


class RoundDetailOut(RoundOut):
    criteria: list[CriterionOut]


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


class MunicipalityOut(BaseModel):
    number: str
    name: str
    valid_from: date
    valid_to: date | None
    successor: str | None


class UnitOut(BaseModel):
    code: str
    name: str
    kind: str
    host_municipality: str


class LabelledOut(BaseModel):
    code: str
    label: str


class CriteriaSetOut(BaseModel):
    code: str
    label: str
    min: int
    max: int
    criteria: list[CriterionOut]


class ReferenceOut(BaseModel):
    date: date
    language: str
    municipalities: list[MunicipalityOut]
    units: list[UnitOut]
    service_areas: list[LabelledOut]
    themes: list[LabelledOut]
    criteria_sets: list[CriteriaSetOut]


# --- Mapping -------------------------------------------------------------------------------------------------------


def _criteria(code: str | None, language: str) -> list[CriterionOut]:
    found = reference.criteria_set(code)
    if found is None:
        return []
    return [
        CriterionOut(code=c.code, label=reference.label(c.labels, language), help=reference.label(c.help, language),
                     inverse=c.inverse)
        for c in found.criteria
    ]


def _round_out(round_: Round, now: datetime, language: str) -> dict[str, Any]:
    status = round_.status_at(now)
    return {
        "id": round_.id, "region": round_.region, "name": round_.name, "status": status.value,
        "status_label": round_status_label(status, language), "opens_at": round_.opens_at,
        "closes_at": round_.closes_at, "time_zone": round_.time_zone, "default_language": round_.default_language,
        "committee_meeting_on": round_.committee_meeting_on, "decision_on": round_.decision_on,
        "final_report_on": round_.final_report_on, "criteria_set": round_.criteria_set,
        "capacity_note": round_.capacity_note,
    }


def _round_detail(round_: Round, language: str) -> RoundDetailOut:
    return RoundDetailOut(
        **_round_out(round_, datetime.now(UTC), language), criteria=_criteria(round_.criteria_set, language)
    )


def _proposal_out(proposal: Proposal) -> dict[str, Any]:
    q = proposal.question
    return {
        "id": proposal.id, "reference": proposal.reference, "region": proposal.region, "round": proposal.round_id,
        "municipality": proposal.municipality_number, "unit": proposal.unit_code, "department": proposal.department,
        "service_area": proposal.service_area, "theme": proposal.theme, "title": proposal.title,
        "question": QuestionOut(population=q.population, intervention=q.intervention, comparison=q.comparison,
                                outcome=q.outcome),
        "background": proposal.background,
        "decision": DecisionOut(
            text=proposal.decision_text, date=proposal.decision_on.isoformat() if proposal.decision_on else None
        ),
        "self_assessment": proposal.self_assessment, "language": proposal.language, "status": proposal.status,
        "submitted_at": proposal.submitted_at,
    }


def _status_url(reference_code: str) -> str:
    return f"/api/intake/v1/proposals/by-reference/{reference_code}"


def build_router(
    database: Database, new_uow: Callable[[], IntakeUnitOfWork], auth_secret: str
) -> APIRouter:
    router = APIRouter(prefix="/api/intake/v1", tags=["intake"], route_class=IntakeRoute)
    current_principal = principal_dependency(auth_secret)

    def reader() -> IntakeReader:
        return IntakeReader(database)

    @router.get("/regions/{region}/rounds", response_model=list[RoundOut])
    async def list_rounds(
        request: Request,
        region: Annotated[str, PathParam(pattern=REGION)],
        status: Annotated[Literal["planned", "open", "closed"] | None, Query()] = None,
    ) -> list[RoundOut]:
        """The region's rounds by opening time, optionally only those with the given status right now."""
        now = datetime.now(UTC)
        language = negotiate_language(request)
        found = await use_cases.list_rounds(region, reader(), RoundStatus(status) if status else None, now)
        return [RoundOut(**_round_out(r, now, language)) for r in found]

    @router.get("/rounds/{round_id}", response_model=RoundDetailOut)
    async def get_round(request: Request, round_id: str) -> RoundDetailOut:
        """One round with its timeline and its criteria (labels in the caller's language)."""
        return _round_detail(await use_cases.get_round(round_id, reader()), negotiate_language(request))

    @router.post("/regions/{region}/rounds", status_code=201, response_model=RoundDetailOut)
    async def create_round(
        request: Request,
        response: Response,
        region: Annotated[str, PathParam(pattern=REGION)],
        body: RoundCreateIn,
        principal: Principal = Depends(current_principal),
    ) -> RoundDetailOut:
        """Create a round (the region's secretariat). Its opening and closing are announced by the clock."""
        require_role(principal, Role.SECRETARIAT, region)
        round_ = await use_cases.create_round(use_cases.CreateRound(region, body.fields(), body.id), new_uow())
        response.headers["Location"] = f"/api/intake/v1/rounds/{round_.id}"
        return _round_detail(round_, negotiate_language(request))

    @router.put("/rounds/{round_id}", response_model=RoundDetailOut)
    async def update_round(
        request: Request,
        round_id: str,
        body: RoundIn,
        principal: Principal = Depends(current_principal),
    ) -> RoundDetailOut:
        """Replace a round's settings (the secretariat of its region). Moving a window re-arms its announcement."""
        existing = await use_cases.get_round(round_id, reader())
        require_role(principal, Role.SECRETARIAT, existing.region)
        round_ = await use_cases.update_round(use_cases.UpdateRound(round_id, body.fields()), new_uow())
        return _round_detail(round_, negotiate_language(request))

    @router.post("/proposals", status_code=201, response_model=ProposalCreated)
    async def submit_proposal(
        body: ProposalIn,
        response: Response,
        idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    ) -> ProposalCreated:
        """Submit a proposal to an open round. The same Idempotency-Key returns the same proposal."""
        result = await use_cases.submit_proposal(
            use_cases.SubmitProposal(
                region=body.region, round_id=body.round, municipality_number=body.municipality, unit_code=body.unit,
                department=body.department, service_area=body.service_area, theme=body.theme, title=body.title,
                question=EffectQuestion(
                    body.question.population, body.question.intervention, body.question.comparison,
                    body.question.outcome,
                ),
                background=body.background, decision_text=body.decision.text, decision_on=body.decision.on,
                self_assessment=dict(body.self_assessment), consent=body.consent,
                proposer=Proposer(body.proposer.name, str(body.proposer.email)),
                language=body.language, idempotency_key=idempotency_key,
            ),
            new_uow(),
        )
        response.headers["Location"] = f"/api/intake/v1/proposals/{result.id}"
        if not result.created:
            response.status_code = 200
        return ProposalCreated(
            id=result.id, reference=result.reference, status="submitted", status_url=_status_url(result.reference)
        )

    @router.get("/proposals/by-reference/{reference_code}", response_model=PublicStatusOut)
    async def public_status(
        request: Request, reference_code: Annotated[str, PathParam(max_length=40)]
    ) -> PublicStatusOut:
        """A proposal's public status and history by its reference, without personal data."""
        language = negotiate_language(request)
        found = await use_cases.get_public_status(reference_code, reader())
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

    @router.get("/proposals/{proposal_id}", response_model=ProposalOut)
    async def get_proposal(proposal_id: str) -> ProposalOut:
        """One proposal, without personal data."""
        async with database.reader() as session:
            proposal = await ProposalRepository(session).get(proposal_id)
        if proposal is None:
            raise ProposalNotFound(f"no proposal with id {proposal_id!r}")
        return ProposalOut(**_proposal_out(proposal))

    @router.get("/regions/{region}/similar", response_model=SimilarOut)
    async def similar(
        request: Request,
        region: Annotated[str, PathParam(pattern=REGION)],
        q: Annotated[str, Query(min_length=3, max_length=2000, description="Title and question text")],
        limit: Annotated[int, Query(ge=1, le=20)] = 5,
    ) -> SimilarOut:
        """Earlier proposals of the region (the newest 5,000) and delivered summaries similar to `q`, best first."""
        language = negotiate_language(request)
        found = await use_cases.find_similar(region, q, reader(), limit)
        return SimilarOut(
            proposals=[
                SimilarProposalOut(
                    reference=r.item.reference, title=r.item.title, round=r.item.round_id, status=r.item.status,
                    status_label=state_label(r.item.status, language), submitted_at=r.item.submitted_at,
                    score=r.score, status_url=_status_url(r.item.reference),
                )
                for r in found.proposals
            ],
            summaries=[
                KnownSummaryOut(
                    code=r.item.code, title=r.item.title, product=r.item.product,
                    product_label=reference.product_label(r.item.product, language), delivered=r.item.delivered,
                    url=r.item.url, score=r.score,
                )
                for r in found.summaries
            ],
        )

    @router.get("/reference", response_model=ReferenceOut)
    async def reference_lists(
        request: Request, day: Annotated[date | None, Query(alias="date", description="YYYY-MM-DD; today")] = None,
    ) -> ReferenceOut:
        """Municipalities and units valid on the date, service areas, themes and criteria sets, labelled (?lang=)."""
        language = negotiate_language(request)
        data = use_cases.reference_data(day or datetime.now(PUBLIC_ZONE).date())
        return ReferenceOut(
            date=data.day, language=language,
            municipalities=[
                MunicipalityOut(number=m.number, name=m.name, valid_from=m.valid_from, valid_to=m.valid_to,
                                successor=m.successor)
                for m in data.municipalities
            ],
            units=[UnitOut(code=u.code, name=u.name, kind=u.kind, host_municipality=u.host_municipality)
                   for u in data.units],
            service_areas=[LabelledOut(code=a.code, label=a.label(language)) for a in data.service_areas],
            themes=[LabelledOut(code=t.code, label=t.label(language)) for t in data.themes],
            criteria_sets=[
                CriteriaSetOut(code=s.code, label=reference.label(s.labels, language), min=s.minimum, max=s.maximum,
                               criteria=_criteria(s.code, language))
                for s in data.criteria_sets
            ],
        )

    return router
