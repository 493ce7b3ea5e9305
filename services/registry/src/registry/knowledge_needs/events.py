"""The knowledge needs' subscribers."""

from __future__ import annotations

from registry.deps import RegistryRuntime
from registry.knowledge_needs import service
from shared.contracts.envelope import CloudEvent
from shared.contracts.events import ProposalSubmittedV1
from shared.contracts.subjects import PROPOSAL_SUBMITTED, REGISTRY_PROPOSAL_SUBMITTED
from shared.messaging.consumer import EventRouter

events = EventRouter[RegistryRuntime]()


@events.subscriber(REGISTRY_PROPOSAL_SUBMITTED, PROPOSAL_SUBMITTED)
async def on_proposal_submitted(event: CloudEvent[ProposalSubmittedV1], runtime: RegistryRuntime) -> None:
    """Record each submitted proposal's question as a knowledge need."""
    command = service.RecordKnowledgeNeed.from_event(event, REGISTRY_PROPOSAL_SUBMITTED.durable)
    await service.record_knowledge_need(command, runtime.unit_of_work())
