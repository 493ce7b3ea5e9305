"""The proposals' queries, behind the port the use cases know."""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from typing import Any, Protocol

from sqlalchemy import bindparam, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from intake.proposals.model import EffectQuestion, HistoryEntry, Proposal, SimilarityCandidate
from intake.tables import idempotency_keys, proposal_history, proposals, reference_counters


class Proposals(Protocol):
    """What the use cases need of the proposals' store."""

    async def get(self, proposal_id: str) -> Proposal | None: ...

    async def by_reference(self, reference: str) -> Proposal | None: ...

    async def add(self, proposal: Proposal) -> None: ...

    async def add_history(
        self, proposal_id: str, entry: HistoryEntry, related_proposal_id: str | None = None
    ) -> None: ...

    async def history(self, proposal_id: str) -> list[HistoryEntry]: ...

    async def newest_in_region(self, region: str, limit: int) -> list[SimilarityCandidate]: ...

    async def next_reference_number(self, region: str, year: int) -> int: ...

    async def by_idempotency_key(self, key: str) -> tuple[str, str] | None: ...

    async def remember_idempotency_key(self, key: str, request_hash: str, proposal_id: str, now: datetime) -> None: ...


# Statements on the submission path are built once and executed with parameters: building a statement
# per request (`.values(...)`) costs more than SQLite takes to run it.
_PROPOSAL_BY_ID = select(proposals).where(proposals.c.id == bindparam("proposal_id"))
_PROPOSAL_BY_REFERENCE = select(proposals).where(proposals.c.reference == bindparam("reference"))
_INSERT_PROPOSAL = insert(proposals)
_INSERT_HISTORY = insert(proposal_history)
_INSERT_IDEMPOTENCY_KEY = insert(idempotency_keys)
_IDEMPOTENCY_KEY = select(idempotency_keys.c.proposal_id, idempotency_keys.c.request_hash).where(
    idempotency_keys.c.key == bindparam("key")
)


@cache
def _take_reference_number(dialect: str) -> Any:
    """Upsert-and-return the region's yearly counter: one statement, atomic on both databases."""
    dialect_insert = sqlite_insert if dialect == "sqlite" else pg_insert
    return (
        dialect_insert(reference_counters)
        .values(region=bindparam("region"), year=bindparam("year"), last_number=1)
        .on_conflict_do_update(
            index_elements=["region", "year"], set_={"last_number": reference_counters.c.last_number + 1}
        )
        .returning(reference_counters.c.last_number)
    )


def _proposal(row: Any) -> Proposal:
    return Proposal(
        id=row.id, reference=row.reference, region=row.region, round_id=row.round_id,
        municipality_number=row.municipality_number, title=row.title,
        question=EffectQuestion(row.population, row.intervention, row.comparison, row.outcome),
        background=row.background, language=row.language, submitted_at=row.submitted_at, status=row.status,
        unit_code=row.unit_code, department=row.department, service_area=row.service_area, theme=row.theme,
        decision_text=row.decision_text, decision_on=row.decision_on,
        self_assessment=json.loads(row.self_assessment or "{}"), consent_at=row.consent_at,
    )


class ProposalRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, proposal_id: str) -> Proposal | None:
        row = (await self.session.execute(_PROPOSAL_BY_ID, {"proposal_id": proposal_id})).first()
        return _proposal(row) if row else None

    async def by_reference(self, reference: str) -> Proposal | None:
        row = (await self.session.execute(_PROPOSAL_BY_REFERENCE, {"reference": reference})).first()
        return _proposal(row) if row else None

    async def add(self, proposal: Proposal) -> None:
        assert proposal.proposer is not None
        await self.session.execute(
            _INSERT_PROPOSAL,
            {
                "id": proposal.id, "reference": proposal.reference, "region": proposal.region,
                "round_id": proposal.round_id, "municipality_number": proposal.municipality_number,
                "unit_code": proposal.unit_code, "department": proposal.department,
                "service_area": proposal.service_area, "theme": proposal.theme,
                "title": proposal.title, "population": proposal.question.population,
                "intervention": proposal.question.intervention, "comparison": proposal.question.comparison,
                "outcome": proposal.question.outcome, "background": proposal.background,
                "language": proposal.language, "status": proposal.status, "submitted_at": proposal.submitted_at,
                "decision_text": proposal.decision_text, "decision_on": proposal.decision_on,
                "self_assessment": json.dumps(proposal.self_assessment, sort_keys=True),
                "consent_at": proposal.consent_at,
                "proposer_name": proposal.proposer.name, "proposer_email": proposal.proposer.email,
            },
        )

    async def add_history(
        self, proposal_id: str, entry: HistoryEntry, related_proposal_id: str | None = None
    ) -> None:
        await self.session.execute(
            _INSERT_HISTORY,
            {
                "proposal_id": proposal_id, "at": entry.at, "event": entry.event, "status": entry.status,
                "note": entry.note, "related_proposal_id": related_proposal_id,
            },
        )

    async def history(self, proposal_id: str) -> list[HistoryEntry]:
        """The proposal's public history in order; a related proposal is named by its public reference."""
        related = proposals.alias("related")
        query = (
            select(
                proposal_history.c.at, proposal_history.c.event, proposal_history.c.status, proposal_history.c.note,
                related.c.reference.label("related_reference"),
            )
            .select_from(
                proposal_history.outerjoin(related, related.c.id == proposal_history.c.related_proposal_id)
            )
            .where(proposal_history.c.proposal_id == proposal_id)
            .order_by(proposal_history.c.id)
        )
        return [
            HistoryEntry(at=r.at, event=r.event, status=r.status, note=r.note, related_reference=r.related_reference)
            for r in await self.session.execute(query)
        ]

    async def newest_in_region(self, region: str, limit: int) -> list[SimilarityCandidate]:
        """The region's newest proposals (index on region, submitted_at), public columns only."""
        query = (
            select(
                proposals.c.reference, proposals.c.round_id, proposals.c.title, proposals.c.status,
                proposals.c.submitted_at, proposals.c.population, proposals.c.intervention,
                proposals.c.comparison, proposals.c.outcome,
            )
            .where(proposals.c.region == region)
            .order_by(proposals.c.submitted_at.desc())
            .limit(limit)
        )
        return [
            SimilarityCandidate(
                reference=r.reference, round_id=r.round_id, title=r.title, status=r.status,
                submitted_at=r.submitted_at,
                text=" ".join((r.title, r.population, r.intervention, r.comparison, r.outcome)),
            )
            for r in await self.session.execute(query)
        ]

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
