"""The decisions' subscribers."""

from __future__ import annotations

from ordering.decisions import service
from ordering.decisions.model import InvalidRecommendation
from ordering.deps import OrderingRuntime
from shared.contracts.envelope import CloudEvent
from shared.contracts.events import RankingRecommendedV1
from shared.contracts.subjects import ORDERING_RANKING_RECOMMENDED, RANKING_RECOMMENDED
from shared.messaging.consumer import EventRouter, PermanentError

events = EventRouter[OrderingRuntime]()


@events.subscriber(ORDERING_RANKING_RECOMMENDED, RANKING_RECOMMENDED)
async def on_ranking_recommended(event: CloudEvent[RankingRecommendedV1], runtime: OrderingRuntime) -> None:
    """Store a draft decision from the committee's recommended ranking."""
    command = service.DraftDecision.from_event(event, ORDERING_RANKING_RECOMMENDED.durable)
    try:
        await service.record_draft_decision(command, runtime.unit_of_work())
    except InvalidRecommendation as error:
        # Retrying cannot fix a ranking that breaks the rules: dead-letter it with the reason.
        raise PermanentError(error.detail) from error
