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


# --- Screening (intake, issue 3) -----------------------------------------------------------------------------------
# State codes are intake's stable identifiers: submitted, needs_completion, needs_reformulation, accepted,
# answered_by_existing, rejected, merged, carried_over. None of these events carries a person's name, address or
# the secretariat's internal notes.


class ProposalScreenedV1(Contract):
    """The secretariat screened a proposal: its state changed (accepted ones become candidates for scoring)."""

    proposal_id: str
    reference: str
    region: str
    round_id: str
    status: str = Field(description="The new state code")
    previous_status: str = Field(description="The state code before the screening")
    service_area: str | None = Field(default=None, description="Service area code (intake's reference list)")
    theme: str | None = Field(default=None, description="Theme/purpose code (intake's reference list)")
    municipality_number: str = Field(description="The municipality's number; a unit's host municipality")
    unit_code: str | None = Field(default=None, description="A non-municipal unit (e.g. usht-hordaland)")
    screened_at: datetime
    link: str | None = Field(default=None, description="For answered_by_existing: where the existing answer is")


class ProposalClassifiedV1(Contract):
    """The secretariat set a proposal's service area and theme."""

    proposal_id: str
    reference: str
    region: str
    round_id: str
    service_area: str | None = None
    theme: str | None = None
    classified_at: datetime


class MergedProposal(Contract):
    proposal_id: str
    reference: str
    previous_status: str


class ProposalMergedV1(Contract):
    """Duplicates were merged into one target proposal; the merged ones are now in state `merged`."""

    target_id: str
    target_reference: str
    region: str
    round_id: str
    merged: tuple[MergedProposal, ...] = Field(min_length=1)
    merged_at: datetime


class SplitPart(Contract):
    proposal_id: str
    reference: str


class ProposalSplitV1(Contract):
    """A proposal was split: each part is a new proposal (announced as submitted too); the original stays."""

    original_id: str
    original_reference: str
    region: str
    round_id: str
    parts: tuple[SplitPart, ...] = Field(min_length=1)
    split_at: datetime


class ProposalCarriedOverV1(Contract):
    """An accepted proposal that was not chosen moves into the region's next round, under the same reference."""

    proposal_id: str
    reference: str
    region: str
    from_round_id: str
    round_id: str = Field(description="The round it is now in")
    previous_status: str
    carried_over_at: datetime


class ProposalResubmittedV1(Contract):
    """The proposer completed or reformulated their proposal when asked; it is back in state `submitted`."""

    proposal_id: str
    reference: str
    region: str
    round_id: str
    previous_status: str
    title: str
    question: EffectQuestion
    background: str = ""
    resubmitted_at: datetime


class StatusNoticeRequestedV1(Contract):
    """Notify must tell a proposer that their proposal's state changed. Personal data: contacts stream only."""

    proposal_id: str
    reference: str
    title: str
    language: str = "nb"
    status: str = Field(description="The new state code")
    previous_status: str
    note: str = Field(default="", description="The public note (reason, request or link), as the status page shows")
    revise_url: str | None = Field(default=None, description="Signed link to complete or reformulate the proposal")
    cause_event_id: str = Field(description="Id of the domain event that changed the state: one notice per change")
    recipient: Recipient
