"""In-memory repositories of intake's ports, on the generic FakeUnitOfWork: use cases run without a database.

Each fake keeps what the SQL repository would store and answers the same questions; `IntakeFakes` holds one of
each and serves as both the unit of work and the reader, so mypy checks it against every feature's Protocol.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from intake.ingestion.model import (
    OPEN,
    RESOLVED,
    AcceptedSubmission,
    NewQuarantineEntry,
    QuarantineEntry,
    QuarantineHistoryItem,
)
from intake.proposals.model import EffectQuestion, HistoryEntry, Proposal, Proposer, SimilarityCandidate
from intake.rounds.model import Round
from intake.screening.model import (
    CarriedOver,
    InternalNote,
    QueueFilter,
    QueueItem,
    QueueOrder,
    RevisionRequest,
    TracedEntry,
)
from tests.support.fakes import FakeUnitOfWork


class InMemoryProposals:
    def __init__(self) -> None:
        self.rows: dict[str, Proposal] = {}
        self.entries: dict[str, list[tuple[HistoryEntry, str | None]]] = {}
        self.counters: dict[tuple[str, int], int] = {}
        self.keys: dict[str, tuple[str, str]] = {}

    async def get(self, proposal_id: str) -> Proposal | None:
        found = self.rows.get(proposal_id)
        # The SQL repository reads no contact details with a proposal: neither does this one.
        return replace(found, proposer=None, self_assessment=dict(found.self_assessment)) if found else None

    async def by_reference(self, reference: str) -> Proposal | None:
        found = next((p for p in self.rows.values() if p.reference == reference), None)
        return await self.get(found.id) if found else None

    async def add(self, proposal: Proposal) -> None:
        assert proposal.proposer is not None and proposal.id not in self.rows
        self.rows[proposal.id] = replace(proposal)

    async def add_history(self, proposal_id: str, entry: HistoryEntry, related_proposal_id: str | None = None) -> None:
        self.entries.setdefault(proposal_id, []).append((entry, related_proposal_id))

    async def history(self, proposal_id: str) -> list[HistoryEntry]:
        return [
            replace(entry, related_reference=self.rows[related].reference if related else None)
            for entry, related in self.entries.get(proposal_id, [])
        ]

    async def newest_in_region(self, region: str, limit: int) -> list[SimilarityCandidate]:
        newest = sorted((p for p in self.rows.values() if p.region == region), key=lambda p: p.submitted_at,
                        reverse=True)[:limit]
        return [
            SimilarityCandidate(
                p.reference, p.round_id, p.title, p.status, p.submitted_at,
                " ".join((p.title, p.question.population, p.question.intervention, p.question.comparison,
                          p.question.outcome)),
            )
            for p in newest
        ]

    async def next_reference_number(self, region: str, year: int) -> int:
        self.counters[(region, year)] = self.counters.get((region, year), 0) + 1
        return self.counters[(region, year)]

    async def by_idempotency_key(self, key: str) -> tuple[str, str] | None:
        return self.keys.get(key)

    async def remember_idempotency_key(self, key: str, request_hash: str, proposal_id: str, now: datetime) -> None:
        assert key not in self.keys
        self.keys[key] = (proposal_id, request_hash)

    def change(self, proposal_id: str, **changes: Any) -> None:
        self.rows[proposal_id] = replace(self.rows[proposal_id], **changes)


class InMemoryRounds:
    def __init__(self, proposals: InMemoryProposals) -> None:
        self.rows: dict[str, Round] = {}
        self._proposals = proposals

    async def get(self, round_id: str) -> Round | None:
        return self.rows.get(round_id)

    async def for_region(self, region: str) -> list[Round]:
        return sorted((r for r in self.rows.values() if r.region == region), key=lambda r: r.opens_at)

    async def open_at(self, now: datetime) -> list[Round]:
        found = (r for r in self.rows.values() if r.opens_at <= now < r.closes_at)
        return sorted(found, key=lambda r: (r.region, r.closes_at))

    async def add(self, round_: Round) -> None:
        assert round_.id not in self.rows
        self.rows[round_.id] = round_

    async def update(self, round_: Round) -> None:
        self.rows[round_.id] = round_

    async def save(self, round_: Round) -> None:
        earlier = self.rows.get(round_.id)
        if earlier is not None:  # the clock's marks stay
            round_ = replace(round_, opened_announced_at=earlier.opened_announced_at,
                             closed_announced_at=earlier.closed_announced_at)
        self.rows[round_.id] = round_

    async def due_openings(self, now: datetime) -> list[Round]:
        due = [r for r in self.rows.values() if r.opened_announced_at is None and r.opens_at <= now]
        return sorted(due, key=lambda r: (r.opens_at, r.id))

    async def due_closings(self, now: datetime) -> list[Round]:
        due = [r for r in self.rows.values() if r.closed_announced_at is None and r.closes_at <= now]
        return sorted(due, key=lambda r: (r.closes_at, r.id))

    async def claim_opened(self, round_id: str, now: datetime) -> bool:
        if self.rows[round_id].opened_announced_at is not None:
            return False
        self.rows[round_id] = replace(self.rows[round_id], opened_announced_at=now)
        return True

    async def claim_closed(self, round_id: str, now: datetime) -> bool:
        if self.rows[round_id].closed_announced_at is not None:
            return False
        self.rows[round_id] = replace(self.rows[round_id], closed_announced_at=now)
        return True

    async def proposal_count(self, round_id: str) -> int:
        return sum(p.round_id == round_id for p in self._proposals.rows.values())

    async def next_after(self, region: str, opens_at: datetime) -> str | None:
        later = [r for r in await self.for_region(region) if r.opens_at > opens_at]
        return later[0].id if later else None


def _matches(proposal: Proposal, where: QueueFilter, with_status: bool) -> bool:
    text = where.text.strip().lower()
    words = (proposal.reference, proposal.title, proposal.question.population, proposal.question.intervention,
             proposal.question.comparison, proposal.question.outcome, proposal.background)
    return (
        proposal.round_id == where.round_id
        and (not with_status or not where.status or proposal.status == where.status)
        and (not where.service_area or proposal.service_area == where.service_area)
        and (not where.theme or proposal.theme == where.theme)
        and (not where.municipality_number or proposal.municipality_number == where.municipality_number)
        and (not where.unit_code or proposal.unit_code == where.unit_code)
        and (not text or any(text in word.lower() for word in words))
    )


def _sort_value(proposal: Proposal, order: QueueOrder) -> Any:
    ranks: Mapping[str, int] = order.ranks
    if order.key == "reference":
        return proposal.reference
    if order.key == "title":
        return proposal.title.lower()
    if order.key == "status":
        return ranks.get(proposal.status, len(ranks))
    if order.key == "service_area":
        return ranks.get(proposal.service_area or "", len(ranks))
    if order.key == "organisation":
        code = f"u:{proposal.unit_code}" if proposal.unit_code else f"m:{proposal.municipality_number}"
        return ranks.get(code, len(ranks))
    return proposal.submitted_at


class InMemoryScreening:
    def __init__(self, proposals: InMemoryProposals) -> None:
        self._proposals = proposals
        self.notes_of: dict[str, list[InternalNote]] = {}
        self.requests: dict[str, RevisionRequest] = {}
        self.carried: dict[str, list[CarriedOver]] = {}

    async def queue(self, where: QueueFilter, order: QueueOrder, limit: int, offset: int = 0) -> list[QueueItem]:
        found = [p for p in self._proposals.rows.values() if _matches(p, where, with_status=True)]
        found.sort(key=lambda p: (p.submitted_at, p.reference))
        found.sort(key=lambda p: _sort_value(p, order), reverse=order.descending)
        return [
            QueueItem(p.id, p.reference, p.title, p.status, p.municipality_number, p.unit_code, p.service_area,
                      p.theme, p.submitted_at)
            for p in found[offset:offset + limit]
        ]

    async def counts(self, where: QueueFilter) -> dict[str, int]:
        counts: dict[str, int] = {}
        for p in self._proposals.rows.values():
            if _matches(p, where, with_status=False):
                counts[p.status] = counts.get(p.status, 0) + 1
        return counts

    async def contact(self, proposal_id: str) -> Proposer | None:
        found = self._proposals.rows.get(proposal_id)
        return found.proposer if found else None

    async def set_status(self, proposal_id: str, status: str) -> None:
        self._proposals.change(proposal_id, status=status)

    async def classify(self, proposal_id: str, service_area: str | None, theme: str | None) -> None:
        self._proposals.change(proposal_id, service_area=service_area, theme=theme)

    async def revise(self, proposal_id: str, title: str, question: EffectQuestion, background: str) -> None:
        self._proposals.change(proposal_id, title=title, question=question, background=background)

    async def move_to_round(self, proposal_id: str, from_round_id: str, to_round_id: str, at: datetime) -> None:
        self._proposals.change(proposal_id, round_id=to_round_id)
        self.carried.setdefault(proposal_id, []).append(CarriedOver(from_round_id, to_round_id, at))

    async def add_note(self, proposal_id: str, note: InternalNote) -> None:
        self.notes_of.setdefault(proposal_id, []).append(note)

    async def notes(self, proposal_id: str) -> list[InternalNote]:
        return list(self.notes_of.get(proposal_id, []))

    async def add_revision_request(self, request: RevisionRequest) -> None:
        self.requests[request.id] = request

    async def revision_request(self, request_id: str) -> RevisionRequest | None:
        return self.requests.get(request_id)

    async def resolve_revision_requests(self, proposal_id: str, at: datetime) -> None:
        for request in list(self.requests.values()):
            if request.proposal_id == proposal_id and request.resolved_at is None:
                self.requests[request.id] = replace(request, resolved_at=at)

    async def traced_history(self, proposal_id: str) -> list[TracedEntry]:
        rows = self._proposals.rows
        return [
            TracedEntry(entry.at, entry.event, entry.status, entry.note, related,
                        rows[related].reference if related else None)
            for entry, related in self._proposals.entries.get(proposal_id, [])
        ]

    async def carried_from(self, proposal_id: str) -> list[CarriedOver]:
        return list(self.carried.get(proposal_id, []))


class InMemoryIngestion:
    def __init__(self) -> None:
        self.taken: dict[tuple[str, str], AcceptedSubmission] = {}
        self.entries: dict[str, QuarantineEntry] = {}
        self.hashes: dict[str, str] = {}
        self.trace: dict[str, list[QuarantineHistoryItem]] = {}

    async def accepted(self, region: str, external_id: str) -> AcceptedSubmission | None:
        return self.taken.get((region, external_id))

    async def record_accepted(
        self, accepted: AcceptedSubmission, *, channel: str, source: str, event_id: str | None,
        external_submitted_at: datetime | None, quarantine_id: str | None, now: datetime,
    ) -> None:
        self.taken.setdefault((accepted.region, accepted.external_id), accepted)

    async def by_content(self, region: str, content_hash: str) -> QuarantineEntry | None:
        return next((e for e in self.entries.values()
                     if e.region == region and self.hashes[e.id] == content_hash), None)

    async def received_again(self, entry_id: str, now: datetime) -> None:
        entry = self.entries[entry_id]
        self.entries[entry_id] = replace(entry, times_received=entry.times_received + 1, updated_at=now)

    async def add(self, entry: NewQuarantineEntry, now: datetime) -> str:
        entry_id = f"q-{len(self.entries) + 1:04d}"
        self.entries[entry_id] = QuarantineEntry(
            entry_id, entry.region, entry.external_id, entry.channel, entry.source, entry.event_id, entry.row_number,
            entry.kind, entry.payload, entry.reasons, OPEN, 1, now, now, None, None,
        )
        self.hashes[entry_id] = entry.content_hash
        return entry_id

    async def get(self, region: str, entry_id: str) -> QuarantineEntry | None:
        found = self.entries.get(entry_id)
        return found if found is not None and found.region == region else None

    async def for_region(self, region: str, status: str | None, limit: int, offset: int = 0) -> list[QuarantineEntry]:
        found = [e for e in self.entries.values() if e.region == region and status in (None, e.status)]
        found.sort(key=lambda e: (e.received_at, e.id), reverse=True)
        return found[offset:offset + limit]

    async def count(self, region: str, status: str | None) -> int:
        return sum(e.region == region and status in (None, e.status) for e in self.entries.values())

    async def open_for_external_id(self, region: str, external_id: str) -> list[str]:
        return [e.id for e in self.entries.values()
                if e.region == region and e.external_id == external_id and e.status == OPEN]

    async def set_reasons(self, entry_id: str, reasons: list[dict[str, str]], now: datetime) -> None:
        self.entries[entry_id] = replace(self.entries[entry_id], reasons=reasons, updated_at=now)

    async def correct(
        self, entry_id: str, *, kind: str, payload: Any, external_id: str | None, reasons: list[dict[str, str]],
        now: datetime,
    ) -> None:
        self.entries[entry_id] = replace(self.entries[entry_id], kind=kind, payload=payload, external_id=external_id,
                                         reasons=reasons, updated_at=now)

    async def resolve(self, entry_id: str, proposal_id: str, now: datetime) -> None:
        self.entries[entry_id] = replace(self.entries[entry_id], status=RESOLVED, proposal_id=proposal_id,
                                         resolved_at=now, updated_at=now)

    async def add_history(
        self, entry_id: str, *, action: str, actor: str, outcome: str, now: datetime,
        reasons: list[dict[str, str]] | None = None, proposal_id: str | None = None, replaced_payload: Any = None,
    ) -> None:
        self.trace.setdefault(entry_id, []).append(
            QuarantineHistoryItem(now, action, actor, outcome, reasons or [], proposal_id, replaced_payload)
        )

    async def history(self, entry_id: str) -> list[QuarantineHistoryItem]:
        return list(self.trace.get(entry_id, []))


class IntakeFakes(FakeUnitOfWork):
    """Intake's unit of work and reader in memory: every feature's repositories over the same rows."""

    def __init__(self) -> None:
        super().__init__()
        self.proposals = InMemoryProposals()
        self.rounds = InMemoryRounds(self.proposals)
        self.screening = InMemoryScreening(self.proposals)
        self.ingestion = InMemoryIngestion()
