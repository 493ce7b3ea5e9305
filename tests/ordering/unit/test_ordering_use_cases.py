"""Ordering's use cases, against an in-memory unit of work."""

from __future__ import annotations

from datetime import date

import pytest

from ordering.domain.model import Decision, DecisionEntry, InvalidRecommendation
from ordering.service import use_cases


class FakeDecisions:
    def __init__(self) -> None:
        self.by_ranking: dict[str, Decision] = {}

    async def add(self, decision: Decision) -> bool:
        if decision.ranking_id in self.by_ranking:
            return False
        self.by_ranking[decision.ranking_id] = decision
        return True


class FakeUnitOfWork:
    def __init__(self) -> None:
        self.claimed: set[tuple[str, str]] = set()
        self.decisions = FakeDecisions()
        self.commits = 0

    async def __aenter__(self) -> FakeUnitOfWork:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def claim(self, consumer: str, event_id: str) -> bool:
        if (consumer, event_id) in self.claimed:
            return False
        self.claimed.add((consumer, event_id))
        return True

    async def commit(self) -> None:
        self.commits += 1


def command(event_id: str = "e-1", entries=None) -> use_cases.DraftDecision:
    return use_cases.DraftDecision(
        event_id=event_id, consumer="ordering-ranking-recommended", ranking_id="r-1", round_id="vest-2026-host",
        region="vest", recommended_on=date(2026, 10, 22),
        entries=tuple(entries or [DecisionEntry("p-1", "VEST-2026-0001", 1, 9.0, "Alvorlig")]),
    )


async def test_a_recommendation_is_stored_as_one_draft_decision():
    uow = FakeUnitOfWork()
    decision_id = await use_cases.record_draft_decision(command(), uow)  # type: ignore[arg-type]
    assert decision_id is not None
    assert uow.decisions.by_ranking["r-1"].id == decision_id
    assert uow.commits == 1


async def test_a_redelivered_recommendation_stores_nothing_more():
    uow = FakeUnitOfWork()
    await use_cases.record_draft_decision(command(), uow)  # type: ignore[arg-type]
    assert await use_cases.record_draft_decision(command(), uow) is None  # type: ignore[arg-type]
    assert uow.commits == 1


async def test_a_second_event_for_the_same_ranking_keeps_the_first_draft():
    uow = FakeUnitOfWork()
    first = await use_cases.record_draft_decision(command("e-1"), uow)  # type: ignore[arg-type]
    assert await use_cases.record_draft_decision(command("e-2"), uow) is None  # type: ignore[arg-type]
    assert uow.decisions.by_ranking["r-1"].id == first


async def test_an_invalid_recommendation_claims_nothing():
    uow = FakeUnitOfWork()
    twice = [DecisionEntry("p-1", "VEST-2026-0001", 1, 9.0), DecisionEntry("p-1", "VEST-2026-0001", 2, 8.0)]
    with pytest.raises(InvalidRecommendation):
        await use_cases.record_draft_decision(command(entries=twice), uow)  # type: ignore[arg-type]
    assert uow.claimed == set()
    assert uow.commits == 0
