"""Every query of the secretariat's screening: the queue, contacts, notes, revision requests and carry-overs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select, case, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from intake.proposals.model import EffectQuestion, Proposer
from intake.screening.model import (
    CarriedOver,
    InternalNote,
    QueueFilter,
    QueueItem,
    QueueOrder,
    RevisionRequest,
    TracedEntry,
)
from intake.tables import internal_notes, proposal_history, proposals, revision_requests, round_carry_overs


class Screening(Protocol):
    """What the screening use cases need of the store, besides the rounds' and the proposals' own."""

    async def queue(self, where: QueueFilter, order: QueueOrder, limit: int, offset: int = 0) -> list[QueueItem]: ...

    async def counts(self, where: QueueFilter) -> dict[str, int]: ...

    async def contact(self, proposal_id: str) -> Proposer | None: ...

    async def set_status(self, proposal_id: str, status: str) -> None: ...

    async def classify(self, proposal_id: str, service_area: str | None, theme: str | None) -> None: ...

    async def revise(self, proposal_id: str, title: str, question: EffectQuestion, background: str) -> None: ...

    async def move_to_round(self, proposal_id: str, from_round_id: str, to_round_id: str, at: datetime) -> None: ...

    async def add_note(self, proposal_id: str, note: InternalNote) -> None: ...

    async def notes(self, proposal_id: str) -> list[InternalNote]: ...

    async def add_revision_request(self, request: RevisionRequest) -> None: ...

    async def revision_request(self, request_id: str) -> RevisionRequest | None: ...

    async def resolve_revision_requests(self, proposal_id: str, at: datetime) -> None: ...

    async def traced_history(self, proposal_id: str) -> list[TracedEntry]: ...

    async def carried_from(self, proposal_id: str) -> list[CarriedOver]: ...


def _filtered(query: Select[Any], where: QueueFilter, *, with_status: bool) -> Select[Any]:
    query = query.where(proposals.c.round_id == where.round_id)
    if with_status and where.status:
        query = query.where(proposals.c.status == where.status)
    if where.service_area:
        query = query.where(proposals.c.service_area == where.service_area)
    if where.theme:
        query = query.where(proposals.c.theme == where.theme)
    if where.municipality_number:
        query = query.where(proposals.c.municipality_number == where.municipality_number)
    if where.unit_code:
        query = query.where(proposals.c.unit_code == where.unit_code)
    text = where.text.strip().lower()
    if text:
        # A substring anywhere in the reference, the title or the question. SQLite's lower() folds ASCII only,
        # so "Ø" matches "ø" on PostgreSQL but not on SQLite; the text is short enough for a scan per round.
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        columns = (proposals.c.reference, proposals.c.title, proposals.c.population, proposals.c.intervention,
                   proposals.c.comparison, proposals.c.outcome, proposals.c.background)
        query = query.where(or_(*(func.lower(c).like(pattern, escape="\\") for c in columns)))
    return query


def _ranked(column: Any, ranks: Mapping[str, int]) -> ColumnElement[Any]:
    """A coded column as its code's rank (unknown codes and NULL last); the column itself without ranks."""
    if not ranks:
        return column
    return case(dict(ranks), value=column, else_=len(ranks))


def _sort_column(order: QueueOrder) -> ColumnElement[Any]:
    if order.key == "reference":
        return proposals.c.reference
    if order.key == "title":
        return func.lower(proposals.c.title)
    if order.key in ("status", "service_area"):
        return _ranked(proposals.c[order.key], order.ranks)
    if order.key == "organisation":
        units = {code[2:]: rank for code, rank in order.ranks.items() if code.startswith("u:")}
        numbers = {code[2:]: rank for code, rank in order.ranks.items() if code.startswith("m:")}
        return case(
            (proposals.c.unit_code.is_not(None), _ranked(proposals.c.unit_code, units)),
            else_=_ranked(proposals.c.municipality_number, numbers),
        )
    return proposals.c.submitted_at


class ScreeningRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def queue(self, where: QueueFilter, order: QueueOrder, limit: int, offset: int = 0) -> list[QueueItem]:
        """One page of the round's proposals that match, in the chosen order (ties: the order they came in)."""
        column = _sort_column(order)
        query = _filtered(
            select(
                proposals.c.id, proposals.c.reference, proposals.c.title, proposals.c.status,
                proposals.c.municipality_number, proposals.c.unit_code, proposals.c.service_area, proposals.c.theme,
                proposals.c.submitted_at,
            ),
            where, with_status=True,
        ).order_by(column.desc() if order.descending else column.asc(), proposals.c.submitted_at,
                   proposals.c.reference)
        return [QueueItem(**row._mapping) for row in await self.session.execute(query.limit(limit).offset(offset))]

    async def counts(self, where: QueueFilter) -> dict[str, int]:
        """Proposals per state in the selection, ignoring its state filter (so every state's count shows)."""
        query = _filtered(
            select(proposals.c.status, func.count()).group_by(proposals.c.status), where, with_status=False
        )
        return {row[0]: int(row[1]) for row in await self.session.execute(query)}

    async def contact(self, proposal_id: str) -> Proposer | None:
        """The proposer's name and address: only for the secretariat's detail and the contacts stream."""
        row = (await self.session.execute(
            select(proposals.c.proposer_name, proposals.c.proposer_email).where(proposals.c.id == proposal_id)
        )).first()
        return Proposer(row.proposer_name, row.proposer_email) if row else None

    async def set_status(self, proposal_id: str, status: str) -> None:
        await self.session.execute(update(proposals).where(proposals.c.id == proposal_id).values(status=status))

    async def classify(self, proposal_id: str, service_area: str | None, theme: str | None) -> None:
        await self.session.execute(
            update(proposals).where(proposals.c.id == proposal_id).values(service_area=service_area, theme=theme)
        )

    async def revise(self, proposal_id: str, title: str, question: EffectQuestion, background: str) -> None:
        """Replace the proposer's own text (a resubmission); everything else stays."""
        await self.session.execute(
            update(proposals).where(proposals.c.id == proposal_id).values(
                title=title, population=question.population, intervention=question.intervention,
                comparison=question.comparison, outcome=question.outcome, background=background,
            )
        )

    async def move_to_round(self, proposal_id: str, from_round_id: str, to_round_id: str, at: datetime) -> None:
        """Carry the proposal into another round, keeping the earlier round's record."""
        await self.session.execute(
            update(proposals).where(proposals.c.id == proposal_id).values(round_id=to_round_id)
        )
        await self.session.execute(insert(round_carry_overs).values(
            proposal_id=proposal_id, from_round_id=from_round_id, to_round_id=to_round_id, at=at,
        ))

    async def add_note(self, proposal_id: str, note: InternalNote) -> None:
        await self.session.execute(insert(internal_notes).values(
            id=note.id, proposal_id=proposal_id, at=note.at, author=note.author, text=note.text,
        ))

    async def notes(self, proposal_id: str) -> list[InternalNote]:
        query = (
            select(internal_notes.c.id, internal_notes.c.at, internal_notes.c.author, internal_notes.c.text)
            .where(internal_notes.c.proposal_id == proposal_id)
            .order_by(internal_notes.c.at, internal_notes.c.id)
        )
        return [InternalNote(**row._mapping) for row in await self.session.execute(query)]

    async def add_revision_request(self, request: RevisionRequest) -> None:
        await self.session.execute(insert(revision_requests).values(
            id=request.id, proposal_id=request.proposal_id, status=request.status, request=request.request,
            requested_at=request.requested_at, expires_at=request.expires_at, resolved_at=None,
        ))

    async def revision_request(self, request_id: str) -> RevisionRequest | None:
        row = (await self.session.execute(
            select(revision_requests).where(revision_requests.c.id == request_id)
        )).first()
        return RevisionRequest(**row._mapping) if row else None

    async def resolve_revision_requests(self, proposal_id: str, at: datetime) -> None:
        """Close every open request of the proposal: its links stop working."""
        await self.session.execute(
            update(revision_requests)
            .where(revision_requests.c.proposal_id == proposal_id, revision_requests.c.resolved_at.is_(None))
            .values(resolved_at=at)
        )

    async def traced_history(self, proposal_id: str) -> list[TracedEntry]:
        """The proposal's history with the related proposals' ids and references (merges and splits, both ways)."""
        related = proposals.alias("related")
        query = (
            select(
                proposal_history.c.at, proposal_history.c.event, proposal_history.c.status, proposal_history.c.note,
                proposal_history.c.related_proposal_id.label("related_id"),
                related.c.reference.label("related_reference"),
            )
            .select_from(proposal_history.outerjoin(related, related.c.id == proposal_history.c.related_proposal_id))
            .where(proposal_history.c.proposal_id == proposal_id)
            .order_by(proposal_history.c.id)
        )
        return [TracedEntry(**row._mapping) for row in await self.session.execute(query)]

    async def carried_from(self, proposal_id: str) -> list[CarriedOver]:
        """Each time the proposal was carried over, oldest first."""
        query = (
            select(round_carry_overs.c.from_round_id, round_carry_overs.c.to_round_id, round_carry_overs.c.at)
            .where(round_carry_overs.c.proposal_id == proposal_id)
            .order_by(round_carry_overs.c.id)
        )
        return [CarriedOver(r.from_round_id, r.to_round_id, r.at) for r in await self.session.execute(query)]
