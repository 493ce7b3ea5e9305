"""The deliveries' use cases: send each receipt and status notice once, and show the delivery log."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

import uuid_utils

from notify.deliveries.model import Delivery, DeliveryKind, DeliveryStatus, Receipt, StatusNotice, recipient_hash
from notify.deliveries.repository import Deliveries
from shared.contracts.envelope import CloudEvent
from shared.contracts.events import ReceiptRequestedV1, StatusNoticeRequestedV1
from shared.messaging.ports import Inbox, ReadOnly, Transaction
from shared.telemetry import get_logger

# Ids and references only: a recipient's name and address never reach a log line.
log = get_logger("kp.notify")


# Repositories are read-only properties in the ports, so the SQLAlchemy repository and an in-memory fake both
# satisfy `Deliveries` (see scoring.candidates.service).
class DeliveriesUnitOfWork(Transaction, Inbox, Protocol):
    @property
    def deliveries(self) -> Deliveries: ...


class DeliveriesReader(ReadOnly, Protocol):
    @property
    def deliveries(self) -> Deliveries: ...


class Mailer(Protocol):
    """Hands a message to the mail system. The same delivery always makes the same file name and Message-ID."""

    async def send_receipt(self, delivery: Delivery, receipt: Receipt) -> None: ...

    async def send_status_notice(self, delivery: Delivery, notice: StatusNotice) -> None: ...


@dataclass(frozen=True)
class SendReceipt:
    """Send a proposer the receipt for their proposal."""

    event_id: str
    consumer: str
    receipt: Receipt

    @staticmethod
    def from_event(event: CloudEvent[ReceiptRequestedV1], consumer: str) -> SendReceipt:
        data = event.data
        return SendReceipt(
            event.id, consumer,
            Receipt(
                proposal_id=data.proposal_id, reference=data.reference, title=data.title, language=data.language,
                recipient_name=data.recipient.name, recipient_email=str(data.recipient.email),
            ),
        )


@dataclass(frozen=True)
class SendStatusNotice:
    """Tell a proposer that their proposal's state changed."""

    event_id: str
    consumer: str
    notice: StatusNotice

    @staticmethod
    def from_event(event: CloudEvent[StatusNoticeRequestedV1], consumer: str) -> SendStatusNotice:
        data = event.data
        return SendStatusNotice(
            event.id, consumer,
            StatusNotice(
                proposal_id=data.proposal_id, reference=data.reference, title=data.title, language=data.language,
                status=data.status, previous_status=data.previous_status, note=data.note,
                revise_url=data.revise_url, cause_event_id=data.cause_event_id, recipient_name=data.recipient.name,
                recipient_email=str(data.recipient.email),
            ),
        )


async def send_receipt(
    command: SendReceipt, uow: DeliveriesUnitOfWork, mailer: Mailer, now: datetime | None = None
) -> Delivery:
    """Send at most one receipt per proposal and recipient, across redeliveries and crashes."""
    receipt = command.receipt
    candidate = Delivery(
        id=str(uuid_utils.uuid7()), proposal_id=receipt.proposal_id, kind=DeliveryKind.RECEIPT,
        recipient_hash=recipient_hash(receipt.recipient_email), status=DeliveryStatus.PENDING,
        created_at=now or datetime.now(UTC),
    )

    async def send(delivery: Delivery) -> None:
        await mailer.send_receipt(delivery, receipt)

    return await _send_once(command.consumer, command.event_id, candidate, uow, send, reference=receipt.reference)


async def send_status_notice(
    command: SendStatusNotice, uow: DeliveriesUnitOfWork, mailer: Mailer, now: datetime | None = None
) -> Delivery:
    """Send at most one notice per state change (the cause event) and recipient, as `send_receipt` does."""
    notice = command.notice
    candidate = Delivery(
        id=str(uuid_utils.uuid7()), proposal_id=notice.proposal_id, kind=DeliveryKind.STATUS_NOTICE,
        recipient_hash=recipient_hash(notice.recipient_email), status=DeliveryStatus.PENDING,
        created_at=now or datetime.now(UTC), cause_id=notice.cause_event_id,
    )

    async def send(delivery: Delivery) -> None:
        await mailer.send_status_notice(delivery, notice)

    return await _send_once(
        command.consumer, command.event_id, candidate, uow, send, reference=notice.reference, status=notice.status,
    )


async def _send_once(
    consumer: str, event_id: str, candidate: Delivery, uow: DeliveriesUnitOfWork,
    send: Callable[[Delivery], Awaitable[None]], **log_fields: Any,
) -> Delivery:
    """First transaction: claim the inbox and log the delivery as pending (or find the one already logged for the
    same kind, proposal, recipient and cause). If it is `sent`, stop. Otherwise send, outside any transaction,
    then mark it sent in a second transaction.

    A crash between sending and marking leaves the delivery pending, and the redelivered event sends it again:
    at-least-once at the edge, which cannot be closed without the mail system's help. The repeat is the *same*
    message: the file transport writes the same file name, so it replaces the first file rather than adding a
    second, and SMTP carries the same Message-ID, by which mail clients recognise it as a duplicate.
    """
    kind = candidate.kind.value
    async with uow:
        first_time = await uow.claim(consumer, event_id)
        delivery = await uow.deliveries.get_or_add(candidate)
        await uow.commit()
    if delivery.status is DeliveryStatus.SENT:
        log.info(
            f"{kind}.already_sent", delivery_id=delivery.id, proposal_id=delivery.proposal_id,
            redelivered=not first_time, **log_fields,
        )
        return delivery

    await send(delivery)

    sent_at = datetime.now(UTC)
    async with uow:
        await uow.deliveries.mark_sent(delivery.id, sent_at)
        await uow.commit()
    log.info(
        f"{kind}.sent", delivery_id=delivery.id, proposal_id=delivery.proposal_id,
        resent=delivery.id != candidate.id, **log_fields,
    )
    return replace(delivery, status=DeliveryStatus.SENT, sent_at=sent_at)


async def list_deliveries(proposal_id: str, reader: DeliveriesReader) -> list[Delivery]:
    """The delivery log of one proposal, oldest first."""
    async with reader:
        return await reader.deliveries.for_proposal(proposal_id)
