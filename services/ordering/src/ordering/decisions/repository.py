"""The decisions' queries, behind the port the use cases know."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Protocol

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from ordering.decisions.model import Decision, DecisionEntry, DecisionStatus
from ordering.tables import decision_entries, decisions
from shared.db import dialect_insert


def _decision(row: Any, entries: list[DecisionEntry]) -> Decision:
    return Decision(
        id=row.id, ranking_id=row.ranking_id, round_id=row.round_id, region=row.region,
        status=DecisionStatus(row.status), recommended_on=row.recommended_on, created_at=row.created_at,
        entries=tuple(entries),
    )


def _entry(row: Any) -> DecisionEntry:
    return DecisionEntry(
        proposal_id=row.proposal_id, reference=row.reference, rank=row.rank, total_score=row.total_score,
        reason=row.reason,
    )


class Decisions(Protocol):
    """What the use cases need of the decisions' store."""

    async def add(self, decision: Decision) -> bool:
        """Store the decision; False (and nothing stored) when its ranking already has one."""
        ...

    async def get(self, decision_id: str) -> Decision | None: ...

    async def for_round(self, round_id: str) -> list[Decision]:
        """The round's decisions, newest first."""
        ...


class DecisionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, decision: Decision) -> bool:
        """Insert the decision and its entries; False (and nothing written) when its ranking already has one."""
        result = await self.session.execute(
            dialect_insert(self.session)(decisions)
            .values(
                id=decision.id, ranking_id=decision.ranking_id, round_id=decision.round_id, region=decision.region,
                status=decision.status.value, recommended_on=decision.recommended_on,
                created_at=decision.created_at,
            )
            .on_conflict_do_nothing(index_elements=["ranking_id"])
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return False
        await self.session.execute(
            insert(decision_entries),
            [
                {
                    "decision_id": decision.id, "proposal_id": e.proposal_id, "reference": e.reference,
                    "rank": e.rank, "total_score": e.total_score, "reason": e.reason,
                }
                for e in decision.entries
            ],
        )
        return True

    async def get(self, decision_id: str) -> Decision | None:
        row = (await self.session.execute(select(decisions).where(decisions.c.id == decision_id))).first()
        if row is None:
            return None
        return _decision(row, (await self._entries([decision_id]))[decision_id])

    async def for_round(self, round_id: str) -> list[Decision]:
        """The round's decisions, newest first, each with its entries (two queries, no lazy loading)."""
        rows = (
            await self.session.execute(
                select(decisions)
                .where(decisions.c.round_id == round_id)
                .order_by(decisions.c.created_at.desc(), decisions.c.id.desc())
            )
        ).all()
        entries = await self._entries([r.id for r in rows])
        return [_decision(r, entries[r.id]) for r in rows]

    async def _entries(self, decision_ids: list[str]) -> dict[str, list[DecisionEntry]]:
        found: dict[str, list[DecisionEntry]] = defaultdict(list)
        if not decision_ids:
            return found
        result = await self.session.execute(
            select(decision_entries)
            .where(decision_entries.c.decision_id.in_(decision_ids))
            .order_by(decision_entries.c.rank, decision_entries.c.reference)
        )
        for row in result:
            found[row.decision_id].append(_entry(row))
        return found

