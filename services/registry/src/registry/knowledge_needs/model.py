"""The registry's knowledge needs. Plain Python."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class KnowledgeNeedStatus(StrEnum):
    PROPOSED = "proposed"


class KnowledgeNeedSource(StrEnum):
    PROPOSAL = "proposal"


@dataclass(frozen=True)
class Question:
    """The question a need asks (PICO: population, intervention, comparison, outcome)."""

    population: str
    intervention: str
    comparison: str
    outcome: str


@dataclass(frozen=True)
class KnowledgeNeed:
    """A need for knowledge, built from a submitted proposal. Holds the question, never the proposer."""

    proposal_id: str
    reference: str
    region: str
    round_id: str
    municipality_number: str
    title: str
    question: Question
    recorded_at: datetime
    status: KnowledgeNeedStatus = KnowledgeNeedStatus.PROPOSED
    source: KnowledgeNeedSource = KnowledgeNeedSource.PROPOSAL
