"""Notify's receipts written as .eml files (the default transport), and its delivery log."""

from __future__ import annotations

import contextlib
import json
import logging
from email import message_from_bytes, policy

from faststream.nats import TestNatsBroker
from httpx import ASGITransport, AsyncClient

from notify.app import create_app
from notify.deliveries import service
from notify.deliveries.model import recipient_hash
from notify.settings import NotifySettings
from shared.contracts.envelope import CloudEvent, envelope
from shared.contracts.events import ReceiptRequestedV1, Recipient
from shared.contracts.subjects import NOTIFY_RECEIPT_REQUESTED, RECEIPT_REQUESTED
from shared.settings import CommonSettings
from tests.support.deadletters import collect_dead_letters

NAME = "Kari Nordmann"
EMAIL = "kari@example.no"


def settings(database_url: str, tmp_path) -> NotifySettings:
    return NotifySettings(database_url=database_url, common=CommonSettings(var_dir=tmp_path / "var"))


def receipt(language: str = "nb", proposal_id: str = "p-1", email: str = EMAIL) -> ReceiptRequestedV1:
    return ReceiptRequestedV1(
        proposal_id=proposal_id, reference="VEST-2026-0001", title="Sansehage mot uro ved demens",
        language=language, recipient=Recipient(name=NAME, email=email),
    )


def event(data: ReceiptRequestedV1) -> dict:
    return envelope(
        service="intake", event_type=RECEIPT_REQUESTED.type, subject=data.proposal_id, region="vest", data=data
    )


async def publish(broker, body: dict | bytes) -> None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    await broker.publish(raw, RECEIPT_REQUESTED.subject("vest"), stream="KP_CONTACTS")


def eml_files(app) -> list:
    directory = app.state.runtime.settings.mail_dir
    return sorted(directory.iterdir()) if directory.exists() else []


async def deliveries(app, proposal_id: str = "p-1") -> list[dict]:
    async with AsyncClient(transport=ASGITransport(app), base_url="http://t") as c:
        response = await c.get("/api/notify/v1/deliveries", params={"proposal_id": proposal_id})
    assert response.status_code == 200
    return response.json()


async def test_receipt_event_writes_one_eml_file_greeting_the_recipient(database_url, tmp_path):
    app = create_app(settings(database_url, tmp_path))
    async with TestNatsBroker(app.state.runtime.broker) as br:
        await publish(br, event(receipt()))
    [delivery] = await deliveries(app)
    [path] = eml_files(app)
    assert path.parent == tmp_path / "var" / "mail"
    assert path.name == f"VEST-2026-0001-{delivery['id']}.eml"
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["To"].addresses[0].addr_spec == EMAIL
    assert message["Subject"] == "Vi har mottatt forslaget ditt (VEST-2026-0001)"
    assert message["Message-ID"] == f"<receipt-{delivery['id']}@localhost>"
    body = message.get_content()
    assert body.startswith(f"Hei, {NAME}!")
    assert "Sansehage mot uro ved demens" in body
    assert delivery["status"] == "sent"
    assert delivery["kind"] == "receipt"
    assert delivery["sent_at"] is not None


async def test_nynorsk_receipt_event_writes_a_nynorsk_mail(database_url, tmp_path):
    app = create_app(settings(database_url, tmp_path))
    async with TestNatsBroker(app.state.runtime.broker) as br:
        await publish(br, event(receipt(language="nn")))
    [path] = eml_files(app)
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["Subject"] == "Vi har motteke forslaget ditt (VEST-2026-0001)"
    assert "Venleg helsing" in message.get_content()


async def test_english_receipt_event_writes_an_english_mail(database_url, tmp_path):
    app = create_app(settings(database_url, tmp_path))
    async with TestNatsBroker(app.state.runtime.broker) as br:
        await publish(br, event(receipt(language="en")))
    [path] = eml_files(app)
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["Subject"] == "We have received your proposal (VEST-2026-0001)"
    assert message["Content-Language"] == "en"
    assert message.get_content().startswith(f"Hello {NAME},")


async def test_redelivered_receipt_event_writes_one_eml_file(database_url, tmp_path):
    app = create_app(settings(database_url, tmp_path))
    body = event(receipt())
    async with TestNatsBroker(app.state.runtime.broker) as br:
        await publish(br, body)
        first = [(p.name, p.stat().st_mtime_ns) for p in eml_files(app)]
        await publish(br, body)
    assert [(p.name, p.stat().st_mtime_ns) for p in eml_files(app)] == first
    assert len(await deliveries(app)) == 1


async def test_a_new_receipt_event_for_the_same_proposal_and_recipient_writes_no_second_file(database_url, tmp_path):
    app = create_app(settings(database_url, tmp_path))
    async with TestNatsBroker(app.state.runtime.broker) as br:
        await publish(br, event(receipt()))
        first = [(p.name, p.stat().st_mtime_ns) for p in eml_files(app)]
        await publish(br, event(receipt(email="Kari@Example.no")))  # another event id, the same person
    assert [(p.name, p.stat().st_mtime_ns) for p in eml_files(app)] == first
    assert len(await deliveries(app)) == 1


async def test_invalid_receipt_events_create_no_delivery_and_no_file(database_url, tmp_path):
    """Each invalid event is dead-lettered with its reason, and the consumer still sends the next valid receipt."""
    app = create_app(settings(database_url, tmp_path))
    letters = collect_dead_letters(app.state.runtime.broker)
    bad_address = event(receipt())
    bad_address["data"]["recipient"]["email"] = "not-an-address"
    no_recipient = event(receipt())
    del no_recipient["data"]["recipient"]
    async with TestNatsBroker(app.state.runtime.broker) as br:
        await publish(br, bad_address)
        await publish(br, no_recipient)
        await publish(br, b"\x00 not json")
        files_after_invalid = eml_files(app)
        deliveries_after_invalid = await deliveries(app)
        await publish(br, event(receipt(proposal_id="p-2")))
    assert files_after_invalid == []
    assert deliveries_after_invalid == []
    [path] = eml_files(app)
    [sent] = await deliveries(app, "p-2")
    assert path.name == f"VEST-2026-0001-{sent['id']}.eml"
    assert sent["status"] == "sent"
    assert [(letter["consumer"], letter["reason"]) for letter in letters] == [
        (NOTIFY_RECEIPT_REQUESTED.durable, "invalid event: data.recipient.email: value is not a valid email address: "
         "An email address must have an @-sign."),
        (NOTIFY_RECEIPT_REQUESTED.durable, "invalid event: data.recipient: Field required"),
        (NOTIFY_RECEIPT_REQUESTED.durable, "not JSON: JSONDecodeError"),
    ]
    # The reason names the field and the rule, never the value: it may be personal data.
    assert "not-an-address" not in str(letters)


async def test_delivery_log_shows_no_address_name_or_hash(database_url, tmp_path):
    app = create_app(settings(database_url, tmp_path))
    async with TestNatsBroker(app.state.runtime.broker) as br:
        await publish(br, event(receipt()))
    async with AsyncClient(transport=ASGITransport(app), base_url="http://t") as c:
        response = await c.get("/api/notify/v1/deliveries", params={"proposal_id": "p-1"})
    assert len(response.json()) == 1
    assert EMAIL not in response.text
    assert "Kari" not in response.text
    assert recipient_hash(EMAIL) not in response.text


async def test_crash_between_send_and_mark_sent_then_redelivery_leaves_one_file(database_url, tmp_path):
    app = create_app(settings(database_url, tmp_path))
    body = event(receipt())

    class DiesAfterSending:
        """The real mailer, then the process "dies" before the delivery is marked sent."""

        async def send_receipt(self, delivery, receipt_):
            await app.state.runtime.mailer.send_receipt(delivery, receipt_)
            raise SystemExit("killed")

        async def send_status_notice(self, delivery, notice):
            raise AssertionError("not a status notice")

    command = service.SendReceipt.from_event(
        CloudEvent[ReceiptRequestedV1].model_validate(body), NOTIFY_RECEIPT_REQUESTED.durable
    )
    with contextlib.suppress(SystemExit):
        await service.send_receipt(command, app.state.runtime.unit_of_work(), DiesAfterSending())
    [pending] = await deliveries(app)
    assert pending["status"] == "pending"
    assert len(eml_files(app)) == 1

    async with TestNatsBroker(app.state.runtime.broker) as br:
        await publish(br, body)  # the broker redelivers the unacknowledged event
    [path] = eml_files(app)
    assert path.name == f"VEST-2026-0001-{pending['id']}.eml"
    [sent] = await deliveries(app)
    assert sent["id"] == pending["id"]
    assert sent["status"] == "sent"


async def test_receipt_handling_never_logs_the_name_or_address(database_url, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    app = create_app(settings(database_url, tmp_path))
    bad_address = event(receipt(proposal_id="p-2"))
    bad_address["data"]["recipient"]["email"] = "kari.nordmann@@example.no"
    async with TestNatsBroker(app.state.runtime.broker) as br:
        await publish(br, event(receipt()))
        await publish(br, event(receipt()))
        await publish(br, bad_address)
    logged = caplog.text
    assert "receipt.sent" in logged
    assert "event.dead_lettered" in logged
    assert "Kari" not in logged
    assert "Nordmann" not in logged
    assert "example.no" not in logged
