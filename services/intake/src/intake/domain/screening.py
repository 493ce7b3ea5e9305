"""Screening: which state a proposal may move to from which, and what each move must come with. Plain Python.

The state codes are `ProposalState`'s stable identifiers. The secretariat moves a proposal; only the proposer's
resubmission moves it from needs_completion / needs_reformulation back to submitted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from intake.domain.model import FieldProblem, ProposalState, raise_problems
from shared.web.problems import Conflict

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


class TransitionNotAllowed(Conflict):
    code = "transition-not-allowed"
    field = "status"


def allowed(current: str, target: str) -> bool:
    """Whether a proposal in state `current` may move to `target` (unknown codes may not move at all)."""
    try:
        return ProposalState(target) in TRANSITIONS.get(ProposalState(current), frozenset())
    except ValueError:
        return False


def ensure_transition(current: str, target: str, field: str = "status") -> None:
    """Raise TransitionNotAllowed naming the field and both states when the move is not in TRANSITIONS."""
    if not allowed(current, target):
        raise TransitionNotAllowed(
            f"a proposal in state {current!r} cannot move to {target!r}", field=field, current=current, target=target,
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
