"""Notify's subscribers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from faststream.nats import NatsBroker

from notify.adapters.repository import NotifyUnitOfWork
from notify.domain.model import Receipt
from notify.service import use_cases
from shared.contracts.envelope import CloudEvent
from shared.contracts.events import ReceiptRequestedV1
from shared.contracts.subjects import NOTIFY_RECEIPT_REQUESTED, RECEIPT_REQUESTED
from shared.messaging.consumer import event_subscriber


def register_subscribers(
    broker: NatsBroker, new_uow: Callable[[], NotifyUnitOfWork], mailer: use_cases.Mailer
) -> None:
    @event_subscriber(broker, NOTIFY_RECEIPT_REQUESTED, [RECEIPT_REQUESTED])
    async def on_receipt_requested(event: CloudEvent[Any]) -> None:
        """Send the proposer a receipt for their proposal, once."""
        data: ReceiptRequestedV1 = event.data
        receipt = Receipt(
            proposal_id=data.proposal_id, reference=data.reference, title=data.title, language=data.language,
            recipient_name=data.recipient.name, recipient_email=str(data.recipient.email),
        )
        await use_cases.send_receipt(
            use_cases.SendReceipt(event_id=event.id, consumer=NOTIFY_RECEIPT_REQUESTED.durable, receipt=receipt),
            new_uow(), mailer,
        )
