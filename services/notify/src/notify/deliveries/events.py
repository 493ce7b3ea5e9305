"""The deliveries' subscribers."""

from __future__ import annotations

from notify.deliveries import service
from notify.deps import NotifyRuntime
from shared.contracts.envelope import CloudEvent
from shared.contracts.events import ReceiptRequestedV1, StatusNoticeRequestedV1
from shared.contracts.subjects import (
    NOTIFY_RECEIPT_REQUESTED,
    NOTIFY_STATUS_NOTICE_REQUESTED,
    RECEIPT_REQUESTED,
    STATUS_NOTICE_REQUESTED,
)
from shared.messaging.consumer import EventRouter

events = EventRouter[NotifyRuntime]()


@events.subscriber(NOTIFY_RECEIPT_REQUESTED, RECEIPT_REQUESTED)
async def on_receipt_requested(event: CloudEvent[ReceiptRequestedV1], runtime: NotifyRuntime) -> None:
    """Send the proposer a receipt for their proposal, once."""
    command = service.SendReceipt.from_event(event, NOTIFY_RECEIPT_REQUESTED.durable)
    await service.send_receipt(command, runtime.unit_of_work(), runtime.mailer)


@events.subscriber(NOTIFY_STATUS_NOTICE_REQUESTED, STATUS_NOTICE_REQUESTED)
async def on_status_notice_requested(event: CloudEvent[StatusNoticeRequestedV1], runtime: NotifyRuntime) -> None:
    """Tell the proposer that their proposal's state changed (with the revise link when asked), once."""
    command = service.SendStatusNotice.from_event(event, NOTIFY_STATUS_NOTICE_REQUESTED.durable)
    await service.send_status_notice(command, runtime.unit_of_work(), runtime.mailer)
