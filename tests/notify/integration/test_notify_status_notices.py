"""Notify tells a proposer when their proposal's state changes: one .eml per change, with the revise link."""

from __future__ import annotations

import json
from email import message_from_bytes, policy

from faststream.nats import TestNatsBroker
from httpx import ASGITransport, AsyncClient

from notify.app import create_app
from notify.settings import NotifySettings
from shared.contracts.envelope import envelope
from shared.contracts.events import Recipient, StatusNoticeRequestedV1
from shared.contracts.subjects import STATUS_NOTICE_REQUESTED
from shared.settings import CommonSettings

LINK = "https://kunnskapsportalen.example/intake/p/VEST-2026-0001/revise?token=abc.def"


def notice(cause: str = "ev-1", status: str = "needs_reformulation", language: str = "nn") -> StatusNoticeRequestedV1:
    return StatusNoticeRequestedV1(
        proposal_id="p-1", reference="VEST-2026-0001", title="Sansehage mot uro ved demens", language=language,
        status=status, previous_status="submitted", note="Avgrens spørsmålet til éin intervensjon",
        revise_url=LINK if status == "needs_reformulation" else None, cause_event_id=cause,
        recipient=Recipient(name="Kari Nordmann", email="kari@example.no"),
    )


def body(data: StatusNoticeRequestedV1, event_id: str | None = None) -> bytes:
    return json.dumps(envelope(
        service="intake", event_type=STATUS_NOTICE_REQUESTED.type, subject=data.proposal_id, region="vest",
        data=data, event_id=event_id,
    )).encode()


async def publish(broker, raw: bytes) -> None:
    await broker.publish(raw, STATUS_NOTICE_REQUESTED.subject("vest"), stream="KP_CONTACTS")


def app_for(database_url, tmp_path):
    return create_app(NotifySettings(database_url=database_url, common=CommonSettings(var_dir=tmp_path / "var")))


def eml_files(tmp_path) -> list:
    directory = tmp_path / "var" / "mail"
    return sorted(directory.iterdir()) if directory.exists() else []


async def test_a_status_notice_is_written_once_with_the_link_even_when_redelivered(database_url, tmp_path):
    app = app_for(database_url, tmp_path)
    raw = body(notice())
    async with TestNatsBroker(app.state.runtime.broker) as broker:
        await publish(broker, raw)
        await publish(broker, raw)  # a redelivery of the same event
    [path] = eml_files(tmp_path)
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["To"].addresses[0].addr_spec == "kari@example.no"
    assert message["Subject"] == "Nytt om forslaget ditt (VEST-2026-0001): Må omformulerast"
    assert message["Content-Language"] == "nn"
    assert message["Message-ID"].startswith("<status-notice-")
    text = message.get_content()
    assert text.startswith("Hei, Kari Nordmann!")
    assert "Avgrens spørsmålet til éin intervensjon" in text and LINK in text

    async with AsyncClient(transport=ASGITransport(app), base_url="http://t") as client:
        [delivery] = (await client.get("/api/notify/v1/deliveries", params={"proposal_id": "p-1"})).json()
    assert delivery["kind"] == "status_notice" and delivery["status"] == "sent"


async def test_the_same_change_published_twice_with_new_envelopes_is_still_told_once(database_url, tmp_path):
    """The outbox relay may publish a row twice with the same event id; a second cause is a second change."""
    app = app_for(database_url, tmp_path)
    async with TestNatsBroker(app.state.runtime.broker) as broker:
        await publish(broker, body(notice(cause="ev-1"), event_id="n-1"))
        await publish(broker, body(notice(cause="ev-1"), event_id="n-2"))  # same change, another envelope
        assert len(eml_files(tmp_path)) == 1
        await publish(broker, body(notice(cause="ev-2", status="submitted", language="nb"), event_id="n-3"))
    files = eml_files(tmp_path)
    assert len(files) == 2
    texts = [message_from_bytes(p.read_bytes(), policy=policy.default) for p in files]
    subjects = sorted(str(m["Subject"]) for m in texts)
    assert subjects == ["Nytt om forslaget ditt (VEST-2026-0001): Mottatt",
                        "Nytt om forslaget ditt (VEST-2026-0001): Må omformulerast"]
    bokmal = next(m for m in texts if "Mottatt" in str(m["Subject"])).get_content()
    assert "revise" not in bokmal and "Vennlig hilsen" in bokmal


async def test_a_receipt_and_a_notice_for_the_same_proposal_are_both_sent(database_url, tmp_path):
    from shared.contracts.events import ReceiptRequestedV1
    from shared.contracts.subjects import RECEIPT_REQUESTED

    app = app_for(database_url, tmp_path)
    receipt = ReceiptRequestedV1(proposal_id="p-1", reference="VEST-2026-0001", title="Sansehage",
                                 recipient=Recipient(name="Kari Nordmann", email="kari@example.no"))
    async with TestNatsBroker(app.state.runtime.broker) as broker:
        await broker.publish(
            json.dumps(envelope(service="intake", event_type=RECEIPT_REQUESTED.type, subject="p-1", region="vest",
                                data=receipt)).encode(),
            RECEIPT_REQUESTED.subject("vest"), stream="KP_CONTACTS",
        )
        await publish(broker, body(notice()))
    assert len(eml_files(tmp_path)) == 2
