"""Ordering's decisions: the steering group's decision, drafted from the committee's recommendation. Plain Python."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from shared.errors import DomainError, NotFound


class DecisionStatus(StrEnum):
    DRAFT = "draft"


@dataclass(frozen=True)
class DecisionEntry:
    """One recommended proposal, in the committee's order."""

    proposal_id: str
    reference: str
    rank: int
    total_score: float
    reason: str = ""


@dataclass(frozen=True)
class Decision:
    """The steering group's decision (vedtak) on a round; starts as a draft of the committee's ranking."""

    id: str
    ranking_id: str
    round_id: str
    region: str
    status: DecisionStatus
    recommended_on: date
    created_at: datetime
    entries: tuple[DecisionEntry, ...]


class InvalidRecommendation(DomainError):
    status = 422
    code = "invalid-recommendation"


class DecisionNotFound(NotFound):
    code = "decision-not-found"


def draft_decision(
    *, decision_id: str, ranking_id: str, round_id: str, region: str, recommended_on: date, created_at: datetime,
    entries: Iterable[DecisionEntry],
) -> Decision:
    """A draft decision listing the recommended proposals by rank; a proposal may appear only once."""
    ranked = tuple(sorted(entries, key=lambda e: (e.rank, e.reference)))
    if not ranked:
        raise InvalidRecommendation(f"ranking {ranking_id!r} recommends no proposals")
    seen: set[str] = set()
    for entry in ranked:
        if entry.proposal_id in seen:
            raise InvalidRecommendation(f"ranking {ranking_id!r} lists proposal {entry.proposal_id!r} twice")
        seen.add(entry.proposal_id)
    return Decision(
        id=decision_id, ranking_id=ranking_id, round_id=round_id, region=region, status=DecisionStatus.DRAFT,
        recommended_on=recommended_on, created_at=created_at, entries=ranked,
    )
