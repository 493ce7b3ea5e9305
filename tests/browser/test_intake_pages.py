"""Intake's public pages in headless Chromium: a proposer without JavaScript, in Nynorsk and Bokmål, and axe
(WCAG 2.1 A/AA) on every page the suite renders."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.browser.accessibility import assert_accessible, violations

REGION = "/intake/vest"
FORM = "/intake/vest/rounds/vest-demo/proposal"


def fill_valid_proposal(page: Any, title: str) -> None:
    page.fill("#f-title", title)
    page.fill("#f-population", "Bebuarar på sjukeheim med demens og uro")
    page.fill("#f-intervention", "Sansehage og musikkterapi")
    page.fill("#f-comparison", "Medikamentell behandling")
    page.fill("#f-outcome", "Mindre uro og agitasjon")
    page.select_option("#f-organisation", "m:4601")
    page.select_option("#f-service_area", "sykehjem")
    page.fill("#f-name", "Ola Testperson")
    page.fill("#f-email", "ola.testperson@example.no")
    page.check("#f-consent")


def submit_through_similar_step(page: Any) -> None:
    page.get_by_role("button", name=re.compile("Send")).first.click()
    # A question like an earlier one (or a delivered summary) stops once at the similar-proposals step.
    if page.locator("button[value=submit]").count():
        assert_accessible(page)
        page.click("button[value=submit]")


def test_landing_lists_the_open_demo_round_in_nynorsk_by_default(page: Any) -> None:
    page.goto(REGION)
    assert page.locator("html").get_attribute("lang") == "nn"
    assert page.get_by_role("link", name=re.compile("Send forslag til")).count() >= 1
    # Designsystemet's theme and components are loaded from our own server (the browser is offline otherwise).
    assert page.evaluate("getComputedStyle(document.body).getPropertyValue('--ds-color-accent-base-default')")
    assert page.evaluate("getComputedStyle(document.querySelector('.ds-skip-link')).position") == "absolute"
    assert_accessible(page)
    page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto(REGION)  # the choice is remembered in the kp_lang cookie
    assert page.locator("html").get_attribute("lang") == "en"


def test_proposal_in_nynorsk_reaches_its_status_page(page: Any) -> None:
    page.goto(FORM)
    assert page.locator("html").get_attribute("lang") == "nn"
    assert_accessible(page)
    fill_valid_proposal(page, "Sansehage mot uro ved demens")
    page.check("#f-assessment-nytte")
    submit_through_similar_step(page)
    assert "/receipt" in page.url
    assert page.locator("h1").inner_text() == "Forslaget er motteke"
    assert_accessible(page)
    page.get_by_role("link", name="Følg forslaget på statussida").click()
    assert re.search(r"/intake/p/VEST-\d{4}-\d{4}$", page.url)
    assert "Motteke" in page.locator("main").inner_text()
    assert "Ola Testperson" not in page.content() and "example.no" not in page.content()
    assert_accessible(page)


def test_proposal_in_bokmal_reaches_its_status_page(page: Any) -> None:
    page.goto(FORM + "?lang=nb")
    assert page.locator("html").get_attribute("lang") == "nb"
    fill_valid_proposal(page, "Honning på sår i hjemmetjenesten")
    submit_through_similar_step(page)
    assert page.locator("h1").inner_text() == "Forslaget er mottatt"
    page.get_by_role("link", name="Følg forslaget på statussiden").click()
    assert "Mottatt" in page.locator("main").inner_text()
    assert page.locator("html").get_attribute("lang") == "nb"
    assert_accessible(page)


def test_error_summary_is_focused_and_its_links_go_to_the_fields(page: Any) -> None:
    page.goto(FORM + "?lang=nb")
    page.fill("#f-title", "Kort")
    page.fill("#f-email", "ikke-en-adresse")
    page.get_by_role("button", name="Send forslaget").click()
    summary = page.locator(".ds-error-summary")
    assert summary.is_visible()
    # Focus lands on the summary without JavaScript (autofocus), so a screen reader reads it first.
    # (Chromium applies autofocus at its next rendering step after load, so wait for it rather than sample once.)
    page.wait_for_function("document.activeElement.classList.contains('ds-error-summary')", timeout=5000)
    text = summary.inner_text()
    assert "Kort tittel: Må ha minst 5 tegn" in text
    assert "E-postadresse: Skriv en gyldig e-postadresse" in text
    assert page.locator("#f-title").get_attribute("aria-invalid") == "true"
    assert "f-title-error" in (page.locator("#f-title").get_attribute("aria-describedby") or "")
    assert_accessible(page)
    summary.get_by_role("link", name=re.compile("^E-postadresse")).click()
    assert page.evaluate("document.activeElement.id") == "f-email"
    assert page.input_value("#f-email") == "ikke-en-adresse"  # what the user wrote is kept


def test_post_without_csrf_token_is_refused_with_a_translated_page(page: Any, base_url: str) -> None:
    page.goto(FORM + "?lang=nb")
    page.evaluate("document.querySelector('input[name=csrf_token]').remove()")
    fill_valid_proposal(page, "Uten sikkerhetskode")
    page.get_by_role("button", name="Send forslaget").click()
    assert page.locator("h1").inner_text() == "Skjemaet er utløpt"
    assert_accessible(page)
    # And a forged cross-site post, with no cookie at all, is refused the same way.
    assert httpx.post(base_url + FORM, data={"title": "x"}).status_code == 403


def test_filled_honeypot_returns_the_form_and_stores_nothing(page: Any) -> None:
    page.goto(FORM + "?lang=nb")
    assert not page.locator("#f-website").is_visible()
    fill_valid_proposal(page, "Skjult felt fylt ut av en robot")
    page.evaluate("document.querySelector('#f-website').value = 'http://spam.example'")
    page.get_by_role("button", name="Send forslaget").click()
    assert "Skjemaet kunne ikke sendes" in page.locator("main").inner_text()
    assert "/receipt" not in page.url
    assert_accessible(page)


def test_unknown_reference_gets_a_translated_not_found_page(page: Any) -> None:
    response = page.goto("/intake/p/VEST-1999-9999?lang=nn")
    assert response is not None and response.status == 404
    assert page.locator("h1").inner_text() == "Sida finst ikkje"
    assert_accessible(page)


def test_the_accessibility_check_finds_violations_when_there_are_some(page: Any) -> None:
    page.set_content('<html><body><img src="x.png"><input type="text"></body></html>')
    found = {v["id"] for v in violations(page)}
    assert {"image-alt", "html-has-lang"} <= found
