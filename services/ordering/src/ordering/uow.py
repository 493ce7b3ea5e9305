"""Ordering's unit of work (repositories, outbox and inbox in one transaction) and its read-only twin."""

from __future__ import annotations

from ordering.decisions.repository import DecisionRepository
from shared.messaging.uow import Reader, UnitOfWork


class OrderingUnitOfWork(UnitOfWork):
    decisions: DecisionRepository

    def _open(self) -> None:
        self.decisions = DecisionRepository(self.session)


class OrderingReader(Reader):
    decisions: DecisionRepository

    def _open(self) -> None:
        self.decisions = DecisionRepository(self.session)
