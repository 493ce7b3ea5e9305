"""The secretariat's ingestion pages over ASGI: refusals, a file upload's report per row, and a quarantined row
corrected and replayed into a proposal through the form."""

from __future__ import annotations

import json
import re

from httpx import AsyncClient

from intake.tables import ingest_quarantine
from shared.auth import SESSION_COOKIE, Role, RoleGrant, issue_token
from shared.contracts.ingest import BATCH
from tests.intake.ingestion.conftest import (
    EXAMPLE_CSV,
    count,
    event,
    open_quarantine_count,
    proposal_count,
    region_key,
)

IMPORT = "/intake/vest/import"
QUARANTINE = "/intake/vest/quarantine"


def sign_in(client: AsyncClient, secret: str, region: str = "vest", role: Role = Role.SECRETARIAT) -> None:
    token = issue_token(secret, f"secretariat-{region}", (RoleGrant(role, region),), 600)
    client.cookies.set(SESSION_COOKIE, token)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


async def upload(client: AsyncClient, content: bytes, name: str = "proposals.csv") -> tuple[int, str]:
    token = csrf_of((await client.get(IMPORT + "?lang=nb")).text)
    response = await client.post(IMPORT, data={"csrf_token": token}, files={"file": (name, content, "text/csv")})
    return response.status_code, response.text


def outcomes(html: str) -> list[str]:
    return re.findall(r'<td data-outcome="([a-z]+)">', html)


async def test_the_pages_refuse_a_visitor_without_a_session_and_another_regions_secretariat(ingest, ingest_settings):
    for path in (IMPORT, QUARANTINE, f"{QUARANTINE}/some-id"):
        refused = await ingest.get(path + "?lang=nb")
        assert refused.status_code == 401 and "Du må logge inn" in refused.text
    assert (await ingest.post(IMPORT, files={"file": ("p.csv", b"x")})).status_code == 401

    sign_in(ingest, ingest_settings.common.auth_secret, region="nord")
    for path in (IMPORT, QUARANTINE):
        refused = await ingest.get(path + "?lang=nb")
        assert refused.status_code == 403 and "Ingen tilgang" in refused.text
    assert await proposal_count(ingest) == 0


async def test_an_upload_without_the_csrf_token_is_refused(ingest, ingest_settings):
    sign_in(ingest, ingest_settings.common.auth_secret)
    await ingest.get(IMPORT)  # the CSRF cookie, but no token in the form
    refused = await ingest.post(IMPORT, files={"file": ("proposals.csv", EXAMPLE_CSV.read_bytes(), "text/csv")})
    assert refused.status_code == 403
    assert await proposal_count(ingest) == 0


async def test_the_example_file_shows_three_accepted_and_two_quarantined_rows(ingest, ingest_settings):
    sign_in(ingest, ingest_settings.common.auth_secret)

    status, html = await upload(ingest, EXAMPLE_CSV.read_bytes())

    assert status == 200, html
    assert outcomes(html) == ["accepted", "accepted", "accepted", "quarantined", "quarantined"]
    counts = dict(re.findall(r'<li data-outcome="([a-z]+)">[^<]*<strong>(\d+)</strong>', html))
    assert counts == {"accepted": "3", "duplicate": "0", "quarantined": "2"}
    assert len(re.findall(r'href="/intake/p/VEST-[^"]+"', html)) == 3  # each reference links to its status page
    assert "proposer_email" not in html and "E-post" in html  # reasons name the field in the user's language
    assert f'href="{QUARANTINE}"' in html
    assert await proposal_count(ingest) == 3 and await open_quarantine_count(ingest) == 2

    status, again = await upload(ingest, EXAMPLE_CSV.read_bytes())  # the same file twice: nothing new
    assert outcomes(again) == ["duplicate", "duplicate", "duplicate", "quarantined", "quarantined"]
    assert await proposal_count(ingest) == 3


async def test_a_missing_or_unreadable_file_names_the_file_field(ingest, ingest_settings):
    sign_in(ingest, ingest_settings.common.auth_secret)
    for content, name in ((b"", "empty.csv"), (b"title;round\nx;y\n", "proposals.csv"), (b"PK\x03\x04junk", "a.xlsx")):
        status, html = await upload(ingest, content, name)
        assert status == 422, html
        assert 'class="ds-error-summary"' in html and 'href="#f-file"' in html and 'aria-invalid="true"' in html
    assert await proposal_count(ingest) == 0


async def test_a_quarantined_row_is_corrected_and_replayed_into_a_proposal(ingest, ingest_settings):
    sign_in(ingest, ingest_settings.common.auth_secret)
    await upload(ingest, EXAMPLE_CSV.read_bytes())
    listing = await ingest.get(QUARANTINE + "?lang=nb")
    assert listing.status_code == 200 and "BGO-2026-0104" in listing.text and "BGO-2026-0105" in listing.text
    entry_url = re.search(rf'href="({QUARANTINE}/[^"]+)">BGO-2026-0104<', listing.text).group(1)  # type: ignore[union-attr]

    page = await ingest.get(entry_url + "?lang=nb")
    assert page.status_code == 200
    assert 'value="not-an-address"' in page.text and 'value="Beboere i sykehjem"' not in page.text
    form = dict(re.findall(r'<input class="ds-input" type="(?:text|email)" id="[^"]+" name="([^"]+)" value="([^"]*)"',
                           page.text))
    form |= {name: value.strip() for name, value in
             re.findall(r'<textarea[^>]* name="([^"]+)"[^>]*>([^<]*)</textarea>', page.text)}
    assert form["proposer_email"] == "not-an-address" and form["population"] == "Beboere i sykehjem"
    token = csrf_of(page.text)

    still_wrong = await ingest.post(entry_url, data={**form, "consent": "yes", "csrf_token": token, "action": "save"})
    assert still_wrong.status_code == 422 and 'href="#f-title"' in still_wrong.text

    fixed = {**form, "title": "Kostveileder i sykehjem", "proposer_email": "per.hansen@example.no", "consent": "yes"}
    saved = await ingest.post(entry_url, data={**fixed, "csrf_token": token, "action": "save"})
    assert saved.status_code == 303 and saved.headers["location"].endswith("?done=saved")

    replayed = await ingest.post(entry_url, data={**fixed, "csrf_token": token, "action": "replay"})
    assert replayed.status_code == 303, replayed.text
    done = await ingest.get(replayed.headers["location"] + "&lang=nb")
    reference = re.search(r'href="/intake/p/(VEST-[^"]+)"', done.text)
    assert reference and "tatt imot som forslag" in done.text and 'name="action"' not in done.text
    assert await proposal_count(ingest) == 4 and await open_quarantine_count(ingest) == 1
    assert await count(ingest, ingest_quarantine, status="resolved") == 1
    resolved = await ingest.get(QUARANTINE + "?status=resolved&lang=nb")
    assert "BGO-2026-0104" in resolved.text and "BGO-2026-0105" not in resolved.text


async def test_the_quarantine_is_paged_by_fifty_and_the_api_pages_too(ingest, ingest_settings, secretariat):
    batch = [event(f"BGO-Q{i:03d}", title="x") for i in range(55)]  # each quarantined: the title is too short
    response = await ingest.post("/api/intake/v1/ingest/vest/events", content=json.dumps(batch),
                                 headers={**region_key(), "Content-Type": BATCH})
    assert response.status_code == 200 and response.json()["quarantined"] == 55
    sign_in(ingest, ingest_settings.common.auth_secret)
    first = (await ingest.get(QUARANTINE + "?lang=nb")).text
    second = (await ingest.get(QUARANTINE + "?lang=nb&page=2")).text
    assert "Viser 1–50 av 55" in first and "Viser 51–55 av 55" in second
    listed = re.findall(r">(BGO-Q\d{3})</a>", first) + re.findall(r">(BGO-Q\d{3})</a>", second)
    assert sorted(listed) == [f"BGO-Q{i:03d}" for i in range(55)]
    assert 'href="/intake/vest/quarantine?status=open&amp;page=2"' in first
    api = await ingest.get("/api/intake/v1/ingest/vest/quarantine", params={"size": 20, "page": 3},
                           headers=secretariat())
    assert len(api.json()) == 15
