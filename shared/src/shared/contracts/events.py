"""Version 1 event models. Frozen, unknown fields ignored: a producer may add optional fields within a version.

Domain events carry ids and content, never a person's name or address. The one model that does,
`ReceiptRequestedV1`, travels only on the short-retention contacts stream.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field


class Contract(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class EffectQuestion(Contract):
    """The proposal's question along population, intervention, comparison and outcome (PICO)."""

    population: str
    intervention: str
    comparison: str = ""
    outcome: str


class ProposalSubmittedV1(Contract):
    """A proposal for a knowledge summary was submitted to an open round."""

    proposal_id: str
    reference: str = Field(description="Stable public reference, like VEST-2026-0001")
    region: str
    round_id: str
    municipality_number: str = Field(description="The municipality's official number (SSB)")
    title: str
    question: EffectQuestion
    background: str = ""
    language: str = Field(default="nb", description="nb or nn: the language the proposer wrote in")
    submitted_at: datetime
    # Added within v1 (optional, so older readers and producers stay valid). For a unit, municipality_number
    # holds the unit's host municipality and unit_code names the unit.
    unit_code: str | None = Field(default=None, description="A non-municipal unit (e.g. usht-hordaland)")
    department: str = Field(default="", description="The agency or department (etat) within the municipality")
    service_area: str | None = Field(default=None, description="Service area code (intake's reference list)")
    theme: str | None = Field(default=None, description="Theme/purpose code (intake's reference list)")
    decision_on: date | None = Field(default=None, description="Date of an upcoming decision the question serves")


class RoundOpenedV1(Contract):
    """A round's proposal window opened: municipalities may now propose."""

    round_id: str
    region: str
    name: str
    opens_at: datetime
    closes_at: datetime
    time_zone: str = Field(default="Europe/Oslo", description="IANA zone the round's dates are shown in")


class RoundClosedV1(Contract):
    """A round's proposal window closed: screening and scoring can start."""

    round_id: str
    region: str
    name: str
    opens_at: datetime
    closes_at: datetime
    time_zone: str = Field(default="Europe/Oslo", description="IANA zone the round's dates are shown in")
    proposal_count: int = Field(ge=0, description="Proposals submitted to the round")


class Recipient(Contract):
    name: str
    email: EmailStr


class ReceiptRequestedV1(Contract):
    """Notify must send a proposer a receipt. Contains personal data: contacts stream only."""

    proposal_id: str
    reference: str
    title: str
    language: str = "nb"
    recipient: Recipient


class RankedProposal(Contract):
    proposal_id: str
    reference: str
    rank: int = Field(ge=1)
    total_score: float
    reason: str = ""


class RankingRecommendedV1(Contract):
    """The committee recommends a ranked list of a round's proposals (innstilling) to the steering group."""

    ranking_id: str
    round_id: str
    region: str
    recommended_on: date
    entries: tuple[RankedProposal, ...] = Field(min_length=1)
