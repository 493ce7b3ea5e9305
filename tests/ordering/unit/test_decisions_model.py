"""Ordering's domain: a draft decision from a recommended ranking."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ordering.decisions.model import DecisionEntry, DecisionStatus, InvalidRecommendation, draft_decision


def draft(entries):
    return draft_decision(
        decision_id="d-1", ranking_id="r-1", round_id="vest-2026-host", region="vest",
        recommended_on=date(2026, 10, 22), created_at=datetime(2026, 10, 22, 15, tzinfo=UTC), entries=entries,
    )


def test_a_draft_decision_lists_the_proposals_in_rank_order():
    decision = draft([
        DecisionEntry("p-2", "VEST-2026-0002", 2, 7.5, "Mange kommuner"),
        DecisionEntry("p-1", "VEST-2026-0001", 1, 9.0, "Alvorlig tilstand"),
        DecisionEntry("p-3", "VEST-2026-0003", 3, 4.0),
    ])
    assert decision.status is DecisionStatus.DRAFT
    assert [e.proposal_id for e in decision.entries] == ["p-1", "p-2", "p-3"]


def test_a_ranking_that_lists_a_proposal_twice_is_refused():
    with pytest.raises(InvalidRecommendation):
        draft([DecisionEntry("p-1", "VEST-2026-0001", 1, 9.0), DecisionEntry("p-1", "VEST-2026-0001", 2, 8.0)])


def test_an_empty_ranking_is_refused():
    with pytest.raises(InvalidRecommendation):
        draft([])
