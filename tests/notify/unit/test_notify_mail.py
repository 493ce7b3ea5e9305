"""Rendering receipts in Bokmål and Nynorsk, and the message built from them."""

from __future__ import annotations

from email import message_from_bytes, policy

from notify.adapters.mail import ReceiptRenderer, build_receipt_message, sender_domain
from notify.domain.model import Receipt


def receipt(language: str = "nb", name: str = "Kari Nordmann", title: str = "Sansehage mot uro ved demens") -> Receipt:
    return Receipt("p-1", "VEST-2026-0001", title, language, name, "kari@example.no")


def test_bokmaal_receipt_greets_by_name_with_reference_and_title():
    rendered = ReceiptRenderer().render(receipt("nb"))
    assert rendered.subject == "Vi har mottatt forslaget ditt (VEST-2026-0001)"
    assert rendered.body.startswith("Hei, Kari Nordmann!")
    assert "referansen VEST-2026-0001" in rendered.body
    assert "Tittel: Sansehage mot uro ved demens" in rendered.body
    assert "Vennlig hilsen" in rendered.body
    assert "motteke" not in rendered.body


def test_nynorsk_receipt_is_written_in_nynorsk():
    rendered = ReceiptRenderer().render(receipt("nn"))
    assert rendered.subject == "Vi har motteke forslaget ditt (VEST-2026-0001)"
    assert rendered.body.startswith("Hei, Kari Nordmann!")
    assert "Vi har motteke det og gitt det referansen VEST-2026-0001" in rendered.body
    assert "Venleg helsing" in rendered.body
    assert "ikkje" in rendered.body
    assert "mottatt" not in rendered.body


def test_template_text_is_not_html_escaped():
    rendered = ReceiptRenderer().render(receipt(title="Mat & drikke <for> eldre"))
    assert "Mat & drikke <for> eldre" in rendered.body


def test_message_carries_a_message_id_fixed_by_the_delivery():
    r = receipt()
    message = build_receipt_message(r, ReceiptRenderer().render(r), "d-42", "kunnskapsportalen@localhost")
    assert message["Message-ID"] == "<receipt-d-42@localhost>"
    assert message["From"] == "kunnskapsportalen@localhost"
    assert message["To"] == "Kari Nordmann <kari@example.no>"
    assert message["Content-Language"] == "nb"
    assert message["Auto-Submitted"] == "auto-generated"


def test_line_breaks_in_a_name_or_title_cannot_add_headers():
    r = receipt(name="Kari\r\nBcc: ola@example.no", title="Tittel\nBcc: ola@example.no")
    message = build_receipt_message(r, ReceiptRenderer().render(r), "d-1", "kunnskapsportalen@localhost")
    parsed = message_from_bytes(message.as_bytes(), policy=policy.default)
    assert parsed["Bcc"] is None


def test_non_ascii_names_survive_encoding():
    r = receipt(name="Åse Ødegård")
    message = build_receipt_message(r, ReceiptRenderer().render(r), "d-1", "kunnskapsportalen@localhost")
    parsed = message_from_bytes(message.as_bytes(), policy=policy.default)
    assert parsed["To"].addresses[0].display_name == "Åse Ødegård"
    assert "Hei, Åse Ødegård!" in parsed.get_content()


def test_sender_domain_comes_from_the_from_address():
    assert sender_domain("Kunnskapsportalen <post@kunnskap.example.no>") == "kunnskap.example.no"
    assert sender_domain("no-address") == "localhost"
