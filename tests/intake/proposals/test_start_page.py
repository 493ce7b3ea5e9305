"""`/`: the page a person starts from — every region's open rounds, sign-in for staff, the APIs for developers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from httpx import AsyncClient

from intake.rounds import service as round_service
from intake.rounds.model import Round
from tests.intake.helpers import uow_for


async def test_the_start_page_offers_each_open_round_and_nothing_closed(intake: AsyncClient) -> None:
    now = datetime.now(UTC)
    await round_service.save_round(
        Round("nord-open", "nord", "Nord våren", now - timedelta(days=1), now + timedelta(days=3)), uow_for(intake)
    )

    page = await intake.get("/", params={"lang": "nn"})

    assert page.status_code == 200
    assert '<html lang="nn"' in page.text
    assert 'href="/intake/vest/rounds/open-round/proposal"' in page.text
    assert 'href="/intake/nord/rounds/nord-open/proposal"' in page.text
    assert "closed-round" not in page.text and "planned-round" not in page.text
    assert "Foreslå eit spørsmål" in page.text


async def test_the_start_page_links_staff_sign_in_and_every_api(intake: AsyncClient) -> None:
    page = await intake.get("/", params={"lang": "en"})

    assert 'href="/registry/sign-in"' in page.text
    for service in ("intake", "scoring", "ordering", "registry", "notify"):
        assert f'href="/api/{service}/docs"' in page.text
    assert "Propose a question" in page.text
