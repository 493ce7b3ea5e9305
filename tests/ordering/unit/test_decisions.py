"""Ordering's decision use cases on in-memory fakes: no database, no broker."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ordering.decisions import service
from ordering.decisions.model import Decision, DecisionNotFound, DecisionStatus, InvalidRecommendation
from shared.contracts.envelope import CloudEvent, envelope
from shared.contracts.events import RankedProposal, RankingRecommendedV1
from shared.contracts.subjects import RANKING_RECOMMENDED
from tests.support.fakes import FakeUnitOfWork

CONSUMER = "ordering-ranking-recommended"


class InMemoryDecisions:
    def __init__(self) -> None:
        self.by_ranking: dict[str, Decision] = {}

    async def add(self, decision: Decision) -> bool:
        if decision.ranking_id in self.by_ranking:
            return False
        self.by_ranking[decision.ranking_id] = decision
        return True

    async def get(self, decision_id: str) -> Decision | None:
        return next((d for d in self.by_ranking.values() if d.id == decision_id), None)

    async def for_round(self, round_id: str) -> list[Decision]:
        found = [d for d in self.by_ranking.values() if d.round_id == round_id]
        return sorted(found, key=lambda d: (d.created_at, d.id), reverse=True)


class DecisionsUow(FakeUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.decisions = InMemoryDecisions()


def recommended(
    ranking_id: str = "r-1", round_id: str = "vest-2026-host", entries: tuple[RankedProposal, ...] | None = None
) -> CloudEvent[RankingRecommendedV1]:
    data = RankingRecommendedV1(
        ranking_id=ranking_id, round_id=round_id, region="vest", recommended_on=date(2026, 10, 22),
        entries=entries or (
            RankedProposal(proposal_id="p-2", reference="VEST-2026-0002", rank=2, total_score=7.5, reason="Mange"),
            RankedProposal(proposal_id="p-1", reference="VEST-2026-0001", rank=1, total_score=9.0, reason="Alvorlig"),
        ),
    )
    raw = envelope(service="scoring", event_type=RANKING_RECOMMENDED.type, subject=ranking_id, region="vest",
                   data=data)
    return CloudEvent[RankingRecommendedV1].model_validate(raw)


def draft(event: CloudEvent[RankingRecommendedV1]) -> service.DraftDecision:
    return service.DraftDecision.from_event(event, CONSUMER)


def _reader(uow: DecisionsUow) -> service.DecisionsReader:
    return uow


async def test_a_recommendation_is_stored_as_one_draft_decision_in_rank_order():
    uow = DecisionsUow()
    now = datetime(2026, 10, 22, 15, tzinfo=UTC)
    decision_id = await service.record_draft_decision(draft(recommended()), uow, now=now)
    assert decision_id is not None
    decision = await service.get_decision(decision_id, _reader(uow))
    assert (decision.ranking_id, decision.round_id, decision.region) == ("r-1", "vest-2026-host", "vest")
    assert decision.status is DecisionStatus.DRAFT
    assert decision.recommended_on == date(2026, 10, 22)
    assert decision.created_at == now
    assert [(e.rank, e.reference, e.total_score, e.reason) for e in decision.entries] == [
        (1, "VEST-2026-0001", 9.0, "Alvorlig"), (2, "VEST-2026-0002", 7.5, "Mange"),
    ]
    assert uow.commits == 1


async def test_a_redelivered_recommendation_stores_nothing_more():
    uow = DecisionsUow()
    event = recommended()
    assert await service.record_draft_decision(draft(event), uow) is not None
    assert await service.record_draft_decision(draft(event), uow) is None
    assert uow.commits == 1
    assert len(uow.decisions.by_ranking) == 1


async def test_a_second_event_for_the_same_ranking_keeps_the_first_draft():
    uow = DecisionsUow()
    first = await service.record_draft_decision(draft(recommended()), uow)
    assert await service.record_draft_decision(draft(recommended()), uow) is None  # a new event id
    assert uow.decisions.by_ranking["r-1"].id == first


async def test_an_invalid_recommendation_claims_and_stores_nothing():
    uow = DecisionsUow()
    twice = (
        RankedProposal(proposal_id="p-1", reference="VEST-2026-0001", rank=1, total_score=9.0),
        RankedProposal(proposal_id="p-1", reference="VEST-2026-0001", rank=2, total_score=8.0),
    )
    with pytest.raises(InvalidRecommendation):
        await service.record_draft_decision(draft(recommended(entries=twice)), uow)
    assert uow.claimed == set()
    assert uow.commits == 0
    assert uow.decisions.by_ranking == {}


async def test_decisions_are_listed_per_round_newest_first():
    uow = DecisionsUow()
    for number, round_id in ((1, "vest-2026-host"), (2, "vest-2026-host"), (3, "vest-2027-var")):
        now = datetime(2026, 10, number, tzinfo=UTC)
        await service.record_draft_decision(draft(recommended(f"r-{number}", round_id)), uow, now=now)
    autumn = await service.list_decisions("vest-2026-host", _reader(uow))
    assert [d.ranking_id for d in autumn] == ["r-2", "r-1"]
    assert await service.list_decisions("nord-2026-host", _reader(uow)) == []


async def test_an_unknown_decision_is_not_found():
    with pytest.raises(DecisionNotFound):
        await service.get_decision("no-such-decision", _reader(DecisionsUow()))
