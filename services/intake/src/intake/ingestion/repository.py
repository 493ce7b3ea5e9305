"""Every query of ingestion from other regions: accepted submissions and the quarantine with its history."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Protocol

import uuid_utils
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from intake.ingestion.model import (
    OPEN,
    RESOLVED,
    AcceptedSubmission,
    NewQuarantineEntry,
    QuarantineEntry,
    QuarantineHistoryItem,
)
from intake.tables import ingest_quarantine, ingest_quarantine_history, ingested_submissions
from shared.db import dialect_insert


class Ingestion(Protocol):
    """What the ingestion use cases need of the store, besides the proposals' own."""

    async def accepted(self, region: str, external_id: str) -> AcceptedSubmission | None: ...

    async def record_accepted(
        self, accepted: AcceptedSubmission, *, channel: str, source: str, event_id: str | None,
        external_submitted_at: datetime | None, quarantine_id: str | None, now: datetime,
    ) -> None: ...

    async def by_content(self, region: str, content_hash: str) -> QuarantineEntry | None: ...

    async def received_again(self, entry_id: str, now: datetime) -> None: ...

    async def add(self, entry: NewQuarantineEntry, now: datetime) -> str: ...

    async def get(self, region: str, entry_id: str) -> QuarantineEntry | None: ...

    async def for_region(
        self, region: str, status: str | None, limit: int, offset: int = 0
    ) -> list[QuarantineEntry]: ...

    async def count(self, region: str, status: str | None) -> int: ...

    async def open_for_external_id(self, region: str, external_id: str) -> list[str]: ...

    async def set_reasons(self, entry_id: str, reasons: list[dict[str, str]], now: datetime) -> None: ...

    async def correct(
        self, entry_id: str, *, kind: str, payload: Any, external_id: str | None, reasons: list[dict[str, str]],
        now: datetime,
    ) -> None: ...

    async def resolve(self, entry_id: str, proposal_id: str, now: datetime) -> None: ...

    async def add_history(
        self, entry_id: str, *, action: str, actor: str, outcome: str, now: datetime,
        reasons: list[dict[str, str]] | None = None, proposal_id: str | None = None, replaced_payload: Any = None,
    ) -> None: ...

    async def history(self, entry_id: str) -> list[QuarantineHistoryItem]: ...


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _entry(row: Any) -> QuarantineEntry:
    return QuarantineEntry(
        id=row.id, region=row.region, external_id=row.external_id, channel=row.channel, source=row.source,
        event_id=row.event_id, row_number=row.row_number, kind=row.kind, payload=json.loads(row.payload),
        reasons=json.loads(row.reasons), status=row.status, times_received=row.times_received,
        received_at=row.received_at, updated_at=row.updated_at, resolved_at=row.resolved_at,
        proposal_id=row.proposal_id,
    )


class IngestionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def accepted(self, region: str, external_id: str) -> AcceptedSubmission | None:
        """The proposal an external id became, if it was taken before."""
        row = (
            await self.session.execute(
                select(ingested_submissions).where(
                    ingested_submissions.c.region == region, ingested_submissions.c.external_id == external_id
                )
            )
        ).first()
        if row is None:
            return None
        return AcceptedSubmission(row.region, row.external_id, row.proposal_id, row.reference, row.content_hash)

    async def record_accepted(
        self, accepted: AcceptedSubmission, *, channel: str, source: str, event_id: str | None,
        external_submitted_at: datetime | None, quarantine_id: str | None, now: datetime,
    ) -> None:
        """Remember which proposal an external id became; a second record for the same id is ignored."""
        statement = dialect_insert(self.session)(ingested_submissions).values(
            region=accepted.region, external_id=accepted.external_id, proposal_id=accepted.proposal_id,
            reference=accepted.reference, channel=channel, source=source[:200], event_id=event_id,
            content_hash=accepted.content_hash, external_submitted_at=external_submitted_at, accepted_at=now,
            quarantine_id=quarantine_id,
        )
        await self.session.execute(statement.on_conflict_do_nothing(index_elements=["region", "external_id"]))

    async def by_content(self, region: str, content_hash: str) -> QuarantineEntry | None:
        """The entry for content received before (a redelivery, a file sent twice)."""
        row = (
            await self.session.execute(
                select(ingest_quarantine).where(
                    ingest_quarantine.c.region == region, ingest_quarantine.c.content_hash == content_hash
                )
            )
        ).first()
        return _entry(row) if row else None

    async def received_again(self, entry_id: str, now: datetime) -> None:
        await self.session.execute(
            update(ingest_quarantine).where(ingest_quarantine.c.id == entry_id).values(
                times_received=ingest_quarantine.c.times_received + 1, updated_at=now
            )
        )

    async def add(self, entry: NewQuarantineEntry, now: datetime) -> str:
        entry_id = str(uuid_utils.uuid7())
        await self.session.execute(
            insert(ingest_quarantine).values(
                id=entry_id, region=entry.region, external_id=entry.external_id, channel=entry.channel,
                source=entry.source[:200], event_id=entry.event_id, row_number=entry.row_number, kind=entry.kind,
                payload=_dump(entry.payload), content_hash=entry.content_hash, reasons=_dump(entry.reasons),
                status=OPEN, times_received=1, received_at=now, updated_at=now,
            )
        )
        return entry_id

    async def get(self, region: str, entry_id: str) -> QuarantineEntry | None:
        row = (
            await self.session.execute(
                select(ingest_quarantine).where(
                    ingest_quarantine.c.id == entry_id, ingest_quarantine.c.region == region
                )
            )
        ).first()
        return _entry(row) if row else None

    async def for_region(
        self, region: str, status: str | None, limit: int, offset: int = 0
    ) -> list[QuarantineEntry]:
        """One page of the region's entries, newest first; all statuses when `status` is None."""
        statement = select(ingest_quarantine).where(ingest_quarantine.c.region == region)
        if status is not None:
            statement = statement.where(ingest_quarantine.c.status == status)
        statement = statement.order_by(ingest_quarantine.c.received_at.desc(), ingest_quarantine.c.id.desc())
        return [_entry(row) for row in await self.session.execute(statement.limit(limit).offset(offset))]

    async def count(self, region: str, status: str | None) -> int:
        """How many entries the region has (with `status`, or all)."""
        statement = select(func.count()).where(ingest_quarantine.c.region == region)
        if status is not None:
            statement = statement.where(ingest_quarantine.c.status == status)
        return int((await self.session.execute(statement)).scalar_one())

    async def open_for_external_id(self, region: str, external_id: str) -> list[str]:
        result = await self.session.execute(
            select(ingest_quarantine.c.id).where(
                ingest_quarantine.c.region == region, ingest_quarantine.c.external_id == external_id,
                ingest_quarantine.c.status == OPEN,
            )
        )
        return [str(row.id) for row in result]

    async def set_reasons(self, entry_id: str, reasons: list[dict[str, str]], now: datetime) -> None:
        await self.session.execute(
            update(ingest_quarantine).where(ingest_quarantine.c.id == entry_id).values(
                reasons=_dump(reasons), updated_at=now
            )
        )

    async def correct(
        self, entry_id: str, *, kind: str, payload: Any, external_id: str | None, reasons: list[dict[str, str]],
        now: datetime,
    ) -> None:
        """Replace the payload with the secretariat's correction (the original stays in the history)."""
        await self.session.execute(
            update(ingest_quarantine).where(ingest_quarantine.c.id == entry_id).values(
                kind=kind, payload=_dump(payload), external_id=external_id, reasons=_dump(reasons), updated_at=now,
            )
        )

    async def resolve(self, entry_id: str, proposal_id: str, now: datetime) -> None:
        await self.session.execute(
            update(ingest_quarantine).where(ingest_quarantine.c.id == entry_id).values(
                status=RESOLVED, proposal_id=proposal_id, resolved_at=now, updated_at=now,
            )
        )

    async def add_history(
        self, entry_id: str, *, action: str, actor: str, outcome: str, now: datetime,
        reasons: list[dict[str, str]] | None = None, proposal_id: str | None = None, replaced_payload: Any = None,
    ) -> None:
        """Append to an entry's trace; a correction keeps the payload it replaced."""
        await self.session.execute(
            insert(ingest_quarantine_history).values(
                entry_id=entry_id, at=now, action=action, actor=actor[:200], outcome=outcome,
                reasons=_dump(reasons or []), proposal_id=proposal_id,
                replaced_payload=None if replaced_payload is None else _dump(replaced_payload),
            )
        )

    async def history(self, entry_id: str) -> list[QuarantineHistoryItem]:
        result = await self.session.execute(
            select(ingest_quarantine_history)
            .where(ingest_quarantine_history.c.entry_id == entry_id)
            .order_by(ingest_quarantine_history.c.id)
        )
        return [
            QuarantineHistoryItem(
                row.at, row.action, row.actor, row.outcome, json.loads(row.reasons), row.proposal_id,
                None if row.replaced_payload is None else json.loads(row.replaced_payload),
            )
            for row in result
        ]
