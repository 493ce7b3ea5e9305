"""Intake's public pages on SQLite through HTTP, as a browser without JavaScript would use them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from faststream.nats import TestNatsBroker
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select

from intake.app import MIGRATIONS, create_app
from intake.rounds import service as round_service
from intake.rounds.model import Round
from intake.settings import IntakeSettings
from intake.tables import inbox, outbox, proposals
from intake.uow import IntakeUnitOfWork
from shared.db import migrate_async
from shared.settings import CommonSettings

NOW = datetime.now(UTC)
FORM = "/intake/vest/rounds/open-round/proposal"
VALID = {
    "title": "Honning på sår i heimetenesta",
    "population": "Heimebuande med kroniske sår",
    "intervention": "Honning som sårbehandling",
    "comparison": "Vanleg sårbehandling",
    "outcome": "Raskare tilheling",
    "organisation": "m:4601",
    "service_area": "hjemmetjenester",
    "name": "Kari Nordmann",
    "email": "kari.nordmann@example.no",
    "consent": "yes",
    "step": "submit",
}


@pytest.fixture
async def client(tmp_path, monkeypatch):
    monkeypatch.setenv("KP_PAGES_FORM_RATE_LIMIT", "5")
    url = f"sqlite+aiosqlite:///{tmp_path}/intake.db"
    await migrate_async(MIGRATIONS, url)
    app = create_app(IntakeSettings(database_url=url, common=CommonSettings(env="test", var_dir=tmp_path)))
    runtime = app.state.runtime
    for round_ in (
        Round("open-round", "vest", "Open round", NOW - timedelta(days=10), NOW + timedelta(days=10),
              default_language="nn", criteria_set="prioritering"),
        Round("closed-round", "vest", "Closed round", NOW - timedelta(days=30), NOW - timedelta(days=1)),
    ):
        await round_service.save_round(round_, IntakeUnitOfWork(runtime.database, outbox, inbox))
    async with TestNatsBroker(runtime.broker), AsyncClient(transport=ASGITransport(app), base_url="http://t") as c:
        c.app = app  # type: ignore[attr-defined]
        yield c
    await runtime.database.dispose()


async def stored(client) -> int:
    async with client.app.state.runtime.database.reader() as session:
        return int((await session.execute(select(func.count()).select_from(proposals))).scalar_one())


async def csrf_token(client, path: str = FORM) -> str:
    page = await client.get(path)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text[:500]
    return match.group(1)


async def test_landing_lists_the_open_round_in_the_regions_language_with_oslo_times(client) -> None:
    page = await client.get("/intake/vest")
    assert page.status_code == 200
    assert '<html lang="nn"' in page.text
    assert "Open round" in page.text and FORM in page.text
    closes = (NOW + timedelta(days=10)).astimezone(__import__("zoneinfo").ZoneInfo("Europe/Oslo"))
    assert f"kl. {closes:%H:%M}" in page.text
    switched = await client.get("/intake/vest?lang=en")
    assert '<html lang="en"' in switched.text and switched.cookies.get("kp_lang") == "en"


async def test_designsystemet_css_is_served_under_the_services_own_path(client) -> None:
    css = await client.get("/intake/static/vendor/designsystemet.css")
    assert css.status_code == 200 and ".ds-error-summary" in css.text
    assert (await client.get("/intake/static/..%2Fcsrf.py")).status_code == 404


async def test_post_without_csrf_token_is_refused_and_stores_nothing(client) -> None:
    refused = await client.post(FORM, data=VALID)
    assert refused.status_code == 403
    assert "Skjemaet har gått ut" in refused.text
    assert await stored(client) == 0


async def test_missing_fields_come_back_with_an_error_summary_linking_to_each_field(client) -> None:
    token = await csrf_token(client)
    page = await client.post(FORM, data={"csrf_token": token, "title": "Hei", "email": "not-an-address"})
    assert page.status_code == 422
    start = page.text.index('class="ds-error-summary"')
    summary = page.text[start:page.text.index("</ul>", start)]
    for field_id in ("f-title", "f-population", "f-organisation", "f-email", "f-consent"):
        assert f'href="#{field_id}"' in summary
        assert f'id="{field_id}"' in page.text
    assert "Må ha minst 5 teikn" in page.text
    assert 'aria-describedby="f-title-description f-title-error" aria-invalid="true"' in page.text
    assert await stored(client) == 0


async def test_valid_proposal_redirects_to_a_receipt_and_a_public_status_without_personal_data(client) -> None:
    token = await csrf_token(client)
    response = await client.post(FORM, data={**VALID, "csrf_token": token, "assessment.nytte": "4"})
    assert response.status_code == 303, response.text
    receipt = await client.get(response.headers["location"])
    reference = re.search(r"VEST-\d{4}-\d{4}", receipt.text).group(0)
    assert f'href="/intake/p/{reference}"' in receipt.text
    status = await client.get(f"/intake/p/{reference}")
    assert status.status_code == 200 and "Motteke" in status.text
    assert "Kari" not in status.text and "example.no" not in status.text


async def test_similar_proposals_are_shown_before_submitting_again(client) -> None:
    token = await csrf_token(client)
    assert (await client.post(FORM, data={**VALID, "csrf_token": token})).status_code == 303
    check = await client.post(FORM, data={**VALID, "csrf_token": token, "step": "check"})
    assert check.status_code == 200 and "VEST-" in check.text and 'value="submit"' in check.text
    assert await stored(client) == 1
    again = await client.post(FORM, data={**VALID, "csrf_token": token, "step": "submit", "submission_id": "2"})
    assert again.status_code == 303 and await stored(client) == 2


async def test_a_filled_honeypot_is_never_stored(client) -> None:
    token = await csrf_token(client)
    page = await client.post(FORM, data={**VALID, "csrf_token": token, "website": "http://spam.example"})
    assert page.status_code == 422 and "kunne ikkje sendast" in page.text
    assert await stored(client) == 0


async def test_closed_round_shows_its_dates_and_refuses_proposals(client) -> None:
    page = await client.get("/intake/vest/rounds/closed-round/proposal")
    assert page.status_code == 200 and "tar ikke imot forslag" in page.text and "<form" not in page.text
    token = await csrf_token(client)
    refused = await client.post("/intake/vest/rounds/closed-round/proposal", data={**VALID, "csrf_token": token})
    assert refused.status_code == 409
    assert await stored(client) == 0


async def test_too_many_posts_from_one_client_get_429_in_the_users_language(client) -> None:
    codes = [(await client.post(FORM, data={"title": "x"})).status_code for _ in range(6)]
    assert codes[:5] == [403] * 5 and codes[5] == 429
    page = await client.post(FORM + "?lang=nb", data={})
    assert "For mange innsendinger" in page.text and int(page.headers["retry-after"]) >= 1


async def test_too_large_body_is_refused(client) -> None:
    page = await client.post(FORM, data={"background": "x" * 70_000})
    assert page.status_code == 413
