"""Intake's unit of work (repositories, outbox and inbox in one transaction) and its read-only twin."""

from __future__ import annotations

from intake.analysis.repository import AnalysisRepository
from intake.ingestion.repository import IngestionRepository
from intake.proposals.repository import ProposalRepository
from intake.rounds.repository import RoundRepository
from intake.screening.repository import ScreeningRepository
from shared.messaging.uow import Reader, UnitOfWork


class IntakeUnitOfWork(UnitOfWork):
    rounds: RoundRepository
    proposals: ProposalRepository
    screening: ScreeningRepository
    ingestion: IngestionRepository

    def _open(self) -> None:
        self.rounds = RoundRepository(self.session)
        self.proposals = ProposalRepository(self.session)
        self.screening = ScreeningRepository(self.session)
        self.ingestion = IngestionRepository(self.session)


class IntakeReader(Reader):
    rounds: RoundRepository
    proposals: ProposalRepository
    screening: ScreeningRepository
    ingestion: IngestionRepository
    analysis: AnalysisRepository

    def _open(self) -> None:
        self.rounds = RoundRepository(self.session)
        self.proposals = ProposalRepository(self.session)
        self.screening = ScreeningRepository(self.session)
        self.ingestion = IngestionRepository(self.session)
        self.analysis = AnalysisRepository(self.session)
