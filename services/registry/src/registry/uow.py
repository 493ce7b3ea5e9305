"""The registry's unit of work (repositories, outbox and inbox in one transaction) and its read-only twin."""

from __future__ import annotations

from registry.knowledge_needs.repository import KnowledgeNeedRepository
from shared.messaging.uow import Reader, UnitOfWork


class RegistryUnitOfWork(UnitOfWork):
    knowledge_needs: KnowledgeNeedRepository

    def _open(self) -> None:
        self.knowledge_needs = KnowledgeNeedRepository(self.session)


class RegistryReader(Reader):
    knowledge_needs: KnowledgeNeedRepository

    def _open(self) -> None:
        self.knowledge_needs = KnowledgeNeedRepository(self.session)
