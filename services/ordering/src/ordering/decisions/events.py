"""Ordering's subscribers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from faststream.nats import NatsBroker

from ordering.adapters.repository import OrderingUnitOfWork
from ordering.domain.model import DecisionEntry, InvalidRecommendation
from ordering.service import use_cases
from shared.contracts.envelope import CloudEvent
from shared.contracts.events import RankingRecommendedV1
from shared.contracts.subjects import ORDERING_RANKING_RECOMMENDED, RANKING_RECOMMENDED
from shared.messaging.consumer import PermanentError, event_subscriber


def register_subscribers(broker: NatsBroker, new_uow: Callable[[], OrderingUnitOfWork]) -> None:
    @event_subscriber(broker, ORDERING_RANKING_RECOMMENDED, [RANKING_RECOMMENDED])
    async def on_ranking_recommended(event: CloudEvent[Any]) -> None:
        """Store a draft decision from the committee's recommended ranking."""
        data: RankingRecommendedV1 = event.data
        command = use_cases.DraftDecision(
            event_id=event.id, consumer=ORDERING_RANKING_RECOMMENDED.durable, ranking_id=data.ranking_id,
            round_id=data.round_id, region=data.region, recommended_on=data.recommended_on,
            entries=tuple(
                DecisionEntry(
                    proposal_id=e.proposal_id, reference=e.reference, rank=e.rank, total_score=e.total_score,
                    reason=e.reason,
                )
                for e in data.entries
            ),
        )
        try:
            await use_cases.record_draft_decision(command, new_uow())
        except InvalidRecommendation as error:
            # Retrying cannot fix a ranking that breaks the rules: dead-letter it with the reason.
            raise PermanentError(error.detail) from error
