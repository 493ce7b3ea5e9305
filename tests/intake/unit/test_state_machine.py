"""The screening state machine and the rules each decision must satisfy (plain Python, no I/O)."""

from __future__ import annotations

import pytest

from intake.proposals.model import ProposalState
from intake.screening.model import (
    TRANSITIONS,
    ScreeningDecision,
    TransitionNotAllowed,
    allowed,
    ensure_transition,
)
from shared.errors import InvalidInput

S = ProposalState


@pytest.mark.parametrize("target", [S.NEEDS_COMPLETION, S.NEEDS_REFORMULATION, S.ACCEPTED, S.ANSWERED_BY_EXISTING,
                                    S.REJECTED, S.MERGED])
def test_a_submitted_proposal_can_be_screened_every_way(target: ProposalState) -> None:
    assert allowed(S.SUBMITTED, target)


@pytest.mark.parametrize("state", [S.NEEDS_COMPLETION, S.NEEDS_REFORMULATION])
def test_a_proposal_sent_back_returns_to_submitted_when_the_proposer_resubmits(state: ProposalState) -> None:
    assert allowed(state, S.SUBMITTED)
    assert not allowed(state, S.ACCEPTED)  # the proposer answers first


def test_only_accepted_proposals_are_carried_over_and_they_can_still_be_merged() -> None:
    assert allowed(S.ACCEPTED, S.CARRIED_OVER) and allowed(S.ACCEPTED, S.MERGED)
    assert not allowed(S.SUBMITTED, S.CARRIED_OVER)
    assert not allowed(S.ACCEPTED, S.SUBMITTED)


@pytest.mark.parametrize("terminal", [S.ANSWERED_BY_EXISTING, S.REJECTED, S.MERGED])
def test_terminal_states_go_nowhere(terminal: ProposalState) -> None:
    assert TRANSITIONS[terminal] == frozenset()
    assert not any(allowed(terminal, target) for target in ProposalState)


def test_every_state_code_has_a_row_and_unknown_codes_never_move() -> None:
    assert set(TRANSITIONS) == set(ProposalState)
    assert not allowed("ordered", S.ACCEPTED) and not allowed(S.SUBMITTED, "ordered")


def test_a_refused_move_names_the_field_and_both_states() -> None:
    with pytest.raises(TransitionNotAllowed) as caught:
        ensure_transition(S.REJECTED, S.ACCEPTED)
    assert caught.value.field == "status" and caught.value.status == 409
    assert caught.value.extra == {"current": "rejected", "target": "accepted"}


def _rules(decision: ScreeningDecision) -> list[tuple[str, str]]:
    return [(p.field, p.rule) for p in decision.problems()]


def test_a_rejection_needs_a_reason() -> None:
    assert _rules(ScreeningDecision("rejected")) == [("reason", "reason-required")]
    assert _rules(ScreeningDecision("rejected", reason="   ")) == [("reason", "reason-required")]
    assert _rules(ScreeningDecision("rejected", reason="Outside the municipalities' responsibility")) == []


def test_an_answer_by_existing_knowledge_needs_an_http_link() -> None:
    assert _rules(ScreeningDecision("answered_by_existing")) == [("link", "link-required")]
    assert _rules(ScreeningDecision("answered_by_existing", link="fhi.no/rapport")) == [("link", "link-invalid")]
    assert _rules(ScreeningDecision("answered_by_existing", link="javascript:alert(1)")) == [("link", "link-invalid")]
    assert _rules(ScreeningDecision("answered_by_existing", link="https://www.fhi.no/publ/2019/x")) == []


@pytest.mark.parametrize("status", ["needs_completion", "needs_reformulation"])
def test_sending_back_needs_a_request_text(status: str) -> None:
    assert _rules(ScreeningDecision(status)) == [("request", "request-required")]
    assert _rules(ScreeningDecision(status, request="Describe the comparison")) == []


def test_merge_and_carry_over_are_not_screening_decisions() -> None:
    for status in ("merged", "carried_over", "submitted", "nonsense"):
        assert _rules(ScreeningDecision(status)) == [("status", "not-a-screening-decision")]
    with pytest.raises(InvalidInput):
        ScreeningDecision("merged").validate()


def test_the_public_note_puts_the_required_text_first() -> None:
    decision = ScreeningDecision("answered_by_existing", note="See chapter 3", link="https://www.fhi.no/x")
    assert decision.public_note() == "https://www.fhi.no/x\nSee chapter 3"
    assert ScreeningDecision("accepted").public_note() == ""
