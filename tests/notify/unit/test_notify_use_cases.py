"""Sending a receipt at most once per proposal and recipient, against an in-memory unit of work."""

from __future__ import annotations

from dataclasses import replace

import pytest

from notify.domain.model import Delivery, DeliveryStatus, Receipt
from notify.service import use_cases


class FakeDeliveries:
    def __init__(self, rows: dict[str, Delivery]) -> None:
        self.rows = rows

    async def get_or_add(self, delivery: Delivery) -> Delivery:
        for row in self.rows.values():
            if (row.kind, row.proposal_id, row.recipient_hash) == (
                delivery.kind, delivery.proposal_id, delivery.recipient_hash,
            ):
                return row
        self.rows[delivery.id] = delivery
        return delivery

    async def mark_sent(self, delivery_id, sent_at) -> None:
        row = self.rows[delivery_id]
        if row.status is DeliveryStatus.PENDING:
            self.rows[delivery_id] = replace(row, status=DeliveryStatus.SENT, sent_at=sent_at)


class FakeUnitOfWork:
    """Transactions in memory: what a block did not commit is gone when it ends, as after a crash."""

    def __init__(self) -> None:
        self.claims: set[tuple[str, str]] = set()
        self.rows: dict[str, Delivery] = {}
        self.commits = 0

    async def __aenter__(self) -> FakeUnitOfWork:
        self._claims = set(self.claims)
        self.deliveries = FakeDeliveries(dict(self.rows))
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def claim(self, consumer: str, event_id: str) -> bool:
        if (consumer, event_id) in self._claims:
            return False
        self._claims.add((consumer, event_id))
        return True

    async def commit(self) -> None:
        self.claims = self._claims
        self.rows = self.deliveries.rows
        self.commits += 1


class FakeMailer:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self.fail_before: Exception | None = None
        self.fail_after: BaseException | None = None

    async def send(self, delivery: Delivery, receipt: Receipt) -> None:
        if self.fail_before is not None:
            raise self.fail_before
        self.sent.append(delivery.id)
        if self.fail_after is not None:
            raise self.fail_after


def command(event_id: str = "e-1", email: str = "kari@example.no") -> use_cases.SendReceipt:
    receipt = Receipt("p-1", "VEST-2026-0001", "Sansehage mot uro", "nb", "Kari Nordmann", email)
    return use_cases.SendReceipt(event_id=event_id, consumer="notify-receipt-requested", receipt=receipt)


async def test_a_receipt_is_sent_and_logged_as_sent():
    uow, mailer = FakeUnitOfWork(), FakeMailer()
    delivery = await use_cases.send_receipt(command(), uow, mailer)  # type: ignore[arg-type]
    assert mailer.sent == [delivery.id]
    assert uow.rows[delivery.id].status is DeliveryStatus.SENT
    assert uow.rows[delivery.id].sent_at is not None


async def test_a_redelivered_event_sends_no_second_receipt():
    uow, mailer = FakeUnitOfWork(), FakeMailer()
    await use_cases.send_receipt(command(), uow, mailer)  # type: ignore[arg-type]
    await use_cases.send_receipt(command(), uow, mailer)  # type: ignore[arg-type]
    assert len(mailer.sent) == 1
    assert len(uow.rows) == 1


async def test_another_event_for_the_same_proposal_and_recipient_sends_no_second_receipt():
    uow, mailer = FakeUnitOfWork(), FakeMailer()
    await use_cases.send_receipt(command("e-1"), uow, mailer)  # type: ignore[arg-type]
    await use_cases.send_receipt(command("e-2", email="KARI@example.no"), uow, mailer)  # type: ignore[arg-type]
    assert len(mailer.sent) == 1


async def test_another_recipient_of_the_same_proposal_gets_a_receipt_of_their_own():
    uow, mailer = FakeUnitOfWork(), FakeMailer()
    await use_cases.send_receipt(command("e-1"), uow, mailer)  # type: ignore[arg-type]
    await use_cases.send_receipt(command("e-2", email="ola@example.no"), uow, mailer)  # type: ignore[arg-type]
    assert len(mailer.sent) == 2
    assert len(set(mailer.sent)) == 2


async def test_a_failed_send_leaves_the_delivery_pending_and_the_retry_sends_it():
    uow, mailer = FakeUnitOfWork(), FakeMailer()
    mailer.fail_before = ConnectionError("smtp server away")
    with pytest.raises(ConnectionError):
        await use_cases.send_receipt(command(), uow, mailer)  # type: ignore[arg-type]
    [pending] = uow.rows.values()
    assert pending.status is DeliveryStatus.PENDING

    mailer.fail_before = None
    delivery = await use_cases.send_receipt(command(), uow, mailer)  # type: ignore[arg-type]
    assert mailer.sent == [pending.id]
    assert delivery.status is DeliveryStatus.SENT


async def test_a_crash_after_sending_resends_the_same_delivery_not_a_new_one():
    uow, mailer = FakeUnitOfWork(), FakeMailer()
    mailer.fail_after = SystemExit("killed between send and mark-sent")
    with pytest.raises(SystemExit):
        await use_cases.send_receipt(command(), uow, mailer)  # type: ignore[arg-type]

    mailer.fail_after = None
    await use_cases.send_receipt(command(), uow, mailer)  # type: ignore[arg-type]
    await use_cases.send_receipt(command(), uow, mailer)  # type: ignore[arg-type]
    # Sent twice at the edge, but as one delivery: the same file name and Message-ID both times.
    assert len(mailer.sent) == 2
    assert len(set(mailer.sent)) == 1
    assert len(uow.rows) == 1
