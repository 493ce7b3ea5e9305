"""The screening API (/api/intake/v1/screening, the region's secretariat on every endpoint) and the proposer's
revision through a signed link (/api/intake/v1/proposals/by-reference/{reference}/revision, no login)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field

from intake.adapters.screening_repository import QueueFilter
from intake.adapters.uow import IntakeReader, IntakeUnitOfWork
from intake.domain.model import EffectQuestion, ProposalState, state_label
from intake.domain.screening import SCREENING_DECISIONS, ScreeningDecision, allowed
from intake.entrypoints.http import REGION, IntakeRoute, Question, QuestionOut
from intake.service import screening
from shared.auth import Principal, Role, principal_dependency, require_role
from shared.db import Database
from shared.web.i18n import negotiate_language, register_messages

register_messages({
    "problem.transition-not-allowed": {
        "nb": "Forslaget kan ikke få denne statusen nå", "nn": "Forslaget kan ikkje få denne statusen no",
        "en": "The proposal cannot move to this state now",
    },
    "problem.proposal-not-active": {
        "nb": "Forslaget er ikke lenger aktivt", "nn": "Forslaget er ikkje lenger aktivt",
        "en": "The proposal is no longer active",
    },
    "problem.no-next-round": {
        "nb": "Regionen har ingen senere runde", "nn": "Regionen har ingen seinare runde",
        "en": "The region has no later round",
    },
    "problem.revise-link-invalid": {"nb": "Lenken er ikke gyldig", "nn": "Lenka er ikkje gyldig",
                                    "en": "The link is not valid"},
    "problem.revise-link-expired": {"nb": "Lenken er utløpt", "nn": "Lenka har gått ut", "en": "The link has expired"},
    "problem.revise-link-used": {
        "nb": "Lenken er allerede brukt", "nn": "Lenka er alt brukt", "en": "The link has been used already",
    },
    "problem.proposal-not-found": {"nb": "Fant ikke forslaget", "nn": "Fann ikkje forslaget",
                                   "en": "Proposal not found"},
    "rule.not-a-screening-decision": {
        "nb": "Velg en gyldig vurdering", "nn": "Vel ei gyldig vurdering", "en": "Choose a valid screening decision",
    },
    "rule.reason-required": {
        "nb": "Skriv en begrunnelse forslagsstilleren kan lese",
        "nn": "Skriv ei grunngiving forslagsstillaren kan lese",
        "en": "Give a reason the proposer can read",
    },
    "rule.link-required": {
        "nb": "Oppgi lenken til den eksisterende kunnskapen", "nn": "Oppgi lenka til den eksisterande kunnskapen",
        "en": "Give the link to the existing knowledge",
    },
    "rule.link-invalid": {
        "nb": "Lenken må begynne med https:// eller http://", "nn": "Lenka må byrje med https:// eller http://",
        "en": "The link must start with https:// or http://",
    },
    "rule.request-required": {
        "nb": "Skriv hva forslagsstilleren må fylle ut eller omformulere",
        "nn": "Skriv kva forslagsstillaren må fylle ut eller omformulere",
        "en": "Tell the proposer what to complete or reformulate",
    },
    "rule.text-too-long": {"nb": "Høyst {max} tegn", "nn": "Høgst {max} teikn", "en": "At most {max} characters"},
    "rule.merge-needs-proposals": {
        "nb": "Velg minst ett forslag å slå sammen", "nn": "Vel minst eitt forslag å slå saman",
        "en": "Choose at least one proposal to merge",
    },
    "rule.merge-into-itself": {
        "nb": "Et forslag kan ikke slås sammen med seg selv", "nn": "Eit forslag kan ikkje slåast saman med seg sjølv",
        "en": "A proposal cannot be merged into itself",
    },
    "rule.unknown-proposal": {"nb": "Ukjent forslag", "nn": "Ukjent forslag", "en": "Unknown proposal"},
    "rule.too-many": {"nb": "Høyst {max}", "nn": "Høgst {max}", "en": "At most {max}"},
    "rule.split-needs-parts": {
        "nb": "Beskriv minst ett nytt forslag", "nn": "Skildre minst eitt nytt forslag",
        "en": "Describe at least one new proposal",
    },
    "rule.not-a-later-round": {
        "nb": "Velg en senere runde i regionen", "nn": "Vel ein seinare runde i regionen",
        "en": "Choose a later round of the region",
    },
    "rule.missing": {"nb": "Må fylles ut", "nn": "Må fyllast ut", "en": "Required"},
    "rule.string_too_short": {
        "nb": "Må ha minst {min_length} tegn", "nn": "Må ha minst {min_length} teikn",
        "en": "At least {min_length} characters",
    },
})

StateCode = Literal[
    "submitted", "needs_completion", "needs_reformulation", "accepted", "answered_by_existing", "rejected", "merged",
    "carried_over",
]
DecisionCode = Literal["needs_completion", "needs_reformulation", "accepted", "answered_by_existing", "rejected"]
assert set(DecisionCode.__args__) == set(SCREENING_DECISIONS)  # type: ignore[attr-defined]
assert set(StateCode.__args__) == {s.value for s in ProposalState}  # type: ignore[attr-defined]


# Module level: with postponed annotations FastAPI resolves route annotations in the module's namespace.
ProposalId = Annotated[str, PathParam(min_length=1, max_length=40)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ScreenIn(_In):
    status: DecisionCode
    note: str = Field(default="", max_length=5000, description="Public note for the status page (optional)")
    reason: str = Field(default="", max_length=5000, description="Required for rejected; public")
    link: str = Field(default="", max_length=1000, description="Required for answered_by_existing")
    request: str = Field(default="", max_length=5000, description="Required for needs_completion/_reformulation")


class ClassifyIn(_In):
    service_area: str | None = Field(default=None, max_length=60)
    theme: str | None = Field(default=None, max_length=60)


class MergeIn(_In):
    proposal_ids: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        min_length=1, max_length=screening.MAX_MERGE, description="The duplicates to merge into this proposal",
    )
    note: str = Field(default="", max_length=5000)


class PartIn(_In):
    title: str = Field(min_length=5, max_length=200)
    question: Question
    background: str = Field(default="", max_length=10000)


class SplitIn(_In):
    parts: list[PartIn] = Field(min_length=1, max_length=screening.MAX_PARTS)
    note: str = Field(default="", max_length=5000)


class NoteIn(_In):
    text: str = Field(min_length=1, max_length=5000)


class CarryOverIn(_In):
    round: str | None = Field(default=None, max_length=80, description="A later round; the region's next when empty")


class RevisionIn(_In):
    token: str = Field(min_length=10, max_length=500)
    title: str = Field(min_length=5, max_length=200)
    question: Question
    background: str = Field(default="", max_length=10000)


class QueueItemOut(BaseModel):
    id: str
    reference: str
    title: str
    status: str
    status_label: str
    municipality: str | None
    unit: str | None
    service_area: str | None
    theme: str | None
    submitted_at: datetime


class QueueOut(BaseModel):
    region: str
    round: str
    round_name: str
    counts: dict[str, int]
    total: int
    proposals: list[QueueItemOut]


class ContactOut(BaseModel):
    name: str
    email: str


class NoteOut(BaseModel):
    id: str
    at: datetime
    author: str
    text: str


class TracedHistoryOut(BaseModel):
    at: datetime
    event: str
    status: str
    status_label: str
    note: str
    related_id: str | None
    related_reference: str | None


class CarriedOut(BaseModel):
    from_round: str
    to_round: str
    at: datetime


class DetailOut(BaseModel):
    """A proposal as the secretariat sees it: with the proposer's contact and the internal notes."""

    id: str
    reference: str
    region: str
    round: str
    round_name: str | None
    status: str
    status_label: str
    allowed_decisions: list[str]
    municipality: str | None
    unit: str | None
    department: str
    service_area: str | None
    theme: str | None
    title: str
    question: QuestionOut
    background: str
    language: str
    submitted_at: datetime
    contact: ContactOut | None
    notes: list[NoteOut]
    history: list[TracedHistoryOut]
    carried_over: list[CarriedOut]


class StateChangeOut(BaseModel):
    proposal_id: str
    reference: str
    status: str
    previous_status: str


class MergedOut(BaseModel):
    target_id: str
    target_reference: str
    merged: list[str]


class PartOut(BaseModel):
    id: str
    reference: str


class SplitOut(BaseModel):
    original_id: str
    original_reference: str
    parts: list[PartOut]


class RevisionOut(BaseModel):
    """What the proposer may see through the link: their own question and what the secretariat asked."""

    reference: str
    status: str
    status_label: str
    request: str
    expires_at: datetime
    title: str
    question: QuestionOut
    background: str


def _question(q: Question) -> EffectQuestion:
    return EffectQuestion(q.population, q.intervention, q.comparison, q.outcome)


def _question_out(q: EffectQuestion) -> QuestionOut:
    return QuestionOut(population=q.population, intervention=q.intervention, comparison=q.comparison,
                       outcome=q.outcome)


def detail_out(detail: screening.Detail, language: str) -> DetailOut:
    p = detail.proposal
    return DetailOut(
        id=p.id, reference=p.reference, region=p.region, round=p.round_id,
        round_name=detail.round.name if detail.round else None, status=p.status,
        status_label=state_label(p.status, language),
        allowed_decisions=[d.value for d in SCREENING_DECISIONS if allowed(p.status, d)],
        municipality=p.municipality_number, unit=p.unit_code, department=p.department,
        service_area=p.service_area, theme=p.theme, title=p.title, question=_question_out(p.question),
        background=p.background, language=p.language, submitted_at=p.submitted_at,
        contact=ContactOut(name=detail.contact.name, email=detail.contact.email) if detail.contact else None,
        notes=[NoteOut(id=n.id, at=n.at, author=n.author, text=n.text) for n in detail.notes],
        history=[
            TracedHistoryOut(at=h.at, event=h.event, status=h.status, status_label=state_label(h.status, language),
                             note=h.note, related_id=h.related_id, related_reference=h.related_reference)
            for h in detail.history
        ],
        carried_over=[CarriedOut(from_round=f, to_round=t, at=at) for f, t, at in detail.carried],
    )


def build_screening_router(
    database: Database, new_uow: Callable[[], IntakeUnitOfWork], auth_secret: str, links: screening.RevisionLinks,
) -> APIRouter:
    router = APIRouter(prefix="/api/intake/v1", tags=["screening"], route_class=IntakeRoute)
    current_principal = principal_dependency(auth_secret)

    def reader() -> IntakeReader:
        return IntakeReader(database)

    async def authorized(proposal_id: str, principal: Principal) -> None:
        """The secretariat of the proposal's own region, checked before anything is read out or changed."""
        require_role(principal, Role.SECRETARIAT, await screening.proposal_region(proposal_id, reader()))

    @router.get("/screening/regions/{region}/rounds/{round_id}/proposals", response_model=QueueOut)
    async def queue(
        *,
        request: Request,
        region: Annotated[str, PathParam(pattern=REGION)],
        round_id: Annotated[str, PathParam(max_length=80)],
        status: Annotated[StateCode | None, Query()] = None,
        service_area: Annotated[str | None, Query(max_length=60)] = None,
        theme: Annotated[str | None, Query(max_length=60)] = None,
        municipality: Annotated[str | None, Query(pattern=r"^[0-9]{4}$")] = None,
        unit: Annotated[str | None, Query(max_length=40)] = None,
        q: Annotated[str, Query(max_length=200, description="Text in the reference, title or question")] = "",
        principal: Principal = Depends(current_principal),
    ) -> QueueOut:
        """A round's proposals for screening, filtered, with the number in each state."""
        require_role(principal, Role.SECRETARIAT, region)
        language = negotiate_language(request)
        found = await screening.screening_queue(
            QueueFilter(round_id, status, service_area, theme, municipality, unit, q), reader()
        )
        if found.round.region != region:
            raise screening.RoundNotFound(f"round {round_id!r} does not exist in region {region!r}", field="round")
        return QueueOut(
            region=region, round=found.round.id, round_name=found.round.name, counts=found.counts,
            total=sum(found.counts.values()),
            proposals=[
                QueueItemOut(
                    id=i.id, reference=i.reference, title=i.title, status=i.status,
                    status_label=state_label(i.status, language), municipality=i.municipality_number,
                    unit=i.unit_code, service_area=i.service_area, theme=i.theme, submitted_at=i.submitted_at,
                )
                for i in found.items
            ],
        )

    @router.get("/screening/proposals/{proposal_id}", response_model=DetailOut)
    async def detail(
        request: Request, proposal_id: ProposalId, principal: Principal = Depends(current_principal),
    ) -> DetailOut:
        """One proposal with its history, internal notes and the proposer's contact details (secretariat only)."""
        await authorized(proposal_id, principal)
        found = await screening.screening_detail(proposal_id, reader())
        return detail_out(found, negotiate_language(request))

    @router.post("/screening/proposals/{proposal_id}/screen", response_model=StateChangeOut)
    async def screen(
        proposal_id: ProposalId, body: ScreenIn, principal: Principal = Depends(current_principal),
    ) -> StateChangeOut:
        """Accept, reject (reason), answer with existing knowledge (link), or ask for completion or
        reformulation (request: the proposer gets a signed link to revise)."""
        await authorized(proposal_id, principal)
        result = await screening.screen_proposal(
            screening.ScreenProposal(
                proposal_id, ScreeningDecision(body.status, body.note, body.reason, body.link, body.request),
                principal.subject,
            ),
            new_uow(), links,
        )
        return StateChangeOut(proposal_id=result.proposal_id, reference=result.reference, status=result.status,
                              previous_status=result.previous_status)

    @router.post("/screening/proposals/{proposal_id}/classify", status_code=204)
    async def classify(
        proposal_id: ProposalId, body: ClassifyIn, principal: Principal = Depends(current_principal),
    ) -> None:
        """Set the service area and theme (codes from GET /reference; null clears)."""
        await authorized(proposal_id, principal)
        await screening.classify_proposal(
            screening.ClassifyProposal(proposal_id, body.service_area or None, body.theme or None, principal.subject),
            new_uow(),
        )

    @router.post("/screening/proposals/{proposal_id}/merge", response_model=MergedOut)
    async def merge(
        proposal_id: ProposalId, body: MergeIn, principal: Principal = Depends(current_principal),
    ) -> MergedOut:
        """Merge the listed duplicates into this proposal; each side's history names the other."""
        await authorized(proposal_id, principal)
        result = await screening.merge_proposals(
            screening.MergeProposals(proposal_id, tuple(body.proposal_ids), principal.subject, body.note), new_uow()
        )
        return MergedOut(target_id=result.target_id, target_reference=result.target_reference,
                         merged=list(result.merged))

    @router.post("/screening/proposals/{proposal_id}/split", status_code=201, response_model=SplitOut)
    async def split(
        proposal_id: ProposalId, body: SplitIn, principal: Principal = Depends(current_principal),
    ) -> SplitOut:
        """Split off new proposals (new references); the original keeps its text, state and a link to each."""
        await authorized(proposal_id, principal)
        result = await screening.split_proposal(
            screening.SplitProposal(
                proposal_id,
                tuple(screening.Part(p.title, _question(p.question), p.background) for p in body.parts),
                principal.subject, body.note,
            ),
            new_uow(),
        )
        return SplitOut(original_id=result.original_id, original_reference=result.original_reference,
                        parts=[PartOut(id=i, reference=r) for i, r in result.parts])

    @router.post("/screening/proposals/{proposal_id}/notes", status_code=201, response_model=NoteOut)
    async def add_note(
        proposal_id: ProposalId, body: NoteIn, principal: Principal = Depends(current_principal),
    ) -> NoteOut:
        """An internal note: only the secretariat sees it (never the status page, never an event)."""
        await authorized(proposal_id, principal)
        note = await screening.add_internal_note(
            screening.AddInternalNote(proposal_id, body.text, principal.subject), new_uow()
        )
        return NoteOut(id=note.id, at=note.at, author=note.author, text=note.text)

    @router.post("/screening/proposals/{proposal_id}/carry-over", response_model=StateChangeOut)
    async def carry_over(
        proposal_id: ProposalId, body: CarryOverIn, principal: Principal = Depends(current_principal),
    ) -> StateChangeOut:
        """Carry an accepted proposal that was not chosen into a later round (the next by default)."""
        await authorized(proposal_id, principal)
        result = await screening.carry_over(
            screening.CarryOver(proposal_id, principal.subject, body.round or None), new_uow()
        )
        return StateChangeOut(proposal_id=result.proposal_id, reference=result.reference, status=result.status,
                              previous_status=result.previous_status)

    @router.get("/proposals/by-reference/{reference_code}/revision", response_model=RevisionOut)
    async def revision(
        request: Request, reference_code: Annotated[str, PathParam(max_length=40)],
        token: Annotated[str, Query(min_length=10, max_length=500)],
    ) -> RevisionOut:
        """What the proposer's signed link opens: their question and the secretariat's request (no login)."""
        found = await screening.get_revision(reference_code, token, reader(), links)
        p = found.proposal
        return RevisionOut(
            reference=p.reference, status=found.status, status_label=state_label(found.status,
                                                                                negotiate_language(request)),
            request=found.request, expires_at=found.expires_at, title=p.title, question=_question_out(p.question),
            background=p.background,
        )

    @router.post("/proposals/by-reference/{reference_code}/revision", response_model=StateChangeOut)
    async def resubmit(reference_code: Annotated[str, PathParam(max_length=40)], body: RevisionIn) -> StateChangeOut:
        """Resubmit the completed or reformulated proposal under the same reference (signed link's token)."""
        result = await screening.resubmit_proposal(
            screening.ResubmitProposal(reference_code, body.token, body.title, _question(body.question),
                                       body.background),
            new_uow(), links,
        )
        return StateChangeOut(proposal_id=result.proposal_id, reference=result.reference, status=result.status,
                              previous_status=result.previous_status)

    return router

