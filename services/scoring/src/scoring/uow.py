"""Scoring's unit of work (repositories, outbox and inbox in one transaction) and its read-only twin."""

from __future__ import annotations

from scoring.candidates.repository import CandidateRepository
from shared.messaging.uow import Reader, UnitOfWork


class ScoringUnitOfWork(UnitOfWork):
    candidates: CandidateRepository

    def _open(self) -> None:
        self.candidates = CandidateRepository(self.session)


class ScoringReader(Reader):
    candidates: CandidateRepository

    def _open(self) -> None:
        self.candidates = CandidateRepository(self.session)
