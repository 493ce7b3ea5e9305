"""The secretariat's file import and quarantine in headless Chromium against `kp run`: the example file's report
(3 accepted, 2 quarantined), a quarantined row corrected and replayed into a proposal, and axe (WCAG 2.1 A/AA)
finding nothing on any of the pages."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from tests.browser.accessibility import assert_accessible
from tests.browser.test_screening_pages import log_in, public_status

EXAMPLE_CSV = Path(__file__).resolve().parents[2] / "examples" / "ingest" / "proposals.csv"
IMPORT = "/intake/vest/import"


def example_file(tag: str) -> bytes:
    """The example file with external ids of this run, so the suite's shared system takes its rows anew."""
    return EXAMPLE_CSV.read_bytes().replace(b"BGO-2026-", f"BGO-{tag}-".encode())


def test_the_import_page_refuses_a_visitor_without_a_session(page: Any) -> None:
    page.goto(IMPORT + "?lang=nb")
    assert page.locator("h1").inner_text() == "Du må logge inn"
    assert_accessible(page)


def test_the_secretariat_imports_a_file_and_fixes_a_quarantined_row(page: Any, base_url: str) -> None:
    tag = uuid.uuid4().hex[:6].upper()
    log_in(page, base_url)

    page.goto("/intake/vest/screening?lang=nb")
    page.get_by_role("navigation", name="Arbeidssider").get_by_role("link", name="Import", exact=True).click()
    assert page.locator("h1").inner_text() == "Importer forslag fra fil"
    assert_accessible(page)

    page.get_by_role("button", name="Importer filen").click()  # no file: the error summary names the field
    assert "Fil: Velg en fil å laste opp" in page.locator(".ds-error-summary").inner_text()
    assert_accessible(page)

    page.set_input_files("#f-file", files=[
        {"name": "proposals.csv", "mimeType": "text/csv", "buffer": example_file(tag)},
    ])
    page.get_by_role("button", name="Importer filen").click()
    counts = page.locator("#report-counts")
    assert counts.locator('[data-outcome="accepted"] strong').inner_text() == "3"
    assert counts.locator('[data-outcome="quarantined"] strong').inner_text() == "2"
    rows = page.locator("tbody tr")
    assert rows.count() == 5
    assert [rows.nth(i).locator("td[data-outcome]").inner_text() for i in range(5)] == [
        "Tatt imot", "Tatt imot", "Tatt imot", "I karantene", "I karantene",
    ]
    reference = rows.nth(0).get_by_role("link").inner_text()
    assert public_status(base_url, reference)["status"] == "submitted"
    assert_accessible(page)

    page.get_by_role("link", name="Gå til karantenen").click()
    assert page.locator("h1").inner_text() == "Karantene for innsendinger"
    assert_accessible(page)
    page.get_by_role("link", name=f"BGO-{tag}-0104").click()
    assert page.input_value("#f-proposer_email") == "not-an-address"  # prefilled with what came in
    assert "E-post" in page.locator("#reasons-heading + ul").inner_text()
    assert_accessible(page)

    page.get_by_role("button", name="Send inn på nytt").click()  # not fixed yet: still quarantined, with reasons
    summary = page.locator(".ds-error-summary").inner_text()
    assert "Kort tittel" in summary and "E-postadresse" in summary
    assert_accessible(page)

    page.fill("#f-title", "Kostveileder i sykehjem")
    page.fill("#f-proposer_email", "per.hansen@example.no")
    page.get_by_role("button", name="Lagre rettingen").click()
    assert "Rettingen er lagret" in page.locator("main").inner_text()
    assert_accessible(page)

    page.get_by_role("button", name="Send inn på nytt").click()
    resolved = page.locator("#entry-resolved")
    assert "tatt imot som forslag" in resolved.inner_text()
    created = resolved.get_by_role("link").inner_text()
    assert created.startswith("VEST-") and page.locator('[data-status="resolved"]').count() == 1
    assert_accessible(page)
    assert public_status(base_url, created)["title"] == "Kostveileder i sykehjem"

    page.goto("/intake/vest/quarantine?lang=nb&status=all")
    assert_accessible(page)
