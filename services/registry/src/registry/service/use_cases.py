"""The registry's use cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from registry.adapters.repository import RegistryUnitOfWork
from registry.domain.demo_users import DEMO_USERS, DemoUser, demo_user, ensure_dev_login_allowed
from registry.domain.model import KnowledgeNeed
from shared.auth import issue_token


@dataclass(frozen=True)
class RecordKnowledgeNeed:
    """Record a submitted proposal's question as a knowledge need."""

    event_id: str
    consumer: str
    proposal_id: str
    reference: str
    region: str
    round_id: str
    municipality_number: str
    title: str
    population: str
    intervention: str
    comparison: str
    outcome: str


async def record_knowledge_need(
    command: RecordKnowledgeNeed, uow: RegistryUnitOfWork, now: datetime | None = None
) -> bool:
    """Record the need once; a redelivered event, or another event for the same proposal, changes nothing."""
    need = KnowledgeNeed(
        proposal_id=command.proposal_id, reference=command.reference, region=command.region,
        round_id=command.round_id, municipality_number=command.municipality_number, title=command.title,
        population=command.population, intervention=command.intervention, comparison=command.comparison,
        outcome=command.outcome, recorded_at=now or datetime.now(UTC),
    )
    async with uow:
        if not await uow.claim(command.consumer, command.event_id):
            return False
        added = await uow.knowledge_needs.add(need)
        await uow.commit()
        return added


@dataclass(frozen=True)
class DevLogin:
    """Log in as one of the demo users."""

    login: str
    env: str
    secret: str
    ttl_seconds: int


@dataclass(frozen=True)
class Session:
    user: DemoUser
    token: str
    expires_in: int


def dev_login(command: DevLogin) -> Session:
    """Issue a session token for a demo user; refused unless the environment is explicitly dev."""
    ensure_dev_login_allowed(command.env)
    user = demo_user(command.login)
    token = issue_token(command.secret, user.subject, user.grants, command.ttl_seconds)
    return Session(user=user, token=token, expires_in=command.ttl_seconds)


def list_demo_users(env: str) -> tuple[DemoUser, ...]:
    """The demo users one may log in as; refused unless the environment is explicitly dev."""
    ensure_dev_login_allowed(env)
    return DEMO_USERS
