"""Notify's receipts sent through a real SMTP server (aiosmtpd on a free port)."""

from __future__ import annotations

import json

from faststream.nats import TestNatsBroker
from httpx import ASGITransport, AsyncClient

from notify.app import create_app
from notify.settings import NotifySettings
from shared.contracts.envelope import envelope
from shared.contracts.events import ReceiptRequestedV1, Recipient
from shared.contracts.subjects import RECEIPT_REQUESTED
from shared.settings import CommonSettings


def smtp_settings(database_url: str, tmp_path, port: int) -> NotifySettings:
    return NotifySettings(
        database_url=database_url, common=CommonSettings(var_dir=tmp_path / "var"), smtp_host="127.0.0.1",
        smtp_port=port, smtp_timeout_seconds=5.0,
    )


def event(language: str = "nb") -> bytes:
    data = ReceiptRequestedV1(
        proposal_id="p-1", reference="VEST-2026-0007", title="Velferdsteknologi i hjemmetjenesten",
        language=language, recipient=Recipient(name="Kari Nordmann", email="kari@example.no"),
    )
    body = envelope(service="intake", event_type=RECEIPT_REQUESTED.type, subject="p-1", region="vest", data=data)
    return json.dumps(body).encode()


async def publish(broker, body: bytes) -> None:
    await broker.publish(body, RECEIPT_REQUESTED.subject("vest"), stream="KP_CONTACTS")


async def deliveries(app) -> list[dict]:
    async with AsyncClient(transport=ASGITransport(app), base_url="http://t") as c:
        return (await c.get("/api/notify/v1/deliveries", params={"proposal_id": "p-1"})).json()


async def test_receipt_is_sent_through_smtp_with_a_message_id_from_the_delivery(database_url, tmp_path, smtp_server):
    smtp_server.start()
    app = create_app(smtp_settings(database_url, tmp_path, smtp_server.port))
    async with TestNatsBroker(app.state.runtime.broker) as br:
        await publish(br, event())
    [message] = smtp_server.handler.messages
    [delivery] = await deliveries(app)
    assert smtp_server.handler.envelope_recipients == [["kari@example.no"]]
    assert message["Message-ID"] == f"<receipt-{delivery['id']}@localhost>"
    assert message["From"] == "kunnskapsportalen@localhost"
    assert message["Subject"] == "Vi har mottatt forslaget ditt (VEST-2026-0007)"
    assert message.get_content().startswith("Hei, Kari Nordmann!")
    assert delivery["status"] == "sent"
    assert not (tmp_path / "var" / "mail").exists()


async def test_nynorsk_receipt_is_sent_in_nynorsk_through_smtp(database_url, tmp_path, smtp_server):
    smtp_server.start()
    app = create_app(smtp_settings(database_url, tmp_path, smtp_server.port))
    async with TestNatsBroker(app.state.runtime.broker) as br:
        await publish(br, event("nn"))
    [message] = smtp_server.handler.messages
    assert message["Subject"] == "Vi har motteke forslaget ditt (VEST-2026-0007)"
    assert "Venleg helsing" in message.get_content()


async def test_redelivered_receipt_event_sends_one_mail(database_url, tmp_path, smtp_server):
    smtp_server.start()
    app = create_app(smtp_settings(database_url, tmp_path, smtp_server.port))
    body = event()
    async with TestNatsBroker(app.state.runtime.broker) as br:
        await publish(br, body)
        await publish(br, body)
    assert len(smtp_server.handler.messages) == 1


async def test_unreachable_smtp_server_leaves_the_receipt_pending_until_a_redelivery_sends_it(
    database_url, tmp_path, smtp_server
):
    app = create_app(smtp_settings(database_url, tmp_path, smtp_server.port))
    body = event()
    async with TestNatsBroker(app.state.runtime.broker) as br:
        await publish(br, body)  # nothing listens yet: the handler fails and the event is nacked
        [pending] = await deliveries(app)
        assert pending["status"] == "pending"

        smtp_server.start()
        await publish(br, body)
    [message] = smtp_server.handler.messages
    [sent] = await deliveries(app)
    assert sent["id"] == pending["id"]
    assert sent["status"] == "sent"
    assert message["Message-ID"] == f"<receipt-{pending['id']}@localhost>"
