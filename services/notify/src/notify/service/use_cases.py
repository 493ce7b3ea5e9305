"""Notify's use cases."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

import uuid_utils

from notify.adapters.repository import NotifyUnitOfWork
from notify.domain.model import Delivery, DeliveryKind, DeliveryStatus, Receipt, StatusNotice, recipient_hash
from shared.telemetry import get_logger

# Ids and references only: a receipt's name and address never reach a log line.
log = get_logger("kp.notify")


class Mailer(Protocol):
    async def send(self, delivery: Delivery, receipt: Receipt) -> None:
        """Send the receipt; the same delivery must produce the same file name and Message-ID."""


class NoticeMailer(Protocol):
    async def send_notice(self, delivery: Delivery, notice: StatusNotice) -> None:
        """Send the status notice; the same delivery must produce the same file name and Message-ID."""


class FullMailer(Mailer, NoticeMailer, Protocol):
    """What the subscribers need: receipts and status notices."""


@dataclass(frozen=True)
class SendReceipt:
    """Send a proposer the receipt for their proposal."""

    event_id: str
    consumer: str
    receipt: Receipt


async def send_receipt(
    command: SendReceipt, uow: NotifyUnitOfWork, mailer: Mailer, now: datetime | None = None
) -> Delivery:
    """Send at most one receipt per proposal and recipient, across redeliveries and crashes.

    First transaction: claim the inbox and log the delivery as pending (or find the one already
    logged for this proposal and recipient). If it is `sent`, stop. Otherwise send, outside any
    transaction, then mark it sent in a second transaction.

    A crash between sending and marking leaves the delivery pending, and the redelivered event sends
    it again: at-least-once at the edge, which cannot be closed without the mail system's help. The
    repeat is the *same* message: the file transport writes the same file name, so it replaces the
    first file rather than adding a second, and SMTP carries the same Message-ID, by which mail
    clients recognise it as a duplicate.
    """
    receipt = command.receipt
    candidate = Delivery(
        id=str(uuid_utils.uuid7()), proposal_id=receipt.proposal_id, kind=DeliveryKind.RECEIPT,
        recipient_hash=recipient_hash(receipt.recipient_email), status=DeliveryStatus.PENDING,
        created_at=now or datetime.now(UTC),
    )
    async with uow:
        first_time = await uow.claim(command.consumer, command.event_id)
        delivery = await uow.deliveries.get_or_add(candidate)
        await uow.commit()
    if delivery.status is DeliveryStatus.SENT:
        log.info(
            "receipt.already_sent", delivery_id=delivery.id, proposal_id=delivery.proposal_id,
            reference=receipt.reference, redelivered=not first_time,
        )
        return delivery

    await mailer.send(delivery, receipt)

    sent_at = datetime.now(UTC)
    async with uow:
        await uow.deliveries.mark_sent(delivery.id, sent_at)
        await uow.commit()
    log.info(
        "receipt.sent", delivery_id=delivery.id, proposal_id=delivery.proposal_id, reference=receipt.reference,
        resent=delivery.id != candidate.id,
    )
    return replace(delivery, status=DeliveryStatus.SENT, sent_at=sent_at)


@dataclass(frozen=True)
class SendStatusNotice:
    """Tell a proposer that their proposal's state changed."""

    event_id: str
    consumer: str
    notice: StatusNotice


async def send_status_notice(
    command: SendStatusNotice, uow: NotifyUnitOfWork, mailer: NoticeMailer, now: datetime | None = None
) -> Delivery:
    """Send at most one notice per state change (the cause event) and recipient, as `send_receipt` does for
    receipts: log pending and claim the inbox in one transaction, send outside it, then mark it sent."""
    notice = command.notice
    candidate = Delivery(
        id=str(uuid_utils.uuid7()), proposal_id=notice.proposal_id, kind=DeliveryKind.STATUS_NOTICE,
        recipient_hash=recipient_hash(notice.recipient_email), status=DeliveryStatus.PENDING,
        created_at=now or datetime.now(UTC), cause_id=notice.cause_event_id,
    )
    async with uow:
        first_time = await uow.claim(command.consumer, command.event_id)
        delivery = await uow.deliveries.get_or_add(candidate)
        await uow.commit()
    if delivery.status is DeliveryStatus.SENT:
        log.info(
            "status_notice.already_sent", delivery_id=delivery.id, proposal_id=delivery.proposal_id,
            reference=notice.reference, status=notice.status, redelivered=not first_time,
        )
        return delivery

    await mailer.send_notice(delivery, notice)

    sent_at = datetime.now(UTC)
    async with uow:
        await uow.deliveries.mark_sent(delivery.id, sent_at)
        await uow.commit()
    log.info(
        "status_notice.sent", delivery_id=delivery.id, proposal_id=delivery.proposal_id, reference=notice.reference,
        status=notice.status, resent=delivery.id != candidate.id,
    )
    return replace(delivery, status=DeliveryStatus.SENT, sent_at=sent_at)
