"""The screening queue over the autumn-2019 round (66 proposals): sorted by a column in SQL, in pages of 50, with
the filters kept across pages; on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from httpx import ASGITransport, AsyncClient

from intake.app import create_app
from intake.settings import IntakeSettings
from shared.auth import SESSION_COOKIE, Role, RoleGrant, issue_token
from shared.settings import CommonSettings
from tests.intake.helpers import BACKENDS

QUEUE = "/intake/vest/screening"
ROW = re.compile(
    r'<tr>\s*<td class="kp-nowrap"><a class="ds-link" href="[^"]+">(?P<reference>[^<]+)</a></td>\s*'
    r'<td>(?P<title>[^<]*)</td>\s*'
    r'<td data-state="[a-z_]+">(?P<state>[^<]*)</td>\s*<td>(?P<origin>[^<]*)</td>\s*<td>(?P<area>[^<]*)</td>'
)
# The 2019 round's proposers in Norwegian alphabetical order (Os before Osterøy, the unit by its name).
ORIGINS = ["Bergen", "Meland", "Os", "Osterøy", "USHT Hordaland", "Vaksdal"]


@pytest.fixture
async def staff(database_url: str, tmp_path: Path) -> AsyncIterator[AsyncClient]:
    settings = IntakeSettings(database_url=database_url, common=CommonSettings(env="test", var_dir=tmp_path))
    app = create_app(settings)
    token = issue_token(settings.common.auth_secret, "sekr-1", (RoleGrant(Role.SECRETARIAT, "vest"),), 600)
    async with AsyncClient(transport=ASGITransport(app), base_url="http://intake.test",
                           cookies={SESSION_COOKIE: token}) as http:
        yield http
    await app.state.runtime.database.dispose()


async def rows(staff: AsyncClient, **params: str) -> tuple[list[dict[str, str]], str]:
    page = await staff.get(QUEUE, params={"round": "vest-2019-haust", "lang": "nb", **params})
    assert page.status_code == 200
    showing = re.search(r"Viser (\d+–\d+ av \d+)", page.text)
    return [m.groupdict() for m in ROW.finditer(page.text)], showing.group(1) if showing else ""


@BACKENDS
async def test_the_queue_sorts_by_organisation_and_pages_by_fifty(staff: AsyncClient) -> None:
    first, showing = await rows(staff, sort="organisation:asc")
    second, rest = await rows(staff, sort="organisation:asc", page="2")
    assert (len(first), showing, len(second), rest) == (50, "1–50 av 66", 16, "51–66 av 66")
    origins = [r["origin"] for r in first + second]
    assert origins == sorted(origins, key=ORIGINS.index)
    assert len({r["reference"] for r in first + second}) == 66
    newest_first, _ = await rows(staff, sort="organisation:desc")
    assert newest_first[0]["origin"] == "Vaksdal" and newest_first[-1]["origin"] != "Vaksdal"


@BACKENDS
async def test_sorting_by_reference_title_or_service_area_keeps_the_filters(staff: AsyncClient) -> None:
    by_reference, _ = await rows(staff, sort="reference:desc")
    assert by_reference[0]["reference"] == "VEST-2019-0066"
    titles, _ = await rows(staff, sort="title:asc", q="sykehjem")
    assert 0 < len(titles) < 50 and [t["title"].lower() for t in titles] == sorted(t["title"].lower() for t in titles)
    areas, showing = await rows(staff, sort="service_area:asc", service_area="sykehjem")
    assert showing == "1–10 av 10" and {a["area"] for a in areas} == {"Sykehjem"}


async def test_a_page_past_the_last_shows_the_last_and_the_links_keep_filter_and_order(staff: AsyncClient) -> None:
    last, showing = await rows(staff, sort="organisation:asc", page="9")
    assert showing == "51–66 av 66" and len(last) == 16
    page = await staff.get(QUEUE, params={"round": "vest-2019-haust", "sort": "organisation:desc"})
    assert 'href="/intake/vest/screening?round=vest-2019-haust&amp;sort=organisation%3Adesc&amp;page=2"' in page.text
    assert 'aria-sort="descending"' in page.text and 'value="organisation:asc"' in page.text
