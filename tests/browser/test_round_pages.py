"""The secretariat's round pages in headless Chromium against `kp run`: a round created through the form (after
its error summary), listed with its window in Oslo time, and edited; axe (WCAG 2.1 A/AA) finds nothing on any
of the pages."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.browser.accessibility import assert_accessible
from tests.browser.test_screening_pages import log_in

ROUNDS = "/intake/vest/rounds"


def test_the_rounds_page_refuses_a_visitor_without_a_session(page: Any) -> None:
    page.goto(ROUNDS + "?lang=nb")
    assert page.locator("h1").inner_text() == "Du må logge inn"
    assert_accessible(page)


def test_the_secretariat_creates_and_edits_a_round(page: Any, base_url: str) -> None:
    tag = uuid.uuid4().hex[:8]
    round_id, name = f"vest-browser-{tag}", f"Testrunde {tag}"
    log_in(page, base_url)

    page.goto("/intake/vest/screening?lang=nb")
    page.get_by_role("navigation", name="Arbeidssider").get_by_role("link", name="Runder", exact=True).click()
    assert page.locator("h1").inner_text() == "Innspillsrunder"
    assert_accessible(page)

    page.get_by_role("link", name="Ny runde").click()
    assert page.locator("h1").inner_text() == "Ny runde"
    assert page.input_value("#f-time_zone") == "Europe/Oslo"
    assert_accessible(page)

    page.fill("#f-id", round_id)
    page.fill("#f-name", name)
    page.fill("#f-opens_date", "2031-02-01")
    page.fill("#f-opens_time", "08:00")
    page.fill("#f-closes_date", "2031-01-15")  # before it opens
    page.fill("#f-closes_time", "12:00")
    page.get_by_role("radio", name="Nynorsk").check()
    page.fill("#f-committee_meeting_on", "2031-03-10")
    page.get_by_role("button", name="Opprett runden").click()
    summary = page.locator(".ds-error-summary")
    assert "Stenger: Runden må stenge etter at den åpner" in summary.inner_text()
    assert page.locator("#f-closes_date-error").inner_text() == "Runden må stenge etter at den åpner"
    assert_accessible(page)
    summary.get_by_role("link", name="Stenger: Runden må stenge etter at den åpner").click()
    assert page.evaluate("document.activeElement.id") == "f-closes_date"

    page.fill("#f-closes_date", "2031-02-28")
    page.get_by_role("button", name="Opprett runden").click()
    assert page.locator("#rounds-done").inner_text() == f"Runden «{name}» er opprettet."
    row = page.locator(f'tr[data-round="{round_id}"]')
    assert row.locator("th").inner_text() == name
    assert row.locator('[data-column="window"]').inner_text().startswith("1. februar 2031 kl. 08:00")
    assert row.locator("[data-status]").inner_text() == "Planlagt"
    assert_accessible(page)
    api = httpx.get(f"{base_url}/api/intake/v1/rounds/{round_id}", timeout=10).json()
    assert (api["opens_at"], api["default_language"]) == ("2031-02-01T07:00:00Z", "nn")

    row.get_by_role("link", name=f"Endre {name}").click()
    assert page.locator("h1").inner_text() == f"Endre runden {name}"
    assert page.input_value("#f-closes_date") == "2031-02-28"
    assert_accessible(page)
    page.fill("#f-name", f"{name} (endret)")
    page.fill("#f-closes_time", "15:30")
    page.get_by_role("button", name="Lagre endringene").click()
    assert page.locator("#rounds-done").inner_text() == f"Endringene i «{name} (endret)» er lagret."
    assert "28. februar 2031 kl. 15:30" in page.locator(f'tr[data-round="{round_id}"]').inner_text()
    assert_accessible(page)
