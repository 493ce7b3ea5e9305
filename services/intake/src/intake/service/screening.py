"""The secretariat's screening use cases, and the proposer's resubmission through a signed link.

Each command commits once through the unit of work. Every state change writes a public history row, publishes a
domain event (ids and codes, no personal data, never an internal note) and asks notify, on the contacts stream,
to tell the proposer: the author is always told when their proposal's state changes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import uuid_utils
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from intake.adapters.screening_repository import (
    InternalNote,
    QueueFilter,
    QueueItem,
    RevisionRequest,
    TracedEntry,
)
from intake.adapters.uow import IntakeReader, IntakeUnitOfWork
from intake.domain import reference
from intake.domain.model import (
    EffectQuestion,
    FieldProblem,
    HistoryEntry,
    Proposal,
    ProposalNotFound,
    ProposalState,
    Proposer,
    Round,
    RoundNotFound,
    check_classification,
    format_reference,
    raise_problems,
)
from intake.domain.screening import (
    ACTIVE,
    AWAITING_PROPOSER,
    MAX_TEXT,
    ScreeningDecision,
    ensure_transition,
)
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
from shared.web.problems import Conflict, DomainError, Forbidden

S = ProposalState
MAX_PARTS = 10
MAX_MERGE = 50


class RevisionLinkInvalid(Forbidden):
    code = "revise-link-invalid"
    field = "token"


class RevisionLinkExpired(DomainError):
    status = 410
    code = "revise-link-expired"
    field = "token"


class RevisionLinkUsed(Conflict):
    """The proposal was resubmitted already, or the secretariat has decided on it since the link was sent."""

    code = "revise-link-used"
    field = "token"


class ProposalNotActive(Conflict):
    code = "proposal-not-active"
    field = "status"


class NoNextRound(Conflict):
    code = "no-next-round"
    field = "round"


# --- The signed revise link ----------------------------------------------------------------------------------------


class RevisionLinks:
    """Signed, expiring links to a proposal's revise page. A link names one revision request, which the database
    closes when it is used or superseded: the signature proves where the link came from, the row decides if it
    still works."""

    def __init__(self, secret: str, public_url: str, days: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="kp-intake-revise-v1")
        self.public_url = public_url.rstrip("/")
        self.max_age = timedelta(days=days)

    def token(self, request_id: str) -> str:
        return str(self._serializer.dumps({"q": request_id}))

    def url(self, reference_code: str, request_id: str) -> str:
        return f"{self.public_url}/intake/p/{reference_code}/revise?token={self.token(request_id)}"

    def request_id(self, token: str) -> str:
        """The request the token names; RevisionLinkExpired or RevisionLinkInvalid otherwise."""
        try:
            payload = self._serializer.loads(token, max_age=int(self.max_age.total_seconds()))
        except SignatureExpired:
            raise RevisionLinkExpired("the link has expired: ask the secretariat for a new one") from None
        except BadSignature:
            raise RevisionLinkInvalid("the link is not valid: use the whole link from the e-mail") from None
        if not isinstance(payload, dict) or not isinstance(payload.get("q"), str):
            raise RevisionLinkInvalid("the link is not valid: use the whole link from the e-mail")
        return str(payload["q"])


# --- Helpers -------------------------------------------------------------------------------------------------------


async def _proposal(uow: IntakeUnitOfWork | IntakeReader, proposal_id: str) -> Proposal:
    proposal = await uow.proposals.get(proposal_id)
    if proposal is None:
        raise ProposalNotFound(f"no proposal with id {proposal_id!r}", field="proposal")
    return proposal


def _event_municipality(proposal: Proposal) -> str:
    """What v1 events carry as the municipality: a unit's host municipality when a unit proposed."""
    if proposal.municipality_number:
        return proposal.municipality_number
    unit = reference.units().get(proposal.unit_code or "")
    return unit.host_municipality if unit else ""


async def _request_notice(
    uow: IntakeUnitOfWork, proposal: Proposal, change: tuple[str, str], note: str, cause_event_id: str, *,
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


async def screen_proposal(
    command: ScreenProposal, uow: IntakeUnitOfWork, links: RevisionLinks, now: datetime | None = None
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
            request = RevisionRequest(
                id=str(uuid_utils.uuid7()), proposal_id=proposal.id, status=decision.status,
                request=decision.request.strip(), requested_at=now, expires_at=now + links.max_age, resolved_at=None,
            )
            await uow.screening.add_revision_request(request)
            revise_url = links.url(proposal.reference, request.id)
        await uow.proposals.add_history(proposal.id, HistoryEntry(at=now, event="screened", status=decision.status,
                                                                  note=note))
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


async def classify_proposal(command: ClassifyProposal, uow: IntakeUnitOfWork, now: datetime | None = None) -> None:
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


async def merge_proposals(command: MergeProposals, uow: IntakeUnitOfWork, now: datetime | None = None) -> Merged:
    """Merge duplicates into one target: they become `merged`, and both sides' history names the other."""
    now = _now(now)
    ids = tuple(dict.fromkeys(i for i in command.proposal_ids if i))
    problems: list[FieldProblem] = []
    if not ids:
        problems.append(FieldProblem("proposal_ids", "merge-needs-proposals", "choose at least one proposal to merge"))
    elif command.target_id in ids:
        problems.append(FieldProblem("proposal_ids", "merge-into-itself", "a proposal cannot be merged into itself"))
    elif len(ids) > MAX_MERGE:
        problems.append(FieldProblem("proposal_ids", "too-many", f"at most {MAX_MERGE} at once", {"max": MAX_MERGE}))
    if len(command.note) > MAX_TEXT:
        problems.append(FieldProblem("note", "text-too-long", f"at most {MAX_TEXT} characters", {"max": MAX_TEXT}))
    raise_problems(problems)
    async with uow:
        target = await _proposal(uow, command.target_id)
        if target.status not in (S.SUBMITTED, S.ACCEPTED, S.CARRIED_OVER):
            raise ProposalNotActive(
                f"{target.reference} is {target.status}: only a submitted, accepted or carried-over proposal can "
                "receive merged proposals", field="target",
            )
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
            ensure_transition(source.status, S.MERGED, field="proposal_ids")
        note = command.note.strip()
        merged: list[events.MergedProposal] = []
        for source in sources:
            await uow.screening.set_status(source.id, S.MERGED)
            await uow.screening.resolve_revision_requests(source.id, now)
            await uow.proposals.add_history(
                source.id, HistoryEntry(at=now, event="merged_into", status=S.MERGED, note=note), target.id,
            )
            await uow.proposals.add_history(
                target.id, HistoryEntry(at=now, event="merged_from", status=target.status, note=note), source.id,
            )
            merged.append(events.MergedProposal(
                proposal_id=source.id, reference=source.reference, previous_status=source.status,
            ))
        event_id = uow.publish(
            PROPOSAL_MERGED, region=target.region, subject_id=target.id,
            data=events.ProposalMergedV1(
                target_id=target.id, target_reference=target.reference, region=target.region,
                round_id=target.round_id, merged=tuple(merged), merged_at=now,
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
class Part:
    title: str
    question: EffectQuestion
    background: str = ""


@dataclass(frozen=True)
class SplitProposal:
    proposal_id: str
    parts: tuple[Part, ...]
    actor: str
    note: str = ""


def check_parts(parts: tuple[Part, ...]) -> list[FieldProblem]:
    """At least one part, each with a title and the question's required parts."""
    found: list[FieldProblem] = []
    if not parts:
        found.append(FieldProblem("parts", "split-needs-parts", "describe at least one new proposal"))
    if len(parts) > MAX_PARTS:
        found.append(FieldProblem("parts", "too-many", f"at most {MAX_PARTS} parts", {"max": MAX_PARTS}))
    for index, part in enumerate(parts):
        for name, value, minimum in (
            ("title", part.title, 5), ("population", part.question.population, 3),
            ("intervention", part.question.intervention, 3), ("outcome", part.question.outcome, 3),
        ):
            if len(value.strip()) < minimum:
                found.append(FieldProblem(
                    f"parts.{index}.{name}", "string_too_short", f"at least {minimum} characters",
                    {"min_length": minimum},
                ))
    return found


@dataclass(frozen=True)
class Split:
    original_id: str
    original_reference: str
    parts: tuple[tuple[str, str], ...]  # (id, reference)


async def split_proposal(command: SplitProposal, uow: IntakeUnitOfWork, now: datetime | None = None) -> Split:
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
        note = command.note.strip()
        created: list[tuple[str, str]] = []
        for part in command.parts:
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
            uow.publish(
                PROPOSAL_SUBMITTED, region=new.region, subject_id=new.id,
                data=events.ProposalSubmittedV1(
                    proposal_id=new.id, reference=new.reference, region=new.region, round_id=new.round_id,
                    municipality_number=_event_municipality(new), title=new.title,
                    question=events.EffectQuestion(
                        population=new.question.population, intervention=new.question.intervention,
                        comparison=new.question.comparison, outcome=new.question.outcome,
                    ),
                    background=new.background, language=new.language, submitted_at=now, unit_code=new.unit_code,
                    department=new.department, service_area=new.service_area, theme=new.theme,
                    decision_on=new.decision_on,
                ),
            )
            created.append((new.id, new.reference))
        uow.publish(
            PROPOSAL_SPLIT, region=original.region, subject_id=original.id,
            data=events.ProposalSplitV1(
                original_id=original.id, original_reference=original.reference, region=original.region,
                round_id=original.round_id,
                parts=tuple(events.SplitPart(proposal_id=i, reference=r) for i, r in created), split_at=now,
            ),
        )
        await uow.commit()
    return Split(original.id, original.reference, tuple(created))


# --- Internal notes ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddInternalNote:
    proposal_id: str
    text: str
    author: str


async def add_internal_note(
    command: AddInternalNote, uow: IntakeUnitOfWork, now: datetime | None = None
) -> InternalNote:
    """A note for the secretariat only: no history row, no event, never on a public page."""
    text = command.text.strip()
    if not text:
        raise_problems([FieldProblem("text", "missing", "write the note")])
    if len(text) > MAX_TEXT:
        raise_problems([FieldProblem("text", "text-too-long", f"at most {MAX_TEXT} characters", {"max": MAX_TEXT})])
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


async def carry_over(command: CarryOver, uow: IntakeUnitOfWork, now: datetime | None = None) -> StateChange:
    """Move an accepted proposal that was not chosen into a later round of its region, under the same reference.

    Intake does not yet hear the steering group's decisions, so "not chosen" is the secretariat's judgement here.
    """
    now = _now(now)
    async with uow:
        proposal = await _proposal(uow, command.proposal_id)
        previous = proposal.status
        ensure_transition(previous, S.CARRIED_OVER)
        current = await uow.rounds.get(proposal.round_id)
        if current is None:
            raise RoundNotFound(f"round {proposal.round_id!r} does not exist")
        to_round_id = command.to_round_id or await uow.screening.next_round_id(proposal.region, current.opens_at)
        if to_round_id is None:
            raise NoNextRound(f"region {proposal.region} has no round after {current.name}: create it first")
        target = await uow.rounds.get(to_round_id)
        if target is None or target.region != proposal.region or target.opens_at <= current.opens_at:
            raise_problems([FieldProblem(
                "round", "not-a-later-round", f"{to_round_id!r} is not a later round of region {proposal.region}",
            )])
        assert target is not None
        note = f"{current.name} → {target.name}"
        await uow.screening.move_to_round(proposal.id, current.id, target.id, now)
        await uow.screening.set_status(proposal.id, S.CARRIED_OVER)
        await uow.proposals.add_history(proposal.id, HistoryEntry(at=now, event="carried_over",
                                                                  status=S.CARRIED_OVER, note=note))
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
    uow: IntakeUnitOfWork | IntakeReader, reference_code: str, token: str, links: RevisionLinks, now: datetime
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
    reference_code: str, token: str, reader: IntakeReader, links: RevisionLinks, now: datetime | None = None
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
    command: ResubmitProposal, uow: IntakeUnitOfWork, links: RevisionLinks, now: datetime | None = None
) -> StateChange:
    """The proposer's completed or reformulated text, under the same reference; the proposal is submitted again."""
    now = _now(now)
    async with uow:
        proposal, _request = await _open_request(uow, command.reference, command.token, links, now)
        previous = proposal.status
        ensure_transition(previous, S.SUBMITTED)
        await uow.screening.revise(proposal.id, command.title.strip(), command.question, command.background.strip())
        await uow.screening.set_status(proposal.id, S.SUBMITTED)
        await uow.screening.resolve_revision_requests(proposal.id, now)
        await uow.proposals.add_history(proposal.id, HistoryEntry(at=now, event="resubmitted", status=S.SUBMITTED))
        revised = replace(proposal, title=command.title.strip(), question=command.question,
                          background=command.background.strip())
        q = command.question
        event_id = uow.publish(
            PROPOSAL_RESUBMITTED, region=proposal.region, subject_id=proposal.id,
            data=events.ProposalResubmittedV1(
                proposal_id=proposal.id, reference=proposal.reference, region=proposal.region,
                round_id=proposal.round_id, previous_status=previous, title=revised.title,
                question=events.EffectQuestion(population=q.population, intervention=q.intervention,
                                               comparison=q.comparison, outcome=q.outcome),
                background=revised.background, resubmitted_at=now,
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
    counts: dict[str, int]  # every state code, 0 when none


async def screening_queue(where: QueueFilter, reader: IntakeReader) -> Queue:
    """A round's proposals matching the filter, and the count per state of the selection (without its state)."""
    async with reader:
        round_ = await reader.rounds.get(where.round_id)
        if round_ is None:
            raise RoundNotFound(f"round {where.round_id!r} does not exist", field="round")
        items = await reader.screening.queue(where)
        counts = await reader.screening.counts(where)
    return Queue(round_, items, {state.value: counts.get(state.value, 0) for state in ProposalState})


@dataclass(frozen=True)
class Detail:
    """Everything the secretariat sees of one proposal: contact details and internal notes included."""

    proposal: Proposal
    round: Round | None
    contact: Proposer | None
    history: list[TracedEntry]
    notes: list[InternalNote]
    carried: list[tuple[str, str, datetime]]


async def screening_detail(proposal_id: str, reader: IntakeReader) -> Detail:
    """One proposal for the secretariat, or ProposalNotFound."""
    async with reader:
        proposal = await _proposal(reader, proposal_id)
        return Detail(
            proposal=proposal, round=await reader.rounds.get(proposal.round_id),
            contact=await reader.screening.contact(proposal.id),
            history=await reader.screening.traced_history(proposal.id),
            notes=await reader.screening.notes(proposal.id), carried=await reader.screening.carried_from(proposal.id),
        )


async def proposal_region(proposal_id: str, reader: IntakeReader) -> str:
    """The region a proposal belongs to (for the role check before anything else is shown or done)."""
    async with reader:
        proposal = await _proposal(reader, proposal_id)
    return proposal.region
