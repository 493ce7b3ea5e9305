"""The screening API (/api/intake/v1/screening, the region's secretariat on every endpoint) and the proposer's
revision through a signed link (/api/intake/v1/proposals/by-reference/{reference}/revision, no login)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field

from intake.deps import ApiLanguageDep, LimitedBodyRoute, LinksDep, ReaderDep, Region, UnitOfWorkDep
from intake.proposals.api import Question, QuestionOut, state_label
from intake.proposals.model import ProposalState
from intake.rounds.model import RoundNotFound
from intake.screening import service
from intake.screening.model import (
    MAX_MERGE,
    MAX_PARTS,
    SCREENING_DECISIONS,
    Part,
    QueueFilter,
    ScreeningDecision,
    allowed,
)
from shared.auth import Principal, Role
from shared.web.access import Secretariat, SecretariatForResource, public

router = APIRouter(prefix="/api/intake/v1", tags=["screening"], route_class=LimitedBodyRoute)

StateCode = Literal[
    "submitted", "needs_completion", "needs_reformulation", "accepted", "answered_by_existing", "rejected", "merged",
    "carried_over",
]
DecisionCode = Literal["needs_completion", "needs_reformulation", "accepted", "answered_by_existing", "rejected"]
assert set(DecisionCode.__args__) == set(SCREENING_DECISIONS)  # type: ignore[attr-defined]
assert set(StateCode.__args__) == {s.value for s in ProposalState}  # type: ignore[attr-defined]
ProposalId = Annotated[str, PathParam(min_length=1, max_length=40)]
Reference = Annotated[str, PathParam(max_length=40)]


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
        min_length=1, max_length=MAX_MERGE, description="The duplicates to merge into this proposal",
    )
    note: str = Field(default="", max_length=5000)


class PartIn(_In):
    title: str = Field(min_length=5, max_length=200)
    question: Question
    background: str = Field(default="", max_length=10000)


class SplitIn(_In):
    parts: list[PartIn] = Field(min_length=1, max_length=MAX_PARTS)
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

    @staticmethod
    def of(change: service.StateChange) -> StateChangeOut:
        return StateChangeOut(proposal_id=change.proposal_id, reference=change.reference, status=change.status,
                              previous_status=change.previous_status)


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


def detail_out(detail: service.Detail, language: str) -> DetailOut:
    p = detail.proposal
    return DetailOut(
        id=p.id, reference=p.reference, region=p.region, round=p.round_id,
        round_name=detail.round.name if detail.round else None, status=p.status,
        status_label=state_label(p.status, language),
        allowed_decisions=[d.value for d in SCREENING_DECISIONS if allowed(p.status, d)],
        municipality=p.municipality_number, unit=p.unit_code, department=p.department,
        service_area=p.service_area, theme=p.theme, title=p.title, question=QuestionOut.of(p.question),
        background=p.background, language=p.language, submitted_at=p.submitted_at,
        contact=ContactOut(name=detail.contact.name, email=detail.contact.email) if detail.contact else None,
        notes=[NoteOut(id=n.id, at=n.at, author=n.author, text=n.text) for n in detail.notes],
        history=[
            TracedHistoryOut(at=h.at, event=h.event, status=h.status, status_label=state_label(h.status, language),
                             note=h.note, related_id=h.related_id, related_reference=h.related_reference)
            for h in detail.history
        ],
        carried_over=[CarriedOut(from_round=c.from_round_id, to_round=c.to_round_id, at=c.at) for c in detail.carried],
    )


async def _authorize(principal: Principal, proposal_id: str, reader: ReaderDep) -> None:
    """The secretariat of the proposal's own region, checked before anything is read out or changed."""
    principal.require(Role.SECRETARIAT, await service.proposal_region(proposal_id, reader))


@router.get("/screening/regions/{region}/rounds/{round_id}/proposals", response_model=QueueOut)
async def queue(
    *,
    region: Region,
    round_id: Annotated[str, PathParam(max_length=80)],
    principal: Secretariat,
    reader: ReaderDep,
    language: ApiLanguageDep,
    status: Annotated[StateCode | None, Query()] = None,
    service_area: Annotated[str | None, Query(max_length=60)] = None,
    theme: Annotated[str | None, Query(max_length=60)] = None,
    municipality: Annotated[str | None, Query(pattern=r"^[0-9]{4}$")] = None,
    unit: Annotated[str | None, Query(max_length=40)] = None,
    q: Annotated[str, Query(max_length=200, description="Text in the reference, title or question")] = "",
    page: Annotated[int, Query(ge=1, description="Which page of `size` proposals, oldest first")] = 1,
    size: Annotated[int, Query(ge=1, le=1000)] = 1000,
) -> QueueOut:
    """A round's proposals for screening, filtered, with the number in each state."""
    found = await service.screening_queue(
        QueueFilter(round_id, status, service_area, theme, municipality, unit, q), reader, page=page, size=size,
    )
    if found.round.region != region:
        raise RoundNotFound(f"round {round_id!r} does not exist in region {region!r}", field="round")
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
    proposal_id: ProposalId, principal: SecretariatForResource, reader: ReaderDep, language: ApiLanguageDep,
) -> DetailOut:
    """One proposal with its history, internal notes and the proposer's contact details (secretariat only)."""
    await _authorize(principal, proposal_id, reader)
    return detail_out(await service.screening_detail(proposal_id, reader), language)


@router.post("/screening/proposals/{proposal_id}/screen", response_model=StateChangeOut)
async def screen(
    *, proposal_id: ProposalId, body: ScreenIn, principal: SecretariatForResource, reader: ReaderDep,
    uow: UnitOfWorkDep, links: LinksDep,
) -> StateChangeOut:
    """Accept, reject (reason), answer with existing knowledge (link), or ask for completion or
    reformulation (request: the proposer gets a signed link to revise)."""
    await _authorize(principal, proposal_id, reader)
    decision = ScreeningDecision(body.status, body.note, body.reason, body.link, body.request)
    result = await service.screen_proposal(service.ScreenProposal(proposal_id, decision, principal.subject), uow, links)
    return StateChangeOut.of(result)


@router.post("/screening/proposals/{proposal_id}/classify", status_code=204)
async def classify(
    proposal_id: ProposalId, body: ClassifyIn, principal: SecretariatForResource, reader: ReaderDep,
    uow: UnitOfWorkDep,
) -> None:
    """Set the service area and theme (codes from GET /reference; null clears)."""
    await _authorize(principal, proposal_id, reader)
    await service.classify_proposal(
        service.ClassifyProposal(proposal_id, body.service_area or None, body.theme or None, principal.subject), uow,
    )


@router.post("/screening/proposals/{proposal_id}/merge", response_model=MergedOut)
async def merge(
    proposal_id: ProposalId, body: MergeIn, principal: SecretariatForResource, reader: ReaderDep,
    uow: UnitOfWorkDep,
) -> MergedOut:
    """Merge the listed duplicates into this proposal; each side's history names the other."""
    await _authorize(principal, proposal_id, reader)
    result = await service.merge_proposals(
        service.MergeProposals(proposal_id, tuple(body.proposal_ids), principal.subject, body.note), uow
    )
    return MergedOut(target_id=result.target_id, target_reference=result.target_reference, merged=list(result.merged))


@router.post("/screening/proposals/{proposal_id}/split", status_code=201, response_model=SplitOut)
async def split(
    proposal_id: ProposalId, body: SplitIn, principal: SecretariatForResource, reader: ReaderDep,
    uow: UnitOfWorkDep,
) -> SplitOut:
    """Split off new proposals (new references); the original keeps its text, state and a link to each."""
    await _authorize(principal, proposal_id, reader)
    parts = tuple(Part(p.title, p.question.to_question(), p.background) for p in body.parts)
    result = await service.split_proposal(service.SplitProposal(proposal_id, parts, principal.subject, body.note), uow)
    return SplitOut(original_id=result.original_id, original_reference=result.original_reference,
                    parts=[PartOut(id=i, reference=r) for i, r in result.parts])


@router.post("/screening/proposals/{proposal_id}/notes", status_code=201, response_model=NoteOut)
async def add_note(
    proposal_id: ProposalId, body: NoteIn, principal: SecretariatForResource, reader: ReaderDep,
    uow: UnitOfWorkDep,
) -> NoteOut:
    """An internal note: only the secretariat sees it (never the status page, never an event)."""
    await _authorize(principal, proposal_id, reader)
    note = await service.add_internal_note(service.AddInternalNote(proposal_id, body.text, principal.subject), uow)
    return NoteOut(id=note.id, at=note.at, author=note.author, text=note.text)


@router.post("/screening/proposals/{proposal_id}/carry-over", response_model=StateChangeOut)
async def carry_over(
    proposal_id: ProposalId, body: CarryOverIn, principal: SecretariatForResource, reader: ReaderDep,
    uow: UnitOfWorkDep,
) -> StateChangeOut:
    """Carry an accepted proposal that was not chosen into a later round (the next by default)."""
    await _authorize(principal, proposal_id, reader)
    result = await service.carry_over(service.CarryOver(proposal_id, principal.subject, body.round or None), uow)
    return StateChangeOut.of(result)


@router.get("/proposals/by-reference/{reference_code}/revision", response_model=RevisionOut, dependencies=[public])
async def revision(
    reference_code: Reference, token: Annotated[str, Query(min_length=10, max_length=500)], reader: ReaderDep,
    links: LinksDep, language: ApiLanguageDep,
) -> RevisionOut:
    """What the proposer's signed link opens: their question and the secretariat's request (no login)."""
    found = await service.get_revision(reference_code, token, reader, links)
    p = found.proposal
    return RevisionOut(
        reference=p.reference, status=found.status, status_label=state_label(found.status, language),
        request=found.request, expires_at=found.expires_at, title=p.title, question=QuestionOut.of(p.question),
        background=p.background,
    )


@router.post("/proposals/by-reference/{reference_code}/revision", response_model=StateChangeOut,
             dependencies=[public])
async def resubmit(reference_code: Reference, body: RevisionIn, uow: UnitOfWorkDep, links: LinksDep) -> StateChangeOut:
    """Resubmit the completed or reformulated proposal under the same reference (signed link's token)."""
    result = await service.resubmit_proposal(
        service.ResubmitProposal(reference_code, body.token, body.title, body.question.to_question(),
                                 body.background),
        uow, links,
    )
    return StateChangeOut.of(result)
