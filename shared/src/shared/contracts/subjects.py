"""NATS subjects (kp.<service>.<region>.<aggregate>.<event>.v<N>), event types and durable consumers."""

from __future__ import annotations

import builtins
from dataclasses import dataclass

from pydantic import BaseModel

from shared.contracts import directory, events, streams

# Wildcard subjects a subscriber listens on: every region.
PROPOSAL_SUBMITTED_V1 = "kp.intake.*.proposal.submitted.v1"
RECEIPT_REQUESTED_V1 = "kp.contacts.*.proposal.receipt_requested.v1"
ROUND_OPENED_V1 = "kp.intake.*.round.opened.v1"
ROUND_CLOSED_V1 = "kp.intake.*.round.closed.v1"
RANKING_RECOMMENDED_V1 = "kp.scoring.*.ranking.recommended.v1"
STATUS_NOTICE_REQUESTED_V1 = "kp.contacts.*.proposal.status_notice_requested.v1"
DEAD_LETTER_PREFIX = "kp.dlq"
# Other regions' systems publish submissions here (stream KP_INGEST); the contract is in `ingest.py`.
INGEST_PROPOSAL_SUBJECT = "kp.ingest.{region}.proposal.v1"
INGEST_PROPOSAL_V1 = "kp.ingest.*.proposal.v1"


@dataclass(frozen=True)
class EventSpec:
    """Where one event type is published and what its data looks like."""

    type: str
    service: str
    subject_pattern: str  # with {region}
    model: builtins.type[BaseModel]
    stream: str

    def subject(self, region: str) -> str:
        return self.subject_pattern.format(region=region)


PROPOSAL_SUBMITTED = EventSpec(
    "kp.intake.proposal.submitted.v1",
    "intake",
    "kp.intake.{region}.proposal.submitted.v1",
    events.ProposalSubmittedV1,
    streams.INTAKE,
)
RECEIPT_REQUESTED = EventSpec(
    "kp.intake.proposal.receipt_requested.v1",
    "intake",
    "kp.contacts.{region}.proposal.receipt_requested.v1",
    events.ReceiptRequestedV1,
    streams.CONTACTS,
)
ROUND_OPENED = EventSpec(
    "kp.intake.round.opened.v1",
    "intake",
    "kp.intake.{region}.round.opened.v1",
    events.RoundOpenedV1,
    streams.INTAKE,
)
ROUND_CLOSED = EventSpec(
    "kp.intake.round.closed.v1",
    "intake",
    "kp.intake.{region}.round.closed.v1",
    events.RoundClosedV1,
    streams.INTAKE,
)
RANKING_RECOMMENDED = EventSpec(
    "kp.scoring.ranking.recommended.v1",
    "scoring",
    "kp.scoring.{region}.ranking.recommended.v1",
    events.RankingRecommendedV1,
    streams.SCORING,
)


def _intake(event: str, model: builtins.type[BaseModel], stream: str = streams.INTAKE) -> EventSpec:
    """An intake proposal event; one for the contacts stream is published under kp.contacts (short retention)."""
    prefix = "kp.contacts" if stream == streams.CONTACTS else "kp.intake"
    subject = f"{prefix}.{{region}}.proposal.{event}.v1"
    return EventSpec(f"kp.intake.proposal.{event}.v1", "intake", subject, model, stream)


# Screening (issue 3): state changes, merges, splits, carry-overs and resubmissions; the proposer's notice.
PROPOSAL_SCREENED = _intake("screened", events.ProposalScreenedV1)
PROPOSAL_CLASSIFIED = _intake("classified", events.ProposalClassifiedV1)
PROPOSAL_MERGED = _intake("merged", events.ProposalMergedV1)
PROPOSAL_SPLIT = _intake("split", events.ProposalSplitV1)
PROPOSAL_CARRIED_OVER = _intake("carried_over", events.ProposalCarriedOverV1)
PROPOSAL_RESUBMITTED = _intake("resubmitted", events.ProposalResubmittedV1)
STATUS_NOTICE_REQUESTED = _intake("status_notice_requested", events.StatusNoticeRequestedV1, streams.CONTACTS)



def _directory(event: str, model: builtins.type[BaseModel], stream: str = streams.REGISTRY) -> EventSpec:
    """A directory event of the registry; a person's contact details go on the contacts stream."""
    prefix = "kp.contacts" if stream == streams.CONTACTS else "kp.registry"
    return EventSpec(
        f"kp.registry.directory.{event}.v1", "registry", f"{prefix}.{{region}}.directory.{event}.v1", model, stream,
    )


# The directory (issue 8). Institutions are national: their region token is `national`.
DIRECTORY_MUNICIPALITY_CHANGED = _directory("municipality_changed", directory.DirectoryMunicipalityChangedV1)
DIRECTORY_UNIT_CHANGED = _directory("unit_changed", directory.DirectoryUnitChangedV1)
DIRECTORY_INSTITUTION_CHANGED = _directory("institution_changed", directory.DirectoryInstitutionChangedV1)
DIRECTORY_ROLE_GRANTED = _directory("role_granted", directory.DirectoryRoleGrantedV1)
DIRECTORY_ROLE_REVOKED = _directory("role_revoked", directory.DirectoryRoleRevokedV1)
DIRECTORY_PERSON_ERASED = _directory("person_erased", directory.DirectoryPersonErasedV1)
DIRECTORY_PERSON_CONTACT = _directory("person_contact", directory.DirectoryPersonContactV1, streams.CONTACTS)
NATIONAL_REGION = "national"

EVENT_SPECS: dict[str, EventSpec] = {
    spec.type: spec
    for spec in (
        PROPOSAL_SUBMITTED, RECEIPT_REQUESTED, ROUND_OPENED, ROUND_CLOSED, RANKING_RECOMMENDED, PROPOSAL_SCREENED,
        PROPOSAL_CLASSIFIED, PROPOSAL_MERGED, PROPOSAL_SPLIT, PROPOSAL_CARRIED_OVER, PROPOSAL_RESUBMITTED,
        STATUS_NOTICE_REQUESTED, DIRECTORY_MUNICIPALITY_CHANGED, DIRECTORY_UNIT_CHANGED, DIRECTORY_INSTITUTION_CHANGED,
        DIRECTORY_ROLE_GRANTED, DIRECTORY_ROLE_REVOKED, DIRECTORY_PERSON_ERASED, DIRECTORY_PERSON_CONTACT,
    )
}


@dataclass(frozen=True)
class ConsumerSpec:
    """A durable pull consumer. Its config is fixed at creation, so the bootstrap step owns it."""

    durable: str
    stream: str
    filter_subject: str
    service: str
    max_deliver: int = 8
    ack_wait_seconds: float = 30.0
    max_ack_pending: int = 1000
    description: str = ""


SCORING_PROPOSAL_SUBMITTED = ConsumerSpec(
    "scoring-proposal-submitted", streams.INTAKE, PROPOSAL_SUBMITTED_V1, "scoring",
    description="Scoring keeps each submitted proposal as a candidate in its round",
)
REGISTRY_PROPOSAL_SUBMITTED = ConsumerSpec(
    "registry-proposal-submitted", streams.INTAKE, PROPOSAL_SUBMITTED_V1, "registry",
    description="The registry records each proposal as a knowledge need",
)
NOTIFY_RECEIPT_REQUESTED = ConsumerSpec(
    "notify-receipt-requested", streams.CONTACTS, RECEIPT_REQUESTED_V1, "notify",
    description="Notify sends the proposer a receipt",
)
NOTIFY_STATUS_NOTICE_REQUESTED = ConsumerSpec(
    "notify-status-notice-requested", streams.CONTACTS, STATUS_NOTICE_REQUESTED_V1, "notify",
    description="Notify tells the proposer that their proposal's state changed",
)
ORDERING_RANKING_RECOMMENDED = ConsumerSpec(
    "ordering-ranking-recommended", streams.SCORING, RANKING_RECOMMENDED_V1, "ordering",
    description="Ordering stores a draft decision from the committee's recommendation",
)

INTAKE_INGEST_PROPOSAL = ConsumerSpec(
    "intake-ingest-proposal", streams.INGEST, INGEST_PROPOSAL_V1, "intake", ack_wait_seconds=60.0,
    description="Intake takes proposals from other regions' systems; invalid ones are quarantined for the secretariat",
)

CONSUMERS: tuple[ConsumerSpec, ...] = (
    SCORING_PROPOSAL_SUBMITTED,
    REGISTRY_PROPOSAL_SUBMITTED,
    NOTIFY_RECEIPT_REQUESTED,
    NOTIFY_STATUS_NOTICE_REQUESTED,
    ORDERING_RANKING_RECOMMENDED,
    INTAKE_INGEST_PROPOSAL,
)
