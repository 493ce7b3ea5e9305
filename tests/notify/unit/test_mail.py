"""Rendering receipts and status notices in Bokmål, Nynorsk and English, and the messages built from them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

import notify
from notify.deliveries.mail import MailRenderer, build_message, sender_domain
from notify.deliveries.model import Delivery, DeliveryKind, DeliveryStatus, Receipt, StatusNotice

LOCALE = Path(notify.__file__).resolve().parents[2] / "locale"
TEMPLATES = Path(notify.__file__).resolve().parent / "deliveries" / "templates"
LINK = "https://kunnskapsportalen.example/intake/p/VEST-2026-0001/revise?token=abc.def"


def receipt(language: str = "nb", name: str = "Kari Nordmann", title: str = "Sansehage mot uro ved demens") -> Receipt:
    return Receipt("p-1", "VEST-2026-0001", title, language, name, "kari@example.no")


def notice(
    language: str = "nb", status: str = "needs_reformulation", note: str = "Avgrens spørsmålet",
    revise_url: str | None = LINK,
) -> StatusNotice:
    return StatusNotice(
        "p-1", "VEST-2026-0001", "Sansehage mot uro ved demens", language, status, "submitted", note, revise_url,
        "ev-1", "Kari Nordmann", "kari@example.no",
    )


def delivery(kind: DeliveryKind = DeliveryKind.RECEIPT, delivery_id: str = "d-1") -> Delivery:
    return Delivery(delivery_id, "p-1", kind, "hash", DeliveryStatus.PENDING, datetime(2026, 9, 1, tzinfo=UTC))


def test_bokmaal_receipt_greets_by_name_with_reference_and_title():
    rendered = MailRenderer().render_receipt(receipt("nb"))
    assert rendered.subject == "Vi har mottatt forslaget ditt (VEST-2026-0001)"
    assert rendered.body.startswith("Hei, Kari Nordmann!")
    assert "referansen VEST-2026-0001" in rendered.body
    assert "Tittel: Sansehage mot uro ved demens" in rendered.body
    assert "Vennlig hilsen" in rendered.body
    assert "motteke" not in rendered.body


def test_nynorsk_receipt_is_written_in_nynorsk():
    rendered = MailRenderer().render_receipt(receipt("nn"))
    assert rendered.subject == "Vi har motteke forslaget ditt (VEST-2026-0001)"
    assert rendered.body.startswith("Hei, Kari Nordmann!")
    assert "Vi har motteke det og gitt det referansen VEST-2026-0001" in rendered.body
    assert "Venleg helsing" in rendered.body
    assert "ikkje" in rendered.body
    assert "mottatt" not in rendered.body


def test_english_receipt_is_written_in_english():
    rendered = MailRenderer().render_receipt(receipt("en"))
    assert rendered.subject == "We have received your proposal (VEST-2026-0001)"
    assert rendered.body.startswith("Hello Kari Nordmann,")
    assert "given it the reference VEST-2026-0001" in rendered.body
    assert "Title: Sansehage mot uro ved demens" in rendered.body
    assert "Kind regards" in rendered.body
    assert "Hei" not in rendered.body


def test_a_receipt_in_a_language_notify_does_not_write_is_in_bokmaal():
    assert MailRenderer().render_receipt(receipt("de")) == MailRenderer().render_receipt(receipt("nb"))


def test_the_receipt_body_reads_as_before_in_bokmaal():
    assert MailRenderer().render_receipt(receipt("nb")).body == (
        "Hei, Kari Nordmann!\n\n"
        "Takk for forslaget ditt til Kunnskapsportalen. Vi har mottatt det og gitt det referansen VEST-2026-0001.\n\n"
        "Tittel: Sansehage mot uro ved demens\n\n"
        "Oppgi referansen hvis du kontakter oss om forslaget. Sekretariatet går gjennom alle forslagene når fristen"
        " er ute.\n\n"
        "Vennlig hilsen\nKunnskapsportalen\n\n"
        "Denne e-posten er sendt automatisk og kan ikke besvares.\n"
    )


@pytest.mark.parametrize(
    ("language", "subject", "note_heading", "revise"),
    [
        ("nb", "Nytt om forslaget ditt (VEST-2026-0001): Må omformuleres", "Melding fra sekretariatet:",
         "med samme referanse her:"),
        ("nn", "Nytt om forslaget ditt (VEST-2026-0001): Må omformulerast", "Melding frå sekretariatet:",
         "med same referanse her:"),
        ("en", "News about your proposal (VEST-2026-0001): Needs reformulation", "Message from the secretariat:",
         "with the same reference here:"),
    ],
)
def test_a_status_notice_names_the_new_state_the_note_and_the_revise_link(language, subject, note_heading, revise):
    rendered = MailRenderer().render_status_notice(notice(language))
    assert rendered.subject == subject
    assert f"{note_heading}\nAvgrens spørsmålet\n" in rendered.body
    assert f"{revise}\n{LINK}\n" in rendered.body


def test_a_status_notice_without_note_or_link_leaves_both_out():
    body = MailRenderer().render_status_notice(notice("nb", status="accepted", note="  ", revise_url=None)).body
    assert "har fått ny status: Egnet, går videre til vurdering." in body
    assert "Melding fra" not in body
    assert "http" not in body


def test_state_labels_come_from_the_contracts_catalogue():
    """Intake's pages and notify's mails read one catalogue, so their Nynorsk can no longer diverge."""
    rendered = MailRenderer().render_status_notice(notice("nn", status="answered_by_existing", revise_url=None))
    assert rendered.subject.endswith(": Svart ut med eksisterande kunnskap")


def test_a_state_no_catalogue_knows_yet_is_shown_as_its_code():
    rendered = MailRenderer().render_status_notice(notice("nb", status="paused_for_review", revise_url=None))
    assert rendered.subject.endswith(": paused_for_review")


def _keys(language: str) -> set[str]:
    with (LOCALE / language / "LC_MESSAGES" / "notify.po").open("rb") as handle:
        return {str(message.id) for message in read_po(handle) if message.id}


def test_every_key_the_templates_use_is_translated_in_bokmaal_nynorsk_and_english():
    used = {
        key for path in TEMPLATES.glob("*.txt") for key in re.findall(r"\bt\('([^']+)'", path.read_text("utf-8"))
    }
    assert used, "no t('…') calls found in the templates"
    for language in ("nb", "nn", "en"):
        assert used <= _keys(language), f"missing in {language}: {sorted(used - _keys(language))}"
    assert _keys("nb") == _keys("nn") == _keys("en")


@pytest.mark.parametrize("language", ["nb", "nn", "en"])
def test_no_rendered_mail_shows_a_bare_key(language):
    renderer = MailRenderer()
    for rendered in (renderer.render_receipt(receipt(language)), renderer.render_status_notice(notice(language))):
        assert "notify." not in rendered.subject + rendered.body
        assert "proposal.state." not in rendered.subject + rendered.body


def test_template_text_is_not_html_escaped():
    rendered = MailRenderer().render_receipt(receipt(title="Mat & drikke <for> eldre"))
    assert "Mat & drikke <for> eldre" in rendered.body


def test_braces_in_a_name_or_title_are_shown_as_written():
    rendered = MailRenderer().render_receipt(receipt(name="Kari {name}", title="Tittel {0} {title}"))
    assert rendered.body.startswith("Hei, Kari {name}!")
    assert "Tittel: Tittel {0} {title}" in rendered.body


def test_message_carries_a_message_id_fixed_by_the_delivery():
    r = receipt()
    message = build_message(delivery(delivery_id="d-42"), r, MailRenderer().render_receipt(r),
                            "kunnskapsportalen@localhost")
    assert message["Message-ID"] == "<receipt-d-42@localhost>"
    assert message["From"] == "kunnskapsportalen@localhost"
    assert message["To"] == "Kari Nordmann <kari@example.no>"
    assert message["Content-Language"] == "nb"
    assert message["Auto-Submitted"] == "auto-generated"


def test_a_status_notice_message_id_names_its_kind_and_its_language_is_the_proposers():
    n = notice("en")
    message = build_message(delivery(DeliveryKind.STATUS_NOTICE, "d-7"), n, MailRenderer().render_status_notice(n),
                            "Kunnskapsportalen <post@kunnskap.example.no>")
    assert message["Message-ID"] == "<status-notice-d-7@kunnskap.example.no>"
    assert message["Content-Language"] == "en"


def test_line_breaks_in_a_name_or_title_cannot_add_headers():
    r = receipt(name="Kari\r\nBcc: ola@example.no", title="Tittel\nBcc: ola@example.no")
    message = build_message(delivery(), r, MailRenderer().render_receipt(r), "kunnskapsportalen@localhost")
    parsed = message_from_bytes(message.as_bytes(), policy=policy.default)
    assert parsed["Bcc"] is None


def test_non_ascii_names_survive_encoding():
    r = receipt(name="Åse Ødegård")
    message = build_message(delivery(), r, MailRenderer().render_receipt(r), "kunnskapsportalen@localhost")
    parsed = message_from_bytes(message.as_bytes(), policy=policy.default)
    assert parsed["To"].addresses[0].display_name == "Åse Ødegård"
    assert "Hei, Åse Ødegård!" in parsed.get_content()


def test_sender_domain_comes_from_the_from_address():
    assert sender_domain("Kunnskapsportalen <post@kunnskap.example.no>") == "kunnskap.example.no"
    assert sender_domain("no-address") == "localhost"
