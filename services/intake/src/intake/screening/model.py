"""Screening: which state a proposal may move to from which, and what each move must come with. Plain Python.

The state codes are `ProposalState`'s stable identifiers. The secretariat moves a proposal; only the proposer's
resubmission moves it from needs_completion / needs_reformulation back to submitted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from intake.proposals.model import EffectQuestion, ProposalState
from shared.errors import Conflict, DomainError, FieldProblem, Forbidden, raise_problems

S = ProposalState

# Every allowed move. Terminal states (answered_by_existing, rejected, merged) have none: a mistake there is
# corrected by a new proposal, so a public history never runs backwards.
TRANSITIONS: Mapping[ProposalState, frozenset[ProposalState]] = {
    S.SUBMITTED: frozenset({
        S.NEEDS_COMPLETION, S.NEEDS_REFORMULATION, S.ACCEPTED, S.ANSWERED_BY_EXISTING, S.REJECTED, S.MERGED,
    }),
    # Back to submitted only through the proposer's resubmission; a proposer who never answers can be rejected.
    S.NEEDS_COMPLETION: frozenset({S.SUBMITTED, S.REJECTED, S.MERGED}),
    S.NEEDS_REFORMULATION: frozenset({S.SUBMITTED, S.REJECTED, S.MERGED}),
    # A literature search may still find an existing answer after acceptance.
    S.ACCEPTED: frozenset({S.CARRIED_OVER, S.MERGED, S.ANSWERED_BY_EXISTING}),
    # In its new round a carried-over proposal is screened again (usually accepted once more).
    S.CARRIED_OVER: frozenset({S.ACCEPTED, S.CARRIED_OVER, S.MERGED, S.ANSWERED_BY_EXISTING, S.REJECTED}),
    S.ANSWERED_BY_EXISTING: frozenset(),
    S.REJECTED: frozenset(),
    S.MERGED: frozenset(),
}

# What the secretariat chooses with "screen"; merging and carrying over have their own use cases (and events).
SCREENING_DECISIONS: tuple[ProposalState, ...] = (
    S.NEEDS_COMPLETION, S.NEEDS_REFORMULATION, S.ACCEPTED, S.ANSWERED_BY_EXISTING, S.REJECTED,
)
# A proposal waiting for its proposer: the signed revise link works only in these states.
AWAITING_PROPOSER: frozenset[ProposalState] = frozenset({S.NEEDS_COMPLETION, S.NEEDS_REFORMULATION})
# A proposal that is still alive: it can receive merged duplicates and be split.
ACTIVE: frozenset[ProposalState] = frozenset({S.SUBMITTED, S.ACCEPTED, S.CARRIED_OVER, *AWAITING_PROPOSER})

MAX_TEXT = 5000
MAX_LINK = 1000
MAX_PARTS = 10
MAX_MERGE = 50


class TransitionNotAllowed(Conflict):
    code = "transition-not-allowed"
    field = "status"


class ProposalNotActive(Conflict):
    code = "proposal-not-active"
    field = "status"


class NoNextRound(Conflict):
    code = "no-next-round"
    field = "round"


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


def allowed(current: str, target: str) -> bool:
    """Whether a proposal in state `current` may move to `target` (unknown codes may not move at all)."""
    try:
        return ProposalState(target) in TRANSITIONS.get(ProposalState(current), frozenset())
    except ValueError:
        return False


def ensure_transition(current: str, target: str, field_name: str = "status") -> None:
    """Raise TransitionNotAllowed naming the field and both states when the move is not in TRANSITIONS."""
    if not allowed(current, target):
        raise TransitionNotAllowed(
            f"a proposal in state {current!r} cannot move to {target!r}", field=field_name, current=current,
            target=target,
        )


def is_http_url(text: str) -> bool:
    parts = urlsplit(text)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in text


@dataclass(frozen=True)
class ScreeningDecision:
    """What the secretariat decided, with the text each decision requires. `note` is public and optional."""

    status: str
    note: str = ""
    reason: str = ""
    link: str = ""
    request: str = ""

    def problems(self) -> list[FieldProblem]:
        """Every rule the decision breaks: the state must be a screening decision, with its required text."""
        found: list[FieldProblem] = []
        if self.status not in SCREENING_DECISIONS:
            found.append(FieldProblem(
                "status", "not-a-screening-decision",
                f"{self.status!r} is not one of {', '.join(SCREENING_DECISIONS)}",
            ))
            return found
        if self.status == S.REJECTED and not self.reason.strip():
            found.append(FieldProblem("reason", "reason-required", "a rejection needs a reason the proposer can read"))
        if self.status == S.ANSWERED_BY_EXISTING:
            if not self.link.strip():
                found.append(FieldProblem("link", "link-required", "give the link to the existing knowledge"))
            elif not is_http_url(self.link.strip()) or len(self.link) > MAX_LINK:
                found.append(FieldProblem("link", "link-invalid", "the link must be an http or https address"))
        if self.status in AWAITING_PROPOSER and not self.request.strip():
            found.append(FieldProblem(
                "request", "request-required", "tell the proposer what to complete or reformulate",
            ))
        for name in ("note", "reason", "request"):
            if len(getattr(self, name)) > MAX_TEXT:
                found.append(FieldProblem(name, "text-too-long", f"at most {MAX_TEXT} characters", {"max": MAX_TEXT}))
        return found

    def validate(self) -> None:
        raise_problems(self.problems())

    def public_note(self) -> str:
        """The text the public status page and the proposer's notice show: the required text first, then the note."""
        required = {
            S.REJECTED: self.reason, S.ANSWERED_BY_EXISTING: self.link, S.NEEDS_COMPLETION: self.request,
            S.NEEDS_REFORMULATION: self.request,
        }.get(ProposalState(self.status), "")
        return "\n".join(part.strip() for part in (required, self.note) if part.strip())


@dataclass(frozen=True)
class Part:
    """One of the questions a split proposal becomes."""

    title: str
    question: EffectQuestion
    background: str = ""


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


def check_merge(target_id: str, proposal_ids: tuple[str, ...], note: str) -> list[FieldProblem]:
    """At least one other proposal, not the target itself, not too many at once, and a note of sensible length."""
    found: list[FieldProblem] = []
    if not proposal_ids:
        found.append(FieldProblem("proposal_ids", "merge-needs-proposals", "choose at least one proposal to merge"))
    elif target_id in proposal_ids:
        found.append(FieldProblem("proposal_ids", "merge-into-itself", "a proposal cannot be merged into itself"))
    elif len(proposal_ids) > MAX_MERGE:
        found.append(FieldProblem("proposal_ids", "too-many", f"at most {MAX_MERGE} at once", {"max": MAX_MERGE}))
    if len(note) > MAX_TEXT:
        found.append(FieldProblem("note", "text-too-long", f"at most {MAX_TEXT} characters", {"max": MAX_TEXT}))
    return found


def check_note(text: str) -> list[FieldProblem]:
    """An internal note has text, and not too much of it."""
    if not text:
        return [FieldProblem("text", "missing", "write the note")]
    if len(text) > MAX_TEXT:
        return [FieldProblem("text", "text-too-long", f"at most {MAX_TEXT} characters", {"max": MAX_TEXT})]
    return []


# --- What the secretariat reads ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilter:
    """The queue's selection; None or '' means "any"."""

    round_id: str
    status: str | None = None
    service_area: str | None = None
    theme: str | None = None
    municipality_number: str | None = None
    unit_code: str | None = None
    text: str = ""


# The queue's sortable columns: ?sort=<key>:asc|desc.
QUEUE_SORT_KEYS = ("reference", "title", "status", "organisation", "service_area", "submitted")


@dataclass(frozen=True)
class QueueOrder:
    """How the queue is sorted. Coded columns (state, organisation, service area) sort by their labels as the
    reader sees them: `ranks` gives each code its place among the labels (organisations as `m:<number>` and
    `u:<code>`). Ties keep the order the proposals came in."""

    key: str = "submitted"
    descending: bool = False
    ranks: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class QueueItem:
    id: str
    reference: str
    title: str
    status: str
    municipality_number: str | None
    unit_code: str | None
    service_area: str | None
    theme: str | None
    submitted_at: datetime


@dataclass(frozen=True)
class InternalNote:
    id: str
    at: datetime
    author: str
    text: str


@dataclass(frozen=True)
class RevisionRequest:
    id: str
    proposal_id: str
    status: str
    request: str
    requested_at: datetime
    expires_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True)
class TracedEntry:
    """A history entry as the secretariat sees it: the related proposal by id and reference, for a link."""

    at: datetime
    event: str
    status: str
    note: str
    related_id: str | None
    related_reference: str | None


@dataclass(frozen=True)
class CarriedOver:
    """One move of a proposal from a round to a later one."""

    from_round_id: str
    to_round_id: str
    at: datetime
