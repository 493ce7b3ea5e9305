"""Intake's unit of work: its repositories, the outbox and the inbox share one transaction."""

from __future__ import annotations

from intake.adapters.repository import ProposalRepository, RoundRepository
from shared.messaging.uow import UnitOfWork


class IntakeUnitOfWork(UnitOfWork):
    rounds: RoundRepository
    proposals: ProposalRepository

    def _open(self) -> None:
        self.rounds = RoundRepository(self.session)
        self.proposals = ProposalRepository(self.session)
