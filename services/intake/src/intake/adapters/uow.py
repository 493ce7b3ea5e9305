"""Intake's unit of work (repositories, outbox and inbox in one transaction) and its read-only twin."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession

from intake.adapters.repository import ProposalRepository, RoundRepository
from intake.adapters.screening_repository import ScreeningRepository
from shared.db import Database
from shared.messaging.uow import UnitOfWork


class IntakeUnitOfWork(UnitOfWork):
    rounds: RoundRepository
    proposals: ProposalRepository
    screening: ScreeningRepository

    def _open(self) -> None:
        self.rounds = RoundRepository(self.session)
        self.proposals = ProposalRepository(self.session)
        self.screening = ScreeningRepository(self.session)


class IntakeReader:
    """Repositories on a reader session: queries never queue behind SQLite's one writer."""

    rounds: RoundRepository
    proposals: ProposalRepository
    screening: ScreeningRepository

    def __init__(self, database: Database) -> None:
        self._database = database
        self._session: AsyncSession | None = None

    async def __aenter__(self) -> Self:
        self._session = self._database.reader()
        self.rounds = RoundRepository(self._session)
        self.proposals = ProposalRepository(self._session)
        self.screening = ScreeningRepository(self._session)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()
