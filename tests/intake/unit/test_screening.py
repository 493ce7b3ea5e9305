"""Screening on in-memory fakes: screen, merge, split, carry over and the proposer's resubmission."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from intake.proposals import service as proposals
from intake.proposals.model import EffectQuestion, Proposer
from intake.rounds.model import Round
from intake.screening import service
from intake.screening.links import RevisionLinks
from intake.screening.model import NoNextRound, Part, RevisionLinkUsed, ScreeningDecision, TransitionNotAllowed
from shared.contracts import events
from shared.contracts.subjects import (
    PROPOSAL_CARRIED_OVER,
    PROPOSAL_MERGED,
    PROPOSAL_RESUBMITTED,
    PROPOSAL_SCREENED,
    PROPOSAL_SPLIT,
    PROPOSAL_SUBMITTED,
    STATUS_NOTICE_REQUESTED,
)
from shared.errors import InvalidInput
from tests.intake.unit.fakes import IntakeFakes

NOW = datetime(2026, 9, 20, 10, tzinfo=UTC)
LINKS = RevisionLinks("a-secret-that-is-long-enough-for-tests-0123", "https://kp.example", 60)
ACTOR = "sekretariat-vest"


async def fakes_with(count: int) -> tuple[IntakeFakes, list[str]]:
    """A round open now, one later round, and `count` submitted proposals (the fakes' events cleared)."""
    fakes = IntakeFakes()
    fakes.rounds.rows = {
        "now": Round("now", "vest", "Hausten 2026", NOW - timedelta(days=10), NOW + timedelta(days=10)),
        "next": Round("next", "vest", "Våren 2027", NOW + timedelta(days=120), NOW + timedelta(days=150)),
    }
    ids = []
    for number in range(count):
        result = await proposals.submit_proposal(proposals.SubmitProposal(
            "vest", "now", "4601", f"Spørsmål nummer {number}", EffectQuestion("Eldre", "Trening", "", "Færre fall"),
            "", Proposer("Kari Nordmann", "kari@example.no"), "nn", consent=True,
        ), fakes, now=NOW)
        ids.append(result.id)
    fakes.events.clear()
    return fakes, ids


def screen(proposal_id: str, status: str, **text: str) -> service.ScreenProposal:
    return service.ScreenProposal(proposal_id, ScreeningDecision(status, **text), ACTOR)


async def test_an_accepted_proposal_is_announced_and_its_proposer_told() -> None:
    fakes, [proposal_id] = await fakes_with(1)
    change = await service.screen_proposal(screen(proposal_id, "accepted", note="Godt avgrensa"), fakes, LINKS, NOW)
    assert (change.status, change.previous_status, change.revise_url) == ("accepted", "submitted", None)
    assert fakes.proposals.rows[proposal_id].status == "accepted"
    [screened] = fakes.published(PROPOSAL_SCREENED)
    [notice] = fakes.published(STATUS_NOTICE_REQUESTED)
    assert isinstance(screened, events.ProposalScreenedV1) and screened.status == "accepted"
    assert isinstance(notice, events.StatusNoticeRequestedV1)
    assert (notice.note, notice.recipient.email, notice.cause_event_id) == (
        "Godt avgrensa", "kari@example.no", fakes.events[0].event_id,
    )


async def test_a_rejection_without_a_reason_is_refused_and_changes_nothing() -> None:
    fakes, [proposal_id] = await fakes_with(1)
    with pytest.raises(InvalidInput) as refused:
        await service.screen_proposal(screen(proposal_id, "rejected"), fakes, LINKS, NOW)
    assert [(p.field, p.rule) for p in refused.value.problems] == [("reason", "reason-required")]
    assert fakes.proposals.rows[proposal_id].status == "submitted" and fakes.events == []


async def test_a_proposal_sent_back_is_resubmitted_once_through_its_signed_link() -> None:
    fakes, [proposal_id] = await fakes_with(1)
    change = await service.screen_proposal(
        screen(proposal_id, "needs_reformulation", request="Avgrens til éin intervensjon"), fakes, LINKS, NOW,
    )
    assert change.revise_url is not None and change.revise_url.startswith("https://kp.example/intake/p/VEST-2026-0001")
    token = parse_qs(urlsplit(change.revise_url).query)["token"][0]
    revision = await service.get_revision("VEST-2026-0001", token, fakes, LINKS, NOW)
    assert (revision.request, revision.proposal.proposer) == ("Avgrens til éin intervensjon", None)
    question = EffectQuestion("Eldre", "Styrketrening", "", "Færre fall")
    command = service.ResubmitProposal("VEST-2026-0001", token, "Styrketrening mot fall", question)
    resubmitted = await service.resubmit_proposal(command, fakes, LINKS, NOW + timedelta(days=1))
    assert (resubmitted.status, fakes.proposals.rows[proposal_id].title) == ("submitted", "Styrketrening mot fall")
    [event] = fakes.published(PROPOSAL_RESUBMITTED)
    assert isinstance(event, events.ProposalResubmittedV1) and event.question.intervention == "Styrketrening"
    with pytest.raises(RevisionLinkUsed):
        await service.resubmit_proposal(command, fakes, LINKS, NOW + timedelta(days=2))


async def test_merged_duplicates_name_their_target_and_the_target_names_them() -> None:
    fakes, [target, first, second] = await fakes_with(3)
    merged = await service.merge_proposals(service.MergeProposals(target, (first, second), ACTOR, "Same"), fakes, NOW)
    assert merged.merged == ("VEST-2026-0002", "VEST-2026-0003")
    assert [fakes.proposals.rows[i].status for i in (target, first, second)] == ["submitted", "merged", "merged"]
    assert [(h.event, h.related_reference) for h in await fakes.proposals.history(first)][-1] == (
        "merged_into", "VEST-2026-0001",
    )
    assert [(h.event, h.related_reference) for h in await fakes.proposals.history(target)][1:] == [
        ("merged_from", "VEST-2026-0002"), ("merged_from", "VEST-2026-0003"),
    ]
    [event] = fakes.published(PROPOSAL_MERGED)
    assert isinstance(event, events.ProposalMergedV1)
    assert [(m.reference, m.previous_status) for m in event.merged] == [
        ("VEST-2026-0002", "submitted"), ("VEST-2026-0003", "submitted"),
    ]
    notices = fakes.published(STATUS_NOTICE_REQUESTED)
    assert [n.note for n in notices if isinstance(n, events.StatusNoticeRequestedV1)] == [
        "VEST-2026-0001\nSame", "VEST-2026-0001\nSame",
    ]


async def test_a_proposal_is_not_merged_into_itself_nor_twice() -> None:
    fakes, [target, duplicate] = await fakes_with(2)
    submitted = fakes.commits
    with pytest.raises(InvalidInput) as itself:
        await service.merge_proposals(service.MergeProposals(target, (target,), ACTOR), fakes, NOW)
    assert [p.rule for p in itself.value.problems] == ["merge-into-itself"]
    await service.merge_proposals(service.MergeProposals(target, (duplicate,), ACTOR), fakes, NOW)
    with pytest.raises(TransitionNotAllowed):
        await service.merge_proposals(service.MergeProposals(target, (duplicate,), ACTOR), fakes, NOW)
    assert fakes.commits == submitted + 1  # only the one merge


async def test_a_split_makes_new_proposals_with_their_own_references_and_traces_both_ways() -> None:
    fakes, [original] = await fakes_with(1)
    parts = (
        Part("Musikkterapi mot uro", EffectQuestion("Bebuarar med demens", "Musikkterapi", "", "Mindre uro")),
        Part("Lysterapi mot uro", EffectQuestion("Bebuarar med demens", "Lysterapi", "", "Mindre uro")),
    )
    split = await service.split_proposal(service.SplitProposal(original, parts, ACTOR, "To spørsmål"), fakes, NOW)
    assert [reference for _, reference in split.parts] == ["VEST-2026-0002", "VEST-2026-0003"]
    new_id = split.parts[0][0]
    assert (fakes.proposals.rows[new_id].title, fakes.proposals.rows[new_id].proposer) == (
        "Musikkterapi mot uro", Proposer("Kari Nordmann", "kari@example.no"),
    )
    assert [h.event for h in await fakes.proposals.history(original)][1:] == ["split_into", "split_into"]
    assert [(h.event, h.related_reference) for h in await fakes.proposals.history(new_id)] == [
        ("split_from", "VEST-2026-0001"),
    ]
    assert len(fakes.published(PROPOSAL_SUBMITTED)) == 2 and len(fakes.published(PROPOSAL_SPLIT)) == 1
    with pytest.raises(InvalidInput) as refused:
        await service.split_proposal(service.SplitProposal(original, (replace(parts[0], title="Kort"),), ACTOR), fakes)
    assert [(p.field, p.rule) for p in refused.value.problems] == [("parts.0.title", "string_too_short")]


async def test_an_accepted_proposal_is_carried_over_to_the_next_round_under_the_same_reference() -> None:
    fakes, [proposal_id] = await fakes_with(1)
    with pytest.raises(TransitionNotAllowed):  # only an accepted proposal can be carried over
        await service.carry_over(service.CarryOver(proposal_id, ACTOR), fakes, NOW)
    await service.screen_proposal(screen(proposal_id, "accepted"), fakes, LINKS, NOW)
    change = await service.carry_over(service.CarryOver(proposal_id, ACTOR), fakes, NOW)
    assert (change.status, change.reference) == ("carried_over", "VEST-2026-0001")
    assert fakes.proposals.rows[proposal_id].round_id == "next"
    assert [(c.from_round_id, c.to_round_id) for c in fakes.screening.carried[proposal_id]] == [("now", "next")]
    [event] = fakes.published(PROPOSAL_CARRIED_OVER)
    assert isinstance(event, events.ProposalCarriedOverV1) and (event.from_round_id, event.round_id) == ("now", "next")


async def test_without_a_later_round_nothing_is_carried_over() -> None:
    fakes, [proposal_id] = await fakes_with(1)
    del fakes.rounds.rows["next"]
    await service.screen_proposal(screen(proposal_id, "accepted"), fakes, LINKS, NOW)
    with pytest.raises(NoNextRound):
        await service.carry_over(service.CarryOver(proposal_id, ACTOR), fakes, NOW)
    assert fakes.proposals.rows[proposal_id].status == "accepted"


async def test_the_queue_pages_and_counts_the_rounds_proposals() -> None:
    fakes, ids = await fakes_with(5)
    await service.screen_proposal(screen(ids[0], "accepted"), fakes, LINKS, NOW)
    order = service.queue_order("reference", True, "nb")
    page = await service.screening_queue(service.QueueFilter("now"), fakes, order=order, page=2, size=2)
    assert (page.total, page.page, [i.reference for i in page.items]) == (5, 2, ["VEST-2026-0003", "VEST-2026-0002"])
    assert page.counts["submitted"] == 4 and page.counts["accepted"] == 1
    accepted = await service.screening_queue(service.QueueFilter("now", status="accepted"), fakes, page=9, size=2)
    assert (accepted.total, accepted.page, [i.id for i in accepted.items]) == (1, 1, [ids[0]])
