"""The candidates' subscribers."""

from __future__ import annotations

from scoring.candidates import service
from scoring.deps import ScoringRuntime
from shared.contracts.envelope import CloudEvent
from shared.contracts.events import ProposalSubmittedV1
from shared.contracts.subjects import PROPOSAL_SUBMITTED, SCORING_PROPOSAL_SUBMITTED
from shared.messaging.consumer import EventRouter

events = EventRouter[ScoringRuntime]()


@events.subscriber(SCORING_PROPOSAL_SUBMITTED, PROPOSAL_SUBMITTED)
async def on_proposal_submitted(event: CloudEvent[ProposalSubmittedV1], runtime: ScoringRuntime) -> None:
    """Keep each submitted proposal as a candidate in its round."""
    command = service.AddCandidate.from_event(event, SCORING_PROPOSAL_SUBMITTED.durable)
    await service.add_candidate(command, runtime.unit_of_work())
