"""Every query intake makes."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from intake.adapters.tables import idempotency_keys, proposals, reference_counters, rounds
from intake.domain.model import EffectQuestion, Proposal, Round
from shared.db import dialect_insert

# Statements on the submission path are built once and executed with parameters: building a statement
# per request (`.values(...)`) costs more than SQLite takes to run it.
_ROUND_BY_ID = select(rounds).where(rounds.c.id == bindparam("round_id"))
_PROPOSAL_BY_ID = select(proposals).where(proposals.c.id == bindparam("proposal_id"))
_INSERT_PROPOSAL = insert(proposals)
_INSERT_IDEMPOTENCY_KEY = insert(idempotency_keys)
_IDEMPOTENCY_KEY = select(idempotency_keys.c.proposal_id, idempotency_keys.c.request_hash).where(
    idempotency_keys.c.key == bindparam("key")
)


@cache
def _take_reference_number(dialect: str) -> Any:
    """Upsert-and-return the region's yearly counter: one statement, atomic on both databases."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    dialect_insert_ = sqlite_insert if dialect == "sqlite" else pg_insert
    return (
        dialect_insert_(reference_counters)
        .values(region=bindparam("region"), year=bindparam("year"), last_number=1)
        .on_conflict_do_update(
            index_elements=["region", "year"], set_={"last_number": reference_counters.c.last_number + 1}
        )
        .returning(reference_counters.c.last_number)
    )


def _round(row: Any) -> Round:
    return Round(
        id=row.id, region=row.region, name=row.name, opens_at=row.opens_at, closes_at=row.closes_at,
        default_language=row.default_language,
    )


def _proposal(row: Any) -> Proposal:
    return Proposal(
        id=row.id, reference=row.reference, region=row.region, round_id=row.round_id,
        municipality_number=row.municipality_number, title=row.title,
        question=EffectQuestion(row.population, row.intervention, row.comparison, row.outcome),
        background=row.background, language=row.language, submitted_at=row.submitted_at, status=row.status,
    )


class RoundRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, round_id: str) -> Round | None:
        row = (await self.session.execute(_ROUND_BY_ID, {"round_id": round_id})).first()
        return _round(row) if row else None

    async def for_region(self, region: str) -> list[Round]:
        result = await self.session.execute(select(rounds).where(rounds.c.region == region).order_by(rounds.c.opens_at))
        return [_round(row) for row in result]

    async def save(self, round_: Round) -> None:
        values = {
            "id": round_.id, "region": round_.region, "name": round_.name, "opens_at": round_.opens_at,
            "closes_at": round_.closes_at, "default_language": round_.default_language,
        }
        statement = dialect_insert(self.session)(rounds).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=["id"], set_={k: statement.excluded[k] for k in values if k != "id"}
        )
        await self.session.execute(statement)


class ProposalRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, proposal_id: str) -> Proposal | None:
        row = (await self.session.execute(_PROPOSAL_BY_ID, {"proposal_id": proposal_id})).first()
        return _proposal(row) if row else None

    async def add(self, proposal: Proposal) -> None:
        assert proposal.proposer is not None
        await self.session.execute(
            _INSERT_PROPOSAL,
            {
                "id": proposal.id, "reference": proposal.reference, "region": proposal.region,
                "round_id": proposal.round_id, "municipality_number": proposal.municipality_number,
                "title": proposal.title, "population": proposal.question.population,
                "intervention": proposal.question.intervention, "comparison": proposal.question.comparison,
                "outcome": proposal.question.outcome, "background": proposal.background,
                "language": proposal.language, "status": proposal.status, "submitted_at": proposal.submitted_at,
                "proposer_name": proposal.proposer.name, "proposer_email": proposal.proposer.email,
            },
        )

    async def next_reference_number(self, region: str, year: int) -> int:
        """Take the next number in the region's yearly sequence, inside the caller's transaction."""
        statement = _take_reference_number(self.session.get_bind().dialect.name)
        return int((await self.session.execute(statement, {"region": region, "year": year})).scalar_one())

    async def by_idempotency_key(self, key: str) -> tuple[str, str] | None:
        row = (await self.session.execute(_IDEMPOTENCY_KEY, {"key": key})).first()
        return (row.proposal_id, row.request_hash) if row else None

    async def remember_idempotency_key(self, key: str, request_hash: str, proposal_id: str, now: datetime) -> None:
        await self.session.execute(
            _INSERT_IDEMPOTENCY_KEY,
            {"key": key, "request_hash": request_hash, "proposal_id": proposal_id, "created_at": now},
        )

    async def set_status(self, proposal_id: str, status: str) -> None:
        await self.session.execute(update(proposals).where(proposals.c.id == proposal_id).values(status=status))
