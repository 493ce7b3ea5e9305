"""The secretariat's screening use cases, and the proposer's resubmission through a signed link.

Each command commits once through the unit of work. Every state change writes a public history row, publishes a
domain event (ids and codes, no personal data, never an internal note) and asks notify, on the contacts stream,
to tell the proposer: the author is always told when their proposal's state changes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from math import ceil
from typing import Protocol

import uuid_utils

from intake.proposals.model import (
    EffectQuestion,
    HistoryEntry,
    Proposal,
    ProposalNotFound,
    ProposalState,
    Proposer,
    check_classification,
    format_reference,
)
from intake.proposals.repository import Proposals
from intake.proposals.service import submitted_event
from intake.reference import model as reference
from intake.rounds.model import Round, RoundNotFound
from intake.rounds.repository import Rounds
from intake.screening.links import RevisionLinks
from intake.screening.model import (
    ACTIVE,
    AWAITING_PROPOSER,
    QUEUE_SORT_KEYS,
    CarriedOver,
    InternalNote,
    NoNextRound,
    Part,
    ProposalNotActive,
    QueueFilter,
    QueueItem,
    QueueOrder,
    RevisionLinkExpired,
    RevisionLinkInvalid,
    RevisionLinkUsed,
    RevisionRequest,
    ScreeningDecision,
    TracedEntry,
    check_merge,
    check_note,
    check_parts,
    ensure_transition,
)
from intake.screening.repository import Screening
from shared.contracts import events
from shared.contracts.subjects import (
    PROPOSAL_CARRIED_OVER,
    PROPOSAL_CLASSIFIED,
    PROPOSAL_MERGED,
    PROPOSAL_RESUBMITTED,
    PROPOSAL_SCREENED,
    PROPOSAL_SPLIT,
    PROPOSAL_SUBMITTED,
    STATUS_NOTICE_REQUESTED,
)
from shared.errors import FieldProblem, raise_problems
from shared.i18n import translate
from shared.messaging.ports import ReadOnly, Transaction

S = ProposalState


class ScreeningUnitOfWork(Transaction, Protocol):
    @property
    def rounds(self) -> Rounds: ...

    @property
    def proposals(self) -> Proposals: ...

    @property
    def screening(self) -> Screening: ...


class ScreeningReader(ReadOnly, Protocol):
    @property
    def rounds(self) -> Rounds: ...

    @property
    def proposals(self) -> Proposals: ...

    @property
    def screening(self) -> Screening: ...


# --- Helpers -------------------------------------------------------------------------------------------------------


async def _proposal(uow: ScreeningUnitOfWork | ScreeningReader, proposal_id: str) -> Proposal:
    proposal = await uow.proposals.get(proposal_id)
    if proposal is None:
        raise ProposalNotFound(f"no proposal with id {proposal_id!r}", field="proposal")
    return proposal


def _event_municipality(proposal: Proposal) -> str:
    return reference.host_municipality(proposal.municipality_number, proposal.unit_code)


async def _request_notice(
    uow: ScreeningUnitOfWork, proposal: Proposal, change: tuple[str, str], note: str, cause_event_id: str, *,
    revise_url: str | None = None,
) -> None:
    """Ask notify to tell the proposer about `change` (previous, new state); the address travels only on the
    contacts stream."""
    previous, status = change
    contact = await uow.screening.contact(proposal.id)
    if contact is None:
        return
    uow.publish(
        STATUS_NOTICE_REQUESTED, region=proposal.region, subject_id=proposal.id,
        data=events.StatusNoticeRequestedV1(
            proposal_id=proposal.id, reference=proposal.reference, title=proposal.title, language=proposal.language,
            status=status, previous_status=previous, note=note, revise_url=revise_url, cause_event_id=cause_event_id,
            recipient=events.Recipient(name=contact.name, email=contact.email),
        ),
    )


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _event_question(question: EffectQuestion) -> events.EffectQuestion:
    return events.EffectQuestion(
        population=question.population, intervention=question.intervention, comparison=question.comparison,
        outcome=question.outcome,
    )


# --- Screen --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScreenProposal:
    proposal_id: str
    decision: ScreeningDecision
    actor: str


@dataclass(frozen=True)
class StateChange:
    proposal_id: str
    reference: str
    status: str
    previous_status: str
    revise_url: str | None = None


async def _ask_proposer(
    uow: ScreeningUnitOfWork, proposal: Proposal, decision: ScreeningDecision, links: RevisionLinks, now: datetime,
) -> str:
    """Record what the proposer is asked to do; the signed link to do it names this request."""
    request = RevisionRequest(
        id=str(uuid_utils.uuid7()), proposal_id=proposal.id, status=decision.status,
        request=decision.request.strip(), requested_at=now, expires_at=now + links.max_age, resolved_at=None,
    )
    await uow.screening.add_revision_request(request)
    return links.url(proposal.reference, request.id)


async def screen_proposal(
    command: ScreenProposal, uow: ScreeningUnitOfWork, links: RevisionLinks, now: datetime | None = None
) -> StateChange:
    """Accept, answer with existing knowledge, reject, or send back to the proposer to complete or reformulate."""
    now = _now(now)
    decision = command.decision
    decision.validate()
    async with uow:
        proposal = await _proposal(uow, command.proposal_id)
        previous = proposal.status
        ensure_transition(previous, decision.status)
        note = decision.public_note()
        await uow.screening.set_status(proposal.id, decision.status)
        # A new decision supersedes any revise link sent earlier.
        await uow.screening.resolve_revision_requests(proposal.id, now)
        revise_url = None
        if decision.status in AWAITING_PROPOSER:
            revise_url = await _ask_proposer(uow, proposal, decision, links, now)
        await uow.proposals.add_history(
            proposal.id, HistoryEntry(at=now, event="screened", status=decision.status, note=note)
        )
        event_id = uow.publish(
            PROPOSAL_SCREENED, region=proposal.region, subject_id=proposal.id,
            data=events.ProposalScreenedV1(
                proposal_id=proposal.id, reference=proposal.reference, region=proposal.region,
                round_id=proposal.round_id, status=decision.status, previous_status=previous,
                service_area=proposal.service_area, theme=proposal.theme,
                municipality_number=_event_municipality(proposal), unit_code=proposal.unit_code, screened_at=now,
                link=decision.link.strip() or None if decision.status == S.ANSWERED_BY_EXISTING else None,
            ),
        )
        await _request_notice(uow, proposal, (previous, decision.status), note, event_id, revise_url=revise_url)
        await uow.commit()
    return StateChange(proposal.id, proposal.reference, decision.status, previous, revise_url)


# --- Classify ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassifyProposal:
    proposal_id: str
    service_area: str | None
    theme: str | None
    actor: str


async def classify_proposal(command: ClassifyProposal, uow: ScreeningUnitOfWork, now: datetime | None = None) -> None:
    """Set the service area and theme (codes from the reference lists); not a state change, so no notice."""
    now = _now(now)
    raise_problems(check_classification(command.service_area, command.theme))
    async with uow:
        proposal = await _proposal(uow, command.proposal_id)
        await uow.screening.classify(proposal.id, command.service_area, command.theme)
        uow.publish(
            PROPOSAL_CLASSIFIED, region=proposal.region, subject_id=proposal.id,
            data=events.ProposalClassifiedV1(
                proposal_id=proposal.id, reference=proposal.reference, region=proposal.region,
                round_id=proposal.round_id, service_area=command.service_area, theme=command.theme,
                classified_at=now,
            ),
        )
        await uow.commit()


# --- Merge ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MergeProposals:
    target_id: str
    proposal_ids: tuple[str, ...]
    actor: str
    note: str = ""


@dataclass(frozen=True)
class Merged:
    target_id: str
    target_reference: str
    merged: tuple[str, ...]  # references


async def _merge_sources(uow: ScreeningUnitOfWork, target: Proposal, ids: tuple[str, ...]) -> list[Proposal]:
    """The proposals to merge into `target`: each in its region and free to be merged, or InvalidInput."""
    problems: list[FieldProblem] = []
    sources: list[Proposal] = []
    for proposal_id in ids:
        source = await uow.proposals.get(proposal_id)
        if source is None or source.region != target.region:
            problems.append(FieldProblem(
                "proposal_ids", "unknown-proposal", f"no proposal {proposal_id!r} in region {target.region}",
            ))
            continue
        sources.append(source)
    raise_problems(problems)
    for source in sources:
        ensure_transition(source.status, S.MERGED, field_name="proposal_ids")
    return sources


async def merge_proposals(
    command: MergeProposals, uow: ScreeningUnitOfWork, now: datetime | None = None
) -> Merged:
    """Merge duplicates into one target: they become `merged`, and both sides' history names the other."""
    now = _now(now)
    ids = tuple(dict.fromkeys(i for i in command.proposal_ids if i))
    raise_problems(check_merge(command.target_id, ids, command.note))
    async with uow:
        target = await _proposal(uow, command.target_id)
        if target.status not in (S.SUBMITTED, S.ACCEPTED, S.CARRIED_OVER):
            raise ProposalNotActive(
                f"{target.reference} is {target.status}: only a submitted, accepted or carried-over proposal can "
                "receive merged proposals", field="target",
            )
        sources = await _merge_sources(uow, target, ids)
        note = command.note.strip()
        for source in sources:
            await uow.screening.set_status(source.id, S.MERGED)
            await uow.screening.resolve_revision_requests(source.id, now)
            await uow.proposals.add_history(
                source.id, HistoryEntry(at=now, event="merged_into", status=S.MERGED, note=note), target.id,
            )
            await uow.proposals.add_history(
                target.id, HistoryEntry(at=now, event="merged_from", status=target.status, note=note), source.id,
            )
        event_id = uow.publish(
            PROPOSAL_MERGED, region=target.region, subject_id=target.id,
            data=events.ProposalMergedV1(
                target_id=target.id, target_reference=target.reference, region=target.region,
                round_id=target.round_id, merged_at=now,
                merged=tuple(events.MergedProposal(proposal_id=s.id, reference=s.reference, previous_status=s.status)
                             for s in sources),
            ),
        )
        for source in sources:
            # The public note names the target by its reference, so the proposer can follow it there.
            told = "\n".join(p for p in (target.reference, note) if p)
            await _request_notice(uow, source, (source.status, S.MERGED), told, event_id)
        await uow.commit()
    return Merged(target.id, target.reference, tuple(s.reference for s in sources))


# --- Split ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SplitProposal:
    proposal_id: str
    parts: tuple[Part, ...]
    actor: str
    note: str = ""


@dataclass(frozen=True)
class Split:
    original_id: str
    original_reference: str
    parts: tuple[tuple[str, str], ...]  # (id, reference)


async def _split_off(
    uow: ScreeningUnitOfWork, original: Proposal, part: Part, contact: Proposer, *, note: str, now: datetime,
) -> Proposal:
    """One part as a new proposal with its own reference, announced as submitted; both histories name the other."""
    number = await uow.proposals.next_reference_number(original.region, now.year)
    new = replace(
        original, id=str(uuid_utils.uuid7()), reference=format_reference(original.region, now.year, number),
        title=part.title.strip(), question=part.question, background=part.background.strip(),
        status=S.SUBMITTED, submitted_at=now, proposer=contact, self_assessment={},
    )
    await uow.proposals.add(new)
    await uow.proposals.add_history(
        new.id, HistoryEntry(at=now, event="split_from", status=S.SUBMITTED, note=note), original.id,
    )
    await uow.proposals.add_history(
        original.id, HistoryEntry(at=now, event="split_into", status=original.status, note=note), new.id,
    )
    uow.publish(PROPOSAL_SUBMITTED, region=new.region, subject_id=new.id,
                data=submitted_event(new, _event_municipality(new)))
    return new


async def split_proposal(command: SplitProposal, uow: ScreeningUnitOfWork, now: datetime | None = None) -> Split:
    """Split a proposal that asks several questions: each part becomes a new proposal with its own reference.

    The original keeps its state and its own text (it stays one of the questions); its history names every part
    and each part's history names the original. The parts are announced as submitted too, so scoring and the
    registry learn their content the same way as any other proposal's.
    """
    now = _now(now)
    raise_problems(check_parts(command.parts))
    async with uow:
        original = await _proposal(uow, command.proposal_id)
        if original.status not in ACTIVE:
            raise ProposalNotActive(f"{original.reference} is {original.status}: it can no longer be split")
        contact = await uow.screening.contact(original.id)
        assert contact is not None
        created = [
            await _split_off(uow, original, part, contact, note=command.note.strip(), now=now) for part in command.parts
        ]
        uow.publish(
            PROPOSAL_SPLIT, region=original.region, subject_id=original.id,
            data=events.ProposalSplitV1(
                original_id=original.id, original_reference=original.reference, region=original.region,
                round_id=original.round_id,
                parts=tuple(events.SplitPart(proposal_id=p.id, reference=p.reference) for p in created), split_at=now,
            ),
        )
        await uow.commit()
    return Split(original.id, original.reference, tuple((p.id, p.reference) for p in created))


# --- Internal notes ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddInternalNote:
    proposal_id: str
    text: str
    author: str


async def add_internal_note(
    command: AddInternalNote, uow: ScreeningUnitOfWork, now: datetime | None = None
) -> InternalNote:
    """A note for the secretariat only: no history row, no event, never on a public page."""
    text = command.text.strip()
    raise_problems(check_note(text))
    note = InternalNote(id=str(uuid_utils.uuid7()), at=_now(now), author=command.author, text=text)
    async with uow:
        proposal = await _proposal(uow, command.proposal_id)
        await uow.screening.add_note(proposal.id, note)
        await uow.commit()
    return note


# --- Carry over ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CarryOver:
    proposal_id: str
    actor: str
    to_round_id: str | None = None  # the region's next round when not given


async def _later_round(uow: ScreeningUnitOfWork, proposal: Proposal, to_round_id: str | None) -> tuple[Round, Round]:
    """The proposal's round and the later round of its region it goes to (the next one unless named)."""
    current = await uow.rounds.get(proposal.round_id)
    if current is None:
        raise RoundNotFound(f"round {proposal.round_id!r} does not exist")
    to_round_id = to_round_id or await uow.rounds.next_after(proposal.region, current.opens_at)
    if to_round_id is None:
        raise NoNextRound(f"region {proposal.region} has no round after {current.name}: create it first")
    target = await uow.rounds.get(to_round_id)
    if target is None or target.region != proposal.region or target.opens_at <= current.opens_at:
        raise_problems([FieldProblem(
            "round", "not-a-later-round", f"{to_round_id!r} is not a later round of region {proposal.region}",
        )])
    assert target is not None
    return current, target


async def carry_over(command: CarryOver, uow: ScreeningUnitOfWork, now: datetime | None = None) -> StateChange:
    """Move an accepted proposal that was not chosen into a later round of its region, under the same reference.

    Intake does not yet hear the steering group's decisions, so "not chosen" is the secretariat's judgement here.
    """
    now = _now(now)
    async with uow:
        proposal = await _proposal(uow, command.proposal_id)
        previous = proposal.status
        ensure_transition(previous, S.CARRIED_OVER)
        current, target = await _later_round(uow, proposal, command.to_round_id)
        note = f"{current.name} → {target.name}"
        await uow.screening.move_to_round(proposal.id, current.id, target.id, now)
        await uow.screening.set_status(proposal.id, S.CARRIED_OVER)
        await uow.proposals.add_history(
            proposal.id, HistoryEntry(at=now, event="carried_over", status=S.CARRIED_OVER, note=note)
        )
        event_id = uow.publish(
            PROPOSAL_CARRIED_OVER, region=proposal.region, subject_id=proposal.id,
            data=events.ProposalCarriedOverV1(
                proposal_id=proposal.id, reference=proposal.reference, region=proposal.region,
                from_round_id=current.id, round_id=target.id, previous_status=previous, carried_over_at=now,
            ),
        )
        await _request_notice(uow, replace(proposal, round_id=target.id), (previous, S.CARRIED_OVER), note, event_id)
        await uow.commit()
    return StateChange(proposal.id, proposal.reference, S.CARRIED_OVER, previous)


# --- The proposer's resubmission -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Revision:
    """What the revise page shows: the proposal's own text (no contact details) and what was asked."""

    proposal: Proposal
    status: str
    request: str
    expires_at: datetime


async def _open_request(
    uow: ScreeningUnitOfWork | ScreeningReader, reference_code: str, token: str, links: RevisionLinks, now: datetime
) -> tuple[Proposal, RevisionRequest]:
    request = await uow.screening.revision_request(links.request_id(token))
    if request is None:
        raise RevisionLinkInvalid("the link is not valid: use the whole link from the e-mail")
    proposal = await _proposal(uow, request.proposal_id)
    if proposal.reference != reference_code.strip().upper():
        raise RevisionLinkInvalid("the link belongs to another proposal")
    if request.resolved_at is not None or proposal.status not in AWAITING_PROPOSER:
        raise RevisionLinkUsed(f"{proposal.reference} has been resubmitted or decided since this link was sent")
    if request.expires_at <= now:
        raise RevisionLinkExpired("the link has expired: ask the secretariat for a new one")
    return proposal, request


async def get_revision(
    reference_code: str, token: str, reader: ScreeningReader, links: RevisionLinks, now: datetime | None = None
) -> Revision:
    """The revise page's content, when the link is genuine, unexpired and unused."""
    async with reader:
        proposal, request = await _open_request(reader, reference_code, token, links, _now(now))
    proposal.proposer = None  # the page shows only what the proposer wrote about the question
    return Revision(proposal, request.status, request.request, request.expires_at)


@dataclass(frozen=True)
class ResubmitProposal:
    reference: str
    token: str
    title: str
    question: EffectQuestion
    background: str = ""


async def resubmit_proposal(
    command: ResubmitProposal, uow: ScreeningUnitOfWork, links: RevisionLinks, now: datetime | None = None
) -> StateChange:
    """The proposer's completed or reformulated text, under the same reference; the proposal is submitted again."""
    now = _now(now)
    async with uow:
        proposal, _request = await _open_request(uow, command.reference, command.token, links, now)
        previous = proposal.status
        ensure_transition(previous, S.SUBMITTED)
        revised = replace(proposal, title=command.title.strip(), question=command.question,
                          background=command.background.strip())
        await uow.screening.revise(proposal.id, revised.title, revised.question, revised.background)
        await uow.screening.set_status(proposal.id, S.SUBMITTED)
        await uow.screening.resolve_revision_requests(proposal.id, now)
        await uow.proposals.add_history(proposal.id, HistoryEntry(at=now, event="resubmitted", status=S.SUBMITTED))
        event_id = uow.publish(
            PROPOSAL_RESUBMITTED, region=proposal.region, subject_id=proposal.id,
            data=events.ProposalResubmittedV1(
                proposal_id=proposal.id, reference=proposal.reference, region=proposal.region,
                round_id=proposal.round_id, previous_status=previous, title=revised.title,
                question=_event_question(revised.question), background=revised.background, resubmitted_at=now,
            ),
        )
        await _request_notice(uow, revised, (previous, S.SUBMITTED), "", event_id)
        await uow.commit()
    return StateChange(proposal.id, proposal.reference, S.SUBMITTED, previous)


# --- Queries -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Queue:
    round: Round
    items: list[QueueItem]
    counts: dict[str, int]  # every state code, 0 when none; the selection without its state filter
    total: int  # the proposals the filter matches, its state included: what the pages add up to
    page: int
    size: int


def queue_order(key: str, descending: bool, language: str) -> QueueOrder:
    """The queue's order by `key`; coded columns rank their codes by the labels a reader of `language` sees."""
    if key not in QUEUE_SORT_KEYS:
        key, descending = "submitted", False
    labels: dict[str, str] = {}
    if key == "status":
        labels = {s.value: translate(f"proposal.state.{s.value}", language) for s in ProposalState}
    elif key == "service_area":
        labels = {code: item.label(language) for code, item in reference.service_areas().items()}
    elif key == "organisation":
        labels = {f"m:{m.number}": m.name for m in reference.municipalities().values()}
        labels |= {f"u:{u.code}": u.name for u in reference.units().values()}
    ordered = sorted(labels, key=lambda code: (reference.sort_key(labels[code]), code))
    return QueueOrder(key, descending, {code: rank for rank, code in enumerate(ordered)})


async def screening_queue(
    where: QueueFilter, reader: ScreeningReader, *, order: QueueOrder | None = None, page: int = 1, size: int = 50,
) -> Queue:
    """One page of a round's proposals matching the filter, and the count per state of the selection (without its
    state). A page beyond the last shows the last."""
    async with reader:
        round_ = await reader.rounds.get(where.round_id)
        if round_ is None:
            raise RoundNotFound(f"round {where.round_id!r} does not exist", field="round")
        found = await reader.screening.counts(where)
        counts = {state.value: found.get(state.value, 0) for state in ProposalState}
        total = counts.get(where.status, 0) if where.status else sum(counts.values())
        page = min(max(page, 1), max(1, ceil(total / size)))
        items = await reader.screening.queue(where, order or QueueOrder(), size, (page - 1) * size)
    return Queue(round_, items, counts, total, page, size)


@dataclass(frozen=True)
class Detail:
    """Everything the secretariat sees of one proposal: contact details and internal notes included."""

    proposal: Proposal
    round: Round | None
    contact: Proposer | None
    history: list[TracedEntry]
    notes: list[InternalNote]
    carried: list[CarriedOver]


async def screening_detail(proposal_id: str, reader: ScreeningReader) -> Detail:
    """One proposal for the secretariat, or ProposalNotFound."""
    async with reader:
        proposal = await _proposal(reader, proposal_id)
        return Detail(
            proposal=proposal, round=await reader.rounds.get(proposal.round_id),
            contact=await reader.screening.contact(proposal.id),
            history=await reader.screening.traced_history(proposal.id),
            notes=await reader.screening.notes(proposal.id), carried=await reader.screening.carried_from(proposal.id),
        )


async def proposal_region(proposal_id: str, reader: ScreeningReader) -> str:
    """The region a proposal belongs to (for the role check before anything else is shown or done)."""
    async with reader:
        proposal = await _proposal(reader, proposal_id)
    return proposal.region
