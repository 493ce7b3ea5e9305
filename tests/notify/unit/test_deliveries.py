"""Sending each receipt and status notice at most once, on in-memory fakes: no database, no broker, no mail."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from notify.deliveries import service
from notify.deliveries.model import Delivery, DeliveryKind, DeliveryStatus, Receipt, StatusNotice, recipient_hash
from shared.contracts.envelope import CloudEvent, envelope
from shared.contracts.events import ReceiptRequestedV1, Recipient, StatusNoticeRequestedV1
from shared.contracts.subjects import RECEIPT_REQUESTED, STATUS_NOTICE_REQUESTED
from tests.support.fakes import FakeUnitOfWork

RECEIPTS = "notify-receipt-requested"
NOTICES = "notify-status-notice-requested"


class InMemoryDeliveries:
    """The delivery log, once per kind, proposal, recipient and cause (the table's unique key)."""

    def __init__(self) -> None:
        self.rows: dict[str, Delivery] = {}

    async def get_or_add(self, delivery: Delivery) -> Delivery:
        key = (delivery.kind, delivery.proposal_id, delivery.recipient_hash, delivery.cause_id)
        for row in self.rows.values():
            if (row.kind, row.proposal_id, row.recipient_hash, row.cause_id) == key:
                return row
        self.rows[delivery.id] = delivery
        return delivery

    async def mark_sent(self, delivery_id: str, sent_at: datetime) -> None:
        row = self.rows[delivery_id]
        if row.status is DeliveryStatus.PENDING:
            self.rows[delivery_id] = replace(row, status=DeliveryStatus.SENT, sent_at=sent_at)

    async def for_proposal(self, proposal_id: str) -> list[Delivery]:
        found = [d for d in self.rows.values() if d.proposal_id == proposal_id]
        return sorted(found, key=lambda d: (d.created_at, d.id))


class DeliveriesUow(FakeUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.deliveries = InMemoryDeliveries()


class FakeMailer:
    """Records which delivery each message was sent as; can fail before or after handing it over."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.fail_before: Exception | None = None
        self.fail_after: BaseException | None = None

    async def _send(self, delivery: Delivery) -> None:
        if self.fail_before is not None:
            raise self.fail_before
        self.sent.append(delivery.id)
        if self.fail_after is not None:
            raise self.fail_after

    async def send_receipt(self, delivery: Delivery, receipt: Receipt) -> None:
        await self._send(delivery)

    async def send_status_notice(self, delivery: Delivery, notice: StatusNotice) -> None:
        await self._send(delivery)


def receipt_event(email: str = "kari@example.no", language: str = "nb") -> CloudEvent[ReceiptRequestedV1]:
    data = ReceiptRequestedV1(
        proposal_id="p-1", reference="VEST-2026-0001", title="Sansehage mot uro", language=language,
        recipient=Recipient(name="Kari Nordmann", email=email),
    )
    raw = envelope(service="intake", event_type=RECEIPT_REQUESTED.type, subject="p-1", region="vest", data=data)
    return CloudEvent[ReceiptRequestedV1].model_validate(raw)


def notice_event(cause: str = "ev-1", status: str = "needs_reformulation") -> CloudEvent[StatusNoticeRequestedV1]:
    data = StatusNoticeRequestedV1(
        proposal_id="p-1", reference="VEST-2026-0001", title="Sansehage mot uro", language="nn", status=status,
        previous_status="submitted", note="Avgrens spørsmålet", revise_url="https://kp.example/revise?token=t",
        cause_event_id=cause, recipient=Recipient(name="Kari Nordmann", email="kari@example.no"),
    )
    raw = envelope(service="intake", event_type=STATUS_NOTICE_REQUESTED.type, subject="p-1", region="vest",
                   data=data)
    return CloudEvent[StatusNoticeRequestedV1].model_validate(raw)


def send_receipt(event: CloudEvent[ReceiptRequestedV1]) -> service.SendReceipt:
    return service.SendReceipt.from_event(event, RECEIPTS)


def send_notice(event: CloudEvent[StatusNoticeRequestedV1]) -> service.SendStatusNotice:
    return service.SendStatusNotice.from_event(event, NOTICES)


def test_a_receipt_command_carries_the_recipient_and_the_proposers_language():
    command = send_receipt(receipt_event(language="en"))
    assert command.receipt.recipient_email == "kari@example.no"
    assert command.receipt.recipient_name == "Kari Nordmann"
    assert (command.receipt.reference, command.receipt.language) == ("VEST-2026-0001", "en")


def test_a_status_notice_command_carries_the_change_and_its_cause():
    notice = send_notice(notice_event()).notice
    assert (notice.status, notice.previous_status, notice.cause_event_id) == (
        "needs_reformulation", "submitted", "ev-1",
    )
    assert notice.revise_url == "https://kp.example/revise?token=t"


async def test_a_receipt_is_sent_and_logged_as_sent_without_the_address():
    uow, mailer = DeliveriesUow(), FakeMailer()
    delivery = await service.send_receipt(send_receipt(receipt_event()), uow, mailer)
    assert mailer.sent == [delivery.id]
    [logged] = await service.list_deliveries("p-1", uow)
    assert logged.status is DeliveryStatus.SENT
    assert logged.sent_at is not None
    assert logged.kind is DeliveryKind.RECEIPT
    assert logged.recipient_hash == recipient_hash("kari@example.no")


async def test_a_redelivered_event_sends_no_second_receipt():
    uow, mailer = DeliveriesUow(), FakeMailer()
    event = receipt_event()
    await service.send_receipt(send_receipt(event), uow, mailer)
    await service.send_receipt(send_receipt(event), uow, mailer)
    assert len(mailer.sent) == 1
    assert len(uow.deliveries.rows) == 1


async def test_another_event_for_the_same_proposal_and_recipient_sends_no_second_receipt():
    uow, mailer = DeliveriesUow(), FakeMailer()
    await service.send_receipt(send_receipt(receipt_event()), uow, mailer)
    await service.send_receipt(send_receipt(receipt_event(email="KARI@example.no")), uow, mailer)
    assert len(mailer.sent) == 1


async def test_another_recipient_of_the_same_proposal_gets_a_receipt_of_their_own():
    uow, mailer = DeliveriesUow(), FakeMailer()
    await service.send_receipt(send_receipt(receipt_event()), uow, mailer)
    await service.send_receipt(send_receipt(receipt_event(email="ola@example.no")), uow, mailer)
    assert len(mailer.sent) == 2
    assert len(set(mailer.sent)) == 2


async def test_a_failed_send_leaves_the_delivery_pending_and_the_retry_sends_it():
    uow, mailer = DeliveriesUow(), FakeMailer()
    event = receipt_event()
    mailer.fail_before = ConnectionError("smtp server away")
    with pytest.raises(ConnectionError):
        await service.send_receipt(send_receipt(event), uow, mailer)
    [pending] = uow.deliveries.rows.values()
    assert pending.status is DeliveryStatus.PENDING

    mailer.fail_before = None
    delivery = await service.send_receipt(send_receipt(event), uow, mailer)
    assert mailer.sent == [pending.id]
    assert delivery.status is DeliveryStatus.SENT


async def test_a_crash_after_sending_resends_the_same_delivery_not_a_new_one():
    uow, mailer = DeliveriesUow(), FakeMailer()
    event = receipt_event()
    mailer.fail_after = SystemExit("killed between send and mark-sent")
    with pytest.raises(SystemExit):
        await service.send_receipt(send_receipt(event), uow, mailer)

    mailer.fail_after = None
    await service.send_receipt(send_receipt(event), uow, mailer)
    await service.send_receipt(send_receipt(event), uow, mailer)
    # Sent twice at the edge, but as one delivery: the same file name and Message-ID both times.
    assert len(mailer.sent) == 2
    assert len(set(mailer.sent)) == 1
    assert len(uow.deliveries.rows) == 1


async def test_a_state_change_is_told_once_even_in_new_envelopes():
    uow, mailer = DeliveriesUow(), FakeMailer()
    first = await service.send_status_notice(send_notice(notice_event("ev-1")), uow, mailer)
    again = await service.send_status_notice(send_notice(notice_event("ev-1")), uow, mailer)  # a new event id
    assert mailer.sent == [first.id]
    assert again.id == first.id
    assert again.status is DeliveryStatus.SENT


async def test_each_state_change_is_told_and_a_receipt_is_apart_from_the_notices():
    uow, mailer = DeliveriesUow(), FakeMailer()
    await service.send_receipt(send_receipt(receipt_event()), uow, mailer)
    await service.send_status_notice(send_notice(notice_event("ev-1")), uow, mailer)
    await service.send_status_notice(send_notice(notice_event("ev-2", status="accepted")), uow, mailer)
    logged = await service.list_deliveries("p-1", uow)
    assert [d.kind for d in logged] == [DeliveryKind.RECEIPT, DeliveryKind.STATUS_NOTICE, DeliveryKind.STATUS_NOTICE]
    assert [d.cause_id for d in logged] == ["", "ev-1", "ev-2"]
    assert len(set(mailer.sent)) == 3
