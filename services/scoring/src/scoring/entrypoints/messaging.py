"""Scoring's subscribers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from faststream.nats import NatsBroker

from scoring.adapters.repository import ScoringUnitOfWork
from scoring.domain.model import Candidate
from scoring.service import use_cases
from shared.contracts.envelope import CloudEvent
from shared.contracts.events import ProposalSubmittedV1
from shared.contracts.subjects import PROPOSAL_SUBMITTED, SCORING_PROPOSAL_SUBMITTED
from shared.messaging.consumer import event_subscriber


def register_subscribers(broker: NatsBroker, new_uow: Callable[[], ScoringUnitOfWork]) -> None:
    @event_subscriber(broker, SCORING_PROPOSAL_SUBMITTED, [PROPOSAL_SUBMITTED])
    async def on_proposal_submitted(event: CloudEvent[Any]) -> None:
        """Keep each submitted proposal as a candidate in its round."""
        data: ProposalSubmittedV1 = event.data
        await use_cases.add_candidate(
            Candidate(
                proposal_id=data.proposal_id, reference=data.reference, region=data.region, round_id=data.round_id,
                municipality_number=data.municipality_number, title=data.title, submitted_at=data.submitted_at,
            ),
            event.id, SCORING_PROPOSAL_SUBMITTED.durable, new_uow(),
        )
