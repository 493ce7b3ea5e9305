"""The secretariat's round pages: only the region's secretariat; a round created through the form is the API's
round (its window read in Oslo time); a broken rule comes back as an error summary naming the field; editing."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from shared.auth import Role, RoleGrant, issue_token

LIST = "/intake/vest/rounds"
NEW = "/intake/vest/rounds/new"
FORM = {
    "id": "vest-2027-host", "name": "Innspillsrunde høsten 2027", "opens_date": "2027-09-01", "opens_time": "08:00",
    "closes_date": "2027-09-30", "closes_time": "15:00", "time_zone": "Europe/Oslo", "default_language": "nn",
    "committee_meeting_on": "2027-10-14", "decision_on": "2027-10-28", "final_report_on": "2028-03-01",
    "criteria_set": "prioritering", "capacity_note": "To oppsummeringer",
}


def session(intake, *grants: tuple[Role, str]) -> dict[str, str]:
    secret = intake.app.state.runtime.settings.common.auth_secret
    return {"kp_session": issue_token(secret, "sekr-1", tuple(RoleGrant(r, g) for r, g in grants), 600)}


def secretariat(intake) -> dict[str, str]:
    return session(intake, (Role.SECRETARIAT, "vest"))


async def post_form(intake, path: str, data: dict[str, str], cookies: dict[str, str]):
    page = await intake.get(path, cookies=cookies)
    assert page.status_code == 200, page.text[:300]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    csrf_cookies = {**cookies, **dict(intake.cookies)}
    return await intake.post(path, data={**data, "csrf_token": token.group(1)}, cookies=csrf_cookies)


async def test_the_round_pages_are_for_the_regions_secretariat(intake):
    anonymous = await intake.get(LIST + "?lang=nb")
    assert anonymous.status_code == 401 and "Du må logge inn" in anonymous.text
    other_region = await intake.get(NEW + "?lang=en", cookies=session(intake, (Role.SECRETARIAT, "nord")))
    assert other_region.status_code == 403 and "Forbidden" in other_region.text
    committee = await intake.get("/intake/vest/rounds/open-round/edit",
                                 cookies=session(intake, (Role.COMMITTEE_MEMBER, "vest")))
    assert committee.status_code == 403
    posted = await intake.post(NEW, data=FORM, cookies=session(intake, (Role.SECRETARIAT, "nord")))
    assert posted.status_code == 403
    assert (await intake.get("/api/intake/v1/rounds/vest-2027-host")).status_code == 404


async def test_the_list_shows_the_regions_rounds_with_links(intake):
    page = await intake.get(LIST + "?lang=nb", cookies=secretariat(intake))
    assert page.status_code == 200
    for name in ("Open", "Closed", "Planned"):
        assert f'<th scope="row">{name}</th>' in page.text
    assert 'href="/intake/vest/rounds/new"' in page.text and 'href="/intake/vest/rounds/open-round/edit"' in page.text
    assert 'data-status="open">Åpen' in page.text
    assert "<td>Prioriteringskriteriene: nytte, ressurser og alvorlighet</td>" in page.text
    queue = await intake.get("/intake/vest/screening?lang=nb", cookies=secretariat(intake))
    assert 'href="/intake/vest/rounds"' in queue.text


async def test_a_round_created_through_the_page_is_the_apis_round(intake):
    cookies = secretariat(intake)
    created = await post_form(intake, NEW + "?lang=nb", FORM, cookies)
    assert created.status_code == 303
    assert created.headers["location"] == "/intake/vest/rounds?done=created&round=vest-2027-host"

    api = (await intake.get("/api/intake/v1/rounds/vest-2027-host")).json()
    # 08:00 in Oslo in September (UTC+2) is 06:00 UTC.
    assert datetime.fromisoformat(api["opens_at"]) == datetime(2027, 9, 1, 6, tzinfo=UTC)
    assert datetime.fromisoformat(api["closes_at"]) == datetime(2027, 9, 30, 13, tzinfo=UTC)
    assert (api["region"], api["default_language"], api["criteria_set"]) == ("vest", "nn", "prioritering")
    assert (api["committee_meeting_on"], api["final_report_on"]) == ("2027-10-14", "2028-03-01")
    assert api["capacity_note"] == "To oppsummeringer"

    listed = await intake.get(created.headers["location"] + "&lang=nb", cookies=cookies)
    assert "Runden «Innspillsrunde høsten 2027» er opprettet." in listed.text
    assert "1. september 2027 kl. 08:00" in listed.text  # the window in Oslo time

    again = await post_form(intake, NEW + "?lang=nb", FORM, cookies)
    assert again.status_code == 422
    assert "Kode for runden: Det finnes allerede en runde med denne koden" in again.text


async def test_closing_before_opening_comes_back_with_an_error_summary_naming_the_field(intake):
    broken = FORM | {"closes_date": "2027-08-01", "name": "", "decision_on": "not a date"}
    response = await post_form(intake, NEW + "?lang=nb", broken, secretariat(intake))
    assert response.status_code == 422
    summary = response.text.split('class="ds-error-summary"')[1].split("</div>")[0]
    assert '<a class="ds-link" href="#f-closes_date">Stenger: Runden må stenge etter at den åpner</a>' in summary
    assert 'href="#f-name">Navn: Fyll ut feltet</a>' in summary
    assert 'href="#f-decision_on">Vedtak i styringsgruppen: Må være en dato (ÅÅÅÅ-MM-DD)</a>' in summary
    # Each field carries its own message, tied to it, and keeps what was typed.
    assert 'id="f-closes_date-error">Runden må stenge etter at den åpner</p>' in response.text
    assert 'aria-describedby="f-closes_date-error" aria-invalid="true"' in response.text
    assert 'value="2027-08-01"' in response.text
    assert (await intake.get("/api/intake/v1/rounds/vest-2027-host")).status_code == 404

    english = await post_form(intake, NEW + "?lang=en", FORM | {"time_zone": "Mars/Olympus"}, secretariat(intake))
    assert english.status_code == 422
    assert "Time zone: Unknown time zone (use e.g. Europe/Oslo)" in english.text


async def test_the_secretariat_edits_a_round_in_its_own_time_zone(intake):
    cookies = secretariat(intake)
    assert (await post_form(intake, NEW, FORM, cookies)).status_code == 303
    edit = "/intake/vest/rounds/vest-2027-host/edit"
    page = await intake.get(edit + "?lang=nb", cookies=cookies)
    assert 'name="opens_time" value="08:00"' in page.text and 'name="closes_date" value="2027-09-30"' in page.text
    assert 'name="id"' not in page.text  # the id stays

    invalid = await post_form(intake, edit + "?lang=nb", FORM | {"decision_on": "2027-10-01"}, cookies)
    assert invalid.status_code == 422
    assert "Vedtak i styringsgruppen: Datoen kan ikke være før møte i bestillerutvalget (2027-10-14)" in invalid.text

    changed = FORM | {"name": "Innspillsrunde hausten 2027", "closes_date": "2027-10-05", "closes_time": "12:00"}
    saved = await post_form(intake, edit + "?lang=nb", changed, cookies)
    assert saved.status_code == 303
    assert saved.headers["location"] == "/intake/vest/rounds?done=saved&round=vest-2027-host"
    api = (await intake.get("/api/intake/v1/rounds/vest-2027-host")).json()
    assert api["name"] == "Innspillsrunde hausten 2027"
    assert datetime.fromisoformat(api["closes_at"]) == datetime(2027, 10, 5, 10, tzinfo=UTC)

    elsewhere = await intake.get("/intake/nord/rounds/vest-2027-host/edit",
                                 cookies=session(intake, (Role.SECRETARIAT, "nord")))
    assert elsewhere.status_code == 404
