"""The secretariat's screening in headless Chromium against `kp run`: dev login, screening, a merge, a proposal
sent back for reformulation that its proposer resubmits through the link in the .eml notify wrote, and a carry-over
into the next round. axe (WCAG 2.1 A/AA) finds nothing on any screening page."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.browser.accessibility import assert_accessible

QUEUE = "/intake/vest/screening"


def propose(base_url: str, title: str) -> dict[str, Any]:
    """A proposer's submission to the demo round, through the public API."""
    response = httpx.post(f"{base_url}/api/intake/v1/proposals", json={
        "region": "vest", "round": "vest-demo", "municipality": "4601", "title": title,
        "question": {"population": "Heimebuande eldre med kroniske sår", "intervention": "Honning som sårbehandling",
                     "comparison": "Vanleg sårbehandling", "outcome": "Raskare tilheling"},
        "consent": True, "proposer": {"name": "Ola Testperson", "email": "ola.testperson@example.no"},
        "language": "nn",
    }, timeout=10)
    assert response.status_code == 201, response.text
    return dict(response.json())


def log_in(page: Any, base_url: str) -> None:
    """The dev login sets the kp_session cookie in the browser context (page.request shares its cookies)."""
    response = page.request.post(f"{base_url}/api/registry/v1/dev/login", data={"user": "sekretariat-vest"})
    assert response.ok, response.text()


def open_detail(page: Any, reference: str) -> None:
    page.goto(f"{QUEUE}?round=vest-demo&lang=nb&q={reference}")
    page.get_by_role("link", name=reference).click()
    assert page.locator("h1").inner_text() == f"Forslag {reference}"


def screen(page: Any, decision_label: str, **fields: str) -> None:
    page.get_by_role("radio", name=decision_label, exact=True).check()
    for name, value in fields.items():
        page.fill(f"#f-{name}", value)
    page.get_by_role("button", name="Lagre vurderingen").click()


def public_status(base_url: str, reference: str) -> dict[str, Any]:
    return dict(httpx.get(f"{base_url}/api/intake/v1/proposals/by-reference/{reference}", timeout=10).json())


def wait_for_mail(mail_dir: Path, reference: str, needle: str, timeout: float = 30) -> str:
    """The text of the first .eml for `reference` that contains `needle` (notify writes it asynchronously)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in sorted(mail_dir.glob(f"{reference}-*.eml")) if mail_dir.exists() else []:
            text = message_from_bytes(path.read_bytes(), policy=policy.default).get_content()
            if needle in text:
                return str(text)
        time.sleep(0.3)
    raise AssertionError(f"no e-mail for {reference} containing {needle!r} in {mail_dir}")


def test_the_screening_pages_refuse_a_visitor_without_a_session(page: Any) -> None:
    page.goto(QUEUE + "?lang=nb")
    assert page.locator("h1").inner_text() == "Du må logge inn"
    assert_accessible(page)


def test_the_secretariat_screens_and_merges(page: Any, base_url: str) -> None:
    tag = uuid.uuid4().hex[:6]
    target = propose(base_url, f"Honning på sår {tag} A")
    duplicate = propose(base_url, f"Honning på sår {tag} B")
    log_in(page, base_url)

    page.goto(f"{QUEUE}?round=vest-demo&lang=nb")
    assert target["reference"] in page.locator("main").inner_text()
    assert_accessible(page)
    page.fill("#f-q", tag)
    page.get_by_role("button", name="Vis forslagene").click()
    rows = page.locator("tbody tr").filter(has_text=tag)
    assert rows.count() == 2
    assert_accessible(page)

    open_detail(page, target["reference"])
    assert "ola.testperson@example.no" in page.locator("main").inner_text()  # only the secretariat sees it
    assert_accessible(page)
    screen(page, "Avslått (begrunnelse)")  # no reason: the error summary names the field
    summary = page.locator(".ds-error-summary")
    assert "Begrunnelse" in summary.inner_text()
    assert_accessible(page)
    screen(page, "Egnet – går videre til prioritering", note="Godt avgrensa spørsmål")
    assert "Vurderingen er lagret" in page.locator("main").inner_text()
    assert_accessible(page)

    page.get_by_label(re.compile(duplicate["reference"])).check()
    page.get_by_role("button", name="Slå sammen").click()
    assert "slått sammen med dette forslaget" in page.locator("main").inner_text()
    history = page.locator("section", has=page.locator("#history-heading"))
    assert history.get_by_role("link", name=duplicate["reference"]).count() == 1
    assert_accessible(page)
    assert public_status(base_url, duplicate["reference"])["status"] == "merged"
    history.get_by_role("link", name=duplicate["reference"]).click()  # the trace works both ways
    assert page.locator("h1").inner_text() == f"Forslag {duplicate['reference']}"
    assert page.get_by_role("link", name=target["reference"]).count() >= 1
    assert_accessible(page)


def test_sent_back_for_reformulation_the_proposer_resubmits_through_the_emailed_link(
    page: Any, browser: Any, base_url: str, system_env: dict[str, str],
) -> None:
    created = propose(base_url, f"Honning på sår {uuid.uuid4().hex[:6]}")
    log_in(page, base_url)
    open_detail(page, created["reference"])
    screen(page, "Må omformuleres – send tilbake til forslagsstilleren",
           request="Avgrens spørsmålet til éin type sår")
    assert "Vurderingen er lagret" in page.locator("main").inner_text()

    text = wait_for_mail(Path(system_env["KP_VAR_DIR"]) / "mail", created["reference"], "revise?token=")
    assert "Avgrens spørsmålet til éin type sår" in text
    link = re.search(r"http://\S+/revise\?token=\S+", text)
    assert link, text
    target = urlsplit(link.group(0))

    # The proposer, in a browser of their own without the secretariat's session.
    context = browser.new_context(base_url=base_url, locale="nn-NO")
    try:
        proposer = context.new_page()
        proposer.goto(f"{target.path}?{target.query}")
        assert proposer.locator("html").get_attribute("lang") == "nn"
        assert "Avgrens spørsmålet til éin type sår" in proposer.locator("main").inner_text()
        assert proposer.input_value("#f-intervention") == "Honning som sårbehandling"  # prefilled
        assert_accessible(proposer)
        proposer.fill("#f-title", "Honning på venøse leggsår i heimetenesta")
        proposer.fill("#f-population", "Heimebuande eldre med venøse leggsår")
        proposer.get_by_role("button", name="Send inn på nytt").click()
        assert urlsplit(proposer.url).path == f"/intake/p/{created['reference']}"
        main = proposer.locator("main").inner_text()
        assert "Honning på venøse leggsår i heimetenesta" in main and "Motteke" in main
        assert_accessible(proposer)
        proposer.goto(f"{target.path}?{target.query}")  # the link works once
        assert proposer.locator("h1").inner_text() == "Forslaget er alt sendt inn på nytt"
    finally:
        context.close()
    status = public_status(base_url, created["reference"])
    assert status["status"] == "submitted" and status["history"][-1]["event"] == "resubmitted"


def test_an_accepted_proposal_not_chosen_is_carried_over_to_the_next_round(page: Any, base_url: str) -> None:
    created = propose(base_url, f"Honning på sår {uuid.uuid4().hex[:6]}")
    log_in(page, base_url)
    now = datetime.now(UTC)
    next_round = f"vest-next-{uuid.uuid4().hex[:6]}"
    response = page.request.post(f"{base_url}/api/intake/v1/regions/vest/rounds", data={
        "id": next_round, "name": f"Neste runde {next_round[-6:]}",
        "opens_at": (now + timedelta(days=200)).isoformat(), "closes_at": (now + timedelta(days=240)).isoformat(),
    })
    assert response.status == 201, response.text()

    open_detail(page, created["reference"])
    screen(page, "Egnet – går videre til prioritering")
    page.select_option("#f-to_round", next_round)
    assert_accessible(page)
    page.get_by_role("button", name="Overfør forslaget").click()
    main = page.locator("main").inner_text()
    assert "overført til neste runde" in main and f"Neste runde {next_round[-6:]}" in main
    assert_accessible(page)
    status = public_status(base_url, created["reference"])
    assert status["status"] == "carried_over" and status["round"] == next_round
