"""The registry's use cases, against an in-memory unit of work."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from registry.domain.demo_users import DevLoginRefused
from registry.domain.model import KnowledgeNeed, KnowledgeNeedSource, KnowledgeNeedStatus
from registry.service import use_cases
from shared.auth import Role, verify_token

SECRET = "unit-test-secret-0123456789abcdef0123"


class FakeKnowledgeNeeds:
    def __init__(self) -> None:
        self.rows: dict[str, KnowledgeNeed] = {}

    async def add(self, need: KnowledgeNeed) -> bool:
        if need.proposal_id in self.rows:
            return False
        self.rows[need.proposal_id] = need
        return True


class FakeUnitOfWork:
    """Claims and needs in memory; only what was committed counts."""

    def __init__(self) -> None:
        self.claimed: set[tuple[str, str]] = set()
        self.knowledge_needs = FakeKnowledgeNeeds()
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


def command(event_id: str = "e-1", proposal_id: str = "p-1") -> use_cases.RecordKnowledgeNeed:
    return use_cases.RecordKnowledgeNeed(
        event_id=event_id, consumer="registry-proposal-submitted", proposal_id=proposal_id,
        reference="VEST-2026-0001", region="vest", round_id="vest-2026-host", municipality_number="4601",
        title="Musikkterapi mot uro ved demens", population="Personer med demens i sykehjem",
        intervention="Musikkterapi", comparison="Vanlig oppfølging", outcome="Mindre uro og agitasjon",
    )


async def test_a_submitted_proposal_becomes_a_proposed_knowledge_need():
    uow = FakeUnitOfWork()
    now = datetime(2026, 9, 1, 12, tzinfo=UTC)
    assert await use_cases.record_knowledge_need(command(), uow, now=now)  # type: ignore[arg-type]
    need = uow.knowledge_needs.rows["p-1"]
    assert need.status is KnowledgeNeedStatus.PROPOSED
    assert need.source is KnowledgeNeedSource.PROPOSAL
    assert need.intervention == "Musikkterapi"
    assert need.recorded_at == now
    assert uow.commits == 1


async def test_a_redelivered_event_records_nothing_and_commits_nothing():
    uow = FakeUnitOfWork()
    await use_cases.record_knowledge_need(command(), uow)  # type: ignore[arg-type]
    assert not await use_cases.record_knowledge_need(command(), uow)  # type: ignore[arg-type]
    assert uow.commits == 1
    assert len(uow.knowledge_needs.rows) == 1


async def test_another_event_for_the_same_proposal_keeps_the_first_need():
    uow = FakeUnitOfWork()
    await use_cases.record_knowledge_need(command("e-1"), uow)  # type: ignore[arg-type]
    assert not await use_cases.record_knowledge_need(command("e-2"), uow)  # type: ignore[arg-type]
    assert len(uow.knowledge_needs.rows) == 1


def test_dev_login_issues_a_token_with_the_demo_users_roles():
    session = use_cases.dev_login(use_cases.DevLogin("utval-vest", env="dev", secret=SECRET, ttl_seconds=600))
    principal = verify_token(SECRET, session.token)
    assert principal.subject == session.user.subject
    assert principal.has(Role.COMMITTEE_MEMBER, "vest")
    assert not principal.has(Role.COMMITTEE_MEMBER, "nord")
    assert session.expires_in == 600


def test_dev_login_in_production_issues_no_token():
    with pytest.raises(DevLoginRefused):
        use_cases.dev_login(use_cases.DevLogin("admin-vest", env="prod", secret=SECRET, ttl_seconds=600))
