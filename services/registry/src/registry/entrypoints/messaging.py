"""The registry's subscribers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from faststream.nats import NatsBroker

from registry.adapters.repository import RegistryUnitOfWork
from registry.service import use_cases
from shared.contracts.envelope import CloudEvent
from shared.contracts.events import ProposalSubmittedV1
from shared.contracts.subjects import PROPOSAL_SUBMITTED, REGISTRY_PROPOSAL_SUBMITTED
from shared.messaging.consumer import event_subscriber


def register_subscribers(broker: NatsBroker, new_uow: Callable[[], RegistryUnitOfWork]) -> None:
    @event_subscriber(broker, REGISTRY_PROPOSAL_SUBMITTED, [PROPOSAL_SUBMITTED])
    async def on_proposal_submitted(event: CloudEvent[Any]) -> None:
        """Record each submitted proposal's question as a knowledge need."""
        data: ProposalSubmittedV1 = event.data
        await use_cases.record_knowledge_need(
            use_cases.RecordKnowledgeNeed(
                event_id=event.id, consumer=REGISTRY_PROPOSAL_SUBMITTED.durable, proposal_id=data.proposal_id,
                reference=data.reference, region=data.region, round_id=data.round_id,
                municipality_number=data.municipality_number, title=data.title,
                population=data.question.population, intervention=data.question.intervention,
                comparison=data.question.comparison, outcome=data.question.outcome,
            ),
            new_uow(),
        )
