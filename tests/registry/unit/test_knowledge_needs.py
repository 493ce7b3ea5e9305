"""The registry's knowledge-need use cases on in-memory fakes: no database, no broker."""

from __future__ import annotations

from datetime import UTC, datetime

from registry.knowledge_needs import service
from registry.knowledge_needs.model import KnowledgeNeed, KnowledgeNeedSource, KnowledgeNeedStatus, Question
from shared.contracts.envelope import CloudEvent, envelope
from shared.contracts.events import EffectQuestion, ProposalSubmittedV1
from shared.contracts.subjects import PROPOSAL_SUBMITTED
from tests.support.fakes import FakeUnitOfWork

CONSUMER = "registry-proposal-submitted"
NOW = datetime(2026, 9, 1, 12, tzinfo=UTC)


class InMemoryKnowledgeNeeds:
    def __init__(self) -> None:
        self.rows: dict[str, KnowledgeNeed] = {}

    async def add(self, need: KnowledgeNeed) -> bool:
        if need.proposal_id in self.rows:
            return False
        self.rows[need.proposal_id] = need
        return True

    async def for_region(self, region: str) -> list[KnowledgeNeed]:
        found = [n for n in self.rows.values() if n.region == region]
        return sorted(found, key=lambda n: (n.recorded_at, n.proposal_id), reverse=True)


class KnowledgeNeedsUow(FakeUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.knowledge_needs = InMemoryKnowledgeNeeds()


def submitted(proposal_id: str = "p-1", region: str = "vest") -> CloudEvent[ProposalSubmittedV1]:
    data = ProposalSubmittedV1(
        proposal_id=proposal_id, reference=f"{region.upper()}-2026-0001", region=region,
        round_id=f"{region}-2026-host", municipality_number="4601", title="Musikkterapi mot uro ved demens",
        question=EffectQuestion(
            population="Personer med demens i sykehjem", intervention="Musikkterapi", comparison="Vanlig oppfølging",
            outcome="Mindre uro og agitasjon",
        ),
        background="Kari Nordmann i etat for sykehjem foreslår dette.",
        submitted_at=datetime(2026, 9, 1, 10, tzinfo=UTC),
    )
    raw = envelope(service="intake", event_type=PROPOSAL_SUBMITTED.type, subject=proposal_id, region=region,
                   data=data)
    return CloudEvent[ProposalSubmittedV1].model_validate(raw)


def record(event: CloudEvent[ProposalSubmittedV1], now: datetime = NOW) -> service.RecordKnowledgeNeed:
    return service.RecordKnowledgeNeed.from_event(event, CONSUMER, now=now)


def _reader(uow: KnowledgeNeedsUow) -> service.KnowledgeNeedsReader:
    return uow


async def test_a_submitted_proposal_becomes_a_proposed_knowledge_need_with_its_question():
    uow = KnowledgeNeedsUow()
    assert await service.record_knowledge_need(record(submitted()), uow)
    [need] = await service.list_knowledge_needs("vest", _reader(uow))
    assert (need.proposal_id, need.reference, need.round_id, need.municipality_number) == (
        "p-1", "VEST-2026-0001", "vest-2026-host", "4601",
    )
    assert need.question == Question(
        population="Personer med demens i sykehjem", intervention="Musikkterapi", comparison="Vanlig oppfølging",
        outcome="Mindre uro og agitasjon",
    )
    assert need.status is KnowledgeNeedStatus.PROPOSED
    assert need.source is KnowledgeNeedSource.PROPOSAL
    assert need.recorded_at == NOW
    assert uow.commits == 1


async def test_a_need_keeps_the_question_but_not_the_proposers_free_text():
    command = record(submitted())
    assert "Kari" not in repr(command.need)


async def test_a_redelivered_event_records_nothing_and_commits_nothing():
    uow = KnowledgeNeedsUow()
    event = submitted()
    assert await service.record_knowledge_need(record(event), uow)
    assert not await service.record_knowledge_need(record(event), uow)
    assert uow.commits == 1
    assert len(uow.knowledge_needs.rows) == 1


async def test_another_event_for_the_same_proposal_keeps_the_first_need():
    uow = KnowledgeNeedsUow()
    await service.record_knowledge_need(record(submitted(), now=NOW), uow)
    later = datetime(2026, 9, 2, tzinfo=UTC)
    assert not await service.record_knowledge_need(record(submitted(), now=later), uow)  # a new event id
    assert uow.knowledge_needs.rows["p-1"].recorded_at == NOW


async def test_needs_are_listed_only_for_their_region():
    uow = KnowledgeNeedsUow()
    await service.record_knowledge_need(record(submitted("p-1", "vest")), uow)
    await service.record_knowledge_need(record(submitted("p-2", "nord")), uow)
    assert [n.proposal_id for n in await service.list_knowledge_needs("nord", _reader(uow))] == ["p-2"]
