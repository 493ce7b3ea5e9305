"""Notify's deliveries model: the log's recipient hash, the mail's language, and the names that make a resend the same
message."""

from __future__ import annotations

import hashlib

from notify.deliveries.model import Receipt, mail_file_name, mail_language, message_id, recipient_hash, single_line


def test_recipient_hash_is_the_sha256_of_the_lower_cased_address():
    assert recipient_hash("Kari@Example.NO") == hashlib.sha256(b"kari@example.no").hexdigest()
    assert recipient_hash(" kari@example.no ") == recipient_hash("KARI@EXAMPLE.NO")
    assert recipient_hash("kari@example.no") != recipient_hash("ola@example.no")


def test_mail_file_name_is_the_same_for_the_same_delivery():
    assert mail_file_name("VEST-2026-0001", "d-1") == "VEST-2026-0001-d-1.eml"
    assert mail_file_name("VEST-2026-0001", "d-1") == mail_file_name("VEST-2026-0001", "d-1")
    assert mail_file_name("VEST-2026-0001", "d-1") != mail_file_name("VEST-2026-0001", "d-2")


def test_mail_file_name_cannot_leave_the_mail_directory():
    name = mail_file_name("../../etc/passwd", "d/1")
    assert "/" not in name
    assert not name.startswith(".")


def test_message_id_is_fixed_by_the_delivery_and_names_its_kind():
    assert message_id("d-1", "localhost") == "<receipt-d-1@localhost>"
    assert message_id("d-1", "localhost", "status_notice") == "<status-notice-d-1@localhost>"


def test_mail_is_written_in_bokmaal_nynorsk_or_english_and_unknown_languages_get_bokmaal():
    assert mail_language("nn") == "nn"
    assert mail_language("nb") == "nb"
    assert mail_language("en") == "en"
    assert mail_language("de") == "nb"
    assert mail_language("") == "nb"


def test_single_line_removes_line_breaks_that_could_inject_headers():
    assert single_line("Tittel\r\nBcc: ola@example.no") == "Tittel Bcc: ola@example.no"


def test_a_receipts_repr_hides_the_name_and_address():
    receipt = Receipt("p-1", "VEST-2026-0001", "Tittel", "nb", "Kari Nordmann", "kari@example.no")
    assert "Kari" not in repr(receipt)
    assert "kari@example.no" not in repr(receipt)
