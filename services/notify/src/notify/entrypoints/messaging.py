"""Notify's subscribers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from faststream.nats import NatsBroker

from notify.adapters.repository import NotifyUnitOfWork
from notify.domain.model import Receipt, StatusNotice
from notify.service import use_cases
from shared.contracts.envelope import CloudEvent
from shared.contracts.events import ReceiptRequestedV1, StatusNoticeRequestedV1
from shared.contracts.subjects import (
    NOTIFY_RECEIPT_REQUESTED,
    NOTIFY_STATUS_NOTICE_REQUESTED,
    RECEIPT_REQUESTED,
    STATUS_NOTICE_REQUESTED,
)
from shared.messaging.consumer import event_subscriber


def register_subscribers(
    broker: NatsBroker, new_uow: Callable[[], NotifyUnitOfWork], mailer: use_cases.FullMailer
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

    @event_subscriber(broker, NOTIFY_STATUS_NOTICE_REQUESTED, [STATUS_NOTICE_REQUESTED])
    async def on_status_notice_requested(event: CloudEvent[Any]) -> None:
        """Tell the proposer that their proposal's state changed (with the revise link when asked), once."""
        data: StatusNoticeRequestedV1 = event.data
        notice = StatusNotice(
            proposal_id=data.proposal_id, reference=data.reference, title=data.title, language=data.language,
            status=data.status, previous_status=data.previous_status, note=data.note, revise_url=data.revise_url,
            cause_event_id=data.cause_event_id, recipient_name=data.recipient.name,
            recipient_email=str(data.recipient.email),
        )
        await use_cases.send_status_notice(
            use_cases.SendStatusNotice(
                event_id=event.id, consumer=NOTIFY_STATUS_NOTICE_REQUESTED.durable, notice=notice,
            ),
            new_uow(), mailer,
        )
