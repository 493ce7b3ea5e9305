"""Submitting a proposal, on in-memory fakes: no database, no broker."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from intake.proposals import service
from intake.proposals.model import EffectQuestion, IdempotencyKeyReused, Proposer
from intake.rounds.model import Round, RoundClosed
from shared.contracts import events
from shared.contracts.subjects import PROPOSAL_SUBMITTED, RECEIPT_REQUESTED
from shared.errors import InvalidInput
from tests.intake.unit.fakes import IntakeFakes

NOW = datetime(2026, 9, 20, 10, tzinfo=UTC)
QUESTION = EffectQuestion("Pasientar med demens i sjukeheim", "Sansehage", "Medikament", "Mindre uro")


def with_rounds() -> IntakeFakes:
    fakes = IntakeFakes()
    fakes.rounds.rows = {
        r.id: r for r in (
            Round("open", "vest", "Open", NOW - timedelta(days=10), NOW + timedelta(days=10),
                  criteria_set="prioritering"),
            Round("closed", "vest", "Closed", NOW - timedelta(days=30), NOW - timedelta(days=1)),
        )
    }
    return fakes


VALID = service.SubmitProposal(
    region="vest", round_id="open", municipality_number="4601", title="Sansehage mot uro ved demens",
    question=QUESTION, background="", proposer=Proposer("Kari Nordmann", "kari@example.no"), language="nn",
    consent=True, self_assessment={"nytte": 4},
)


def proposal(**changes: Any) -> service.SubmitProposal:
    return replace(VALID, **changes)


async def test_a_proposal_to_an_open_round_gets_a_reference_its_history_and_its_two_events() -> None:
    fakes = with_rounds()
    result = await service.submit_proposal(proposal(), fakes, now=NOW)
    assert result.created and result.reference == "VEST-2026-0001"
    stored = fakes.proposals.rows[result.id]
    assert (stored.status, stored.round_id, stored.consent_at, stored.self_assessment) == (
        "submitted", "open", NOW, {"nytte": 4},
    )
    assert [(h.event, h.status) for h in await fakes.proposals.history(result.id)] == [("submitted", "submitted")]
    [submitted] = fakes.published(PROPOSAL_SUBMITTED)
    assert isinstance(submitted, events.ProposalSubmittedV1)
    assert (submitted.reference, submitted.municipality_number) == ("VEST-2026-0001", "4601")
    assert "Kari" not in submitted.model_dump_json()  # personal data stays out of domain events
    [receipt] = fakes.published(RECEIPT_REQUESTED)
    assert isinstance(receipt, events.ReceiptRequestedV1) and receipt.recipient.email == "kari@example.no"
    assert fakes.commits == 1


async def test_references_count_per_region_and_year() -> None:
    fakes = with_rounds()
    first = await service.submit_proposal(proposal(), fakes, now=NOW)
    second = await service.submit_proposal(proposal(title="Musikkterapi mot uro"), fakes, now=NOW)
    assert (first.reference, second.reference) == ("VEST-2026-0001", "VEST-2026-0002")


async def test_a_unit_proposes_and_events_name_its_host_municipality() -> None:
    fakes = with_rounds()
    unit = proposal(municipality_number=None, unit_code="usht-vestland")
    result = await service.submit_proposal(unit, fakes, now=NOW)
    assert fakes.proposals.rows[result.id].unit_code == "usht-vestland"
    [submitted] = fakes.published(PROPOSAL_SUBMITTED)
    assert isinstance(submitted, events.ProposalSubmittedV1) and submitted.municipality_number == "4601"


async def test_the_same_idempotency_key_returns_the_same_proposal_and_refuses_other_content() -> None:
    fakes = with_rounds()
    first = await service.submit_proposal(proposal(idempotency_key="k-1"), fakes, now=NOW)
    again = await service.submit_proposal(proposal(idempotency_key="k-1"), fakes, now=NOW)
    assert (again.id, again.created) == (first.id, False)
    with pytest.raises(IdempotencyKeyReused):
        await service.submit_proposal(proposal(idempotency_key="k-1", title="Noko heilt anna"), fakes, now=NOW)
    assert len(fakes.proposals.rows) == 1 and len(fakes.published(PROPOSAL_SUBMITTED)) == 1


async def test_a_closed_round_refuses_new_proposals_and_stores_nothing() -> None:
    fakes = with_rounds()
    with pytest.raises(RoundClosed) as refused:
        await service.submit_proposal(proposal(round_id="closed"), fakes, now=NOW)
    assert refused.value.extra["closes_at"] == (NOW - timedelta(days=1)).isoformat()
    assert fakes.proposals.rows == {} and fakes.events == [] and fakes.commits == 0


async def test_every_broken_rule_is_named_at_once_and_nothing_is_written() -> None:
    fakes = with_rounds()
    broken = proposal(municipality_number="9999", service_area="romfart", consent=False, self_assessment={"nytte": 9})
    with pytest.raises(InvalidInput) as refused:
        await service.submit_proposal(broken, fakes, now=NOW)
    assert [(p.field, p.rule) for p in refused.value.problems] == [
        ("municipality", "unknown-municipality"), ("service_area", "unknown-service-area"),
        ("self_assessment.nytte", "score-out-of-range"), ("consent", "consent-required"),
    ]
    assert fakes.proposals.rows == {} and fakes.commits == 0


async def test_similar_questions_rank_the_regions_earlier_proposals() -> None:
    fakes = with_rounds()
    await service.submit_proposal(proposal(), fakes, now=NOW)
    await service.submit_proposal(proposal(title="Velferdsteknologi i heimetenesta",
                                           question=EffectQuestion("Eldre", "Tryggleiksalarm", "", "Færre fall")),
                                  fakes, now=NOW)
    found = await service.find_similar("vest", "sansehage mot uro ved demens", fakes)
    assert [r.item.reference for r in found.proposals] == ["VEST-2026-0001"]
