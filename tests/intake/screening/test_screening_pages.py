"""The screening pages and the proposer's revise page through HTTP, as a browser without JavaScript uses them."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from shared.auth import SESSION_COOKIE, Role, RoleGrant, issue_token
from shared.contracts.subjects import STATUS_NOTICE_REQUESTED
from tests.intake.screening.conftest import events_of

QUEUE = "/intake/vest/screening"


def log_in(intake, *grants: tuple[Role, str]) -> None:
    secret = intake.app.state.runtime.settings.common.auth_secret
    token = issue_token(secret, "sekretariat-vest", tuple(RoleGrant(r, g) for r, g in grants), 600)
    intake.cookies.set(SESSION_COOKIE, token)


def csrf(page_text: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page_text)
    assert match, page_text[:500]
    return match.group(1)


async def test_the_queue_is_refused_without_the_role_in_the_users_language(intake):
    anonymous = await intake.get(QUEUE + "?lang=nn")
    assert anonymous.status_code == 401 and "Du må logge inn" in anonymous.text
    log_in(intake, (Role.SECRETARIAT, "nord"))
    other = await intake.get(QUEUE + "?lang=en")
    assert other.status_code == 403 and "Forbidden" in other.text and "in this region" in other.text


async def test_the_queue_lists_the_rounds_proposals_with_counts_and_filters(intake, submit):
    first = await submit(title="Sansehage mot uro ved demens")
    await submit(title="Honning på sår i heimetenesta")
    log_in(intake, (Role.SECRETARIAT, "vest"))
    page = await intake.get(QUEUE, params={"round": "open-round", "lang": "nb"})
    assert page.status_code == 200
    assert first["reference"] in page.text and "Honning" in page.text
    assert 'data-state="submitted">2</td>' in page.text
    filtered = await intake.get(QUEUE, params={"round": "open-round", "q": "HONNING"})
    assert first["reference"] not in filtered.text and "Honning" in filtered.text


async def test_screening_on_the_detail_page_shows_errors_then_saves(intake, submit):
    created = await submit()
    log_in(intake, (Role.SECRETARIAT, "vest"))
    detail_url = f"{QUEUE}/proposals/{created['id']}"
    page = await intake.get(detail_url + "?lang=nb")
    assert page.status_code == 200
    assert "Kari Nordmann" in page.text and "kari.nordmann@example.no" in page.text  # the secretariat's view

    refused = await intake.post(f"{detail_url}/screen",
                                data={"csrf_token": csrf(page.text), "status": "rejected", "reason": ""})
    assert refused.status_code == 422
    assert 'href="#f-reason"' in refused.text and "Skriv en begrunnelse" in refused.text
    assert 'aria-invalid="true"' in refused.text

    saved = await intake.post(f"{detail_url}/screen",
                              data={"csrf_token": csrf(page.text), "status": "accepted", "note": "Godt avgrensa"})
    assert saved.status_code == 303 and saved.headers["location"] == f"{detail_url}?done=screen"
    after = await intake.get(saved.headers["location"] + "&lang=nb")
    assert "Vurderingen er lagret" in after.text and 'data-state="accepted"' in after.text


async def test_a_post_without_the_csrf_token_is_refused(intake, submit):
    created = await submit()
    log_in(intake, (Role.SECRETARIAT, "vest"))
    await intake.get(QUEUE)
    response = await intake.post(f"{QUEUE}/proposals/{created['id']}/screen", data={"status": "accepted"})
    assert response.status_code == 403
    status = (await intake.get(f"/api/intake/v1/proposals/by-reference/{created['reference']}")).json()
    assert status["status"] == "submitted"


async def test_merge_notes_and_carry_over_through_the_forms(intake, submit):
    target, duplicate = await submit(), await submit()
    log_in(intake, (Role.SECRETARIAT, "vest"))
    url = f"{QUEUE}/proposals/{target['id']}"
    token = csrf((await intake.get(url)).text)

    merged = await intake.post(f"{url}/merge", data={"csrf_token": token, "proposal_ids": [duplicate["id"]]})
    assert merged.status_code == 303, merged.text
    noted = await intake.post(f"{url}/notes", data={"csrf_token": token, "note_text": "Berre for oss"})
    assert noted.status_code == 303
    page = (await intake.get(url)).text
    assert duplicate["reference"] in page and "Berre for oss" in page
    assert "Berre for oss" not in (await intake.get(f"/intake/p/{target['reference']}")).text

    await intake.post(f"{url}/screen", data={"csrf_token": token, "status": "accepted"})
    carried = await intake.post(f"{url}/carry-over", data={"csrf_token": token, "to_round": "planned-round"})
    assert carried.status_code == 303
    status = (await intake.get(f"/api/intake/v1/proposals/by-reference/{target['reference']}")).json()
    assert status["status"] == "carried_over" and status["round"] == "planned-round"


async def test_split_through_the_form_names_the_part_fields_on_errors(intake, submit):
    created = await submit()
    log_in(intake, (Role.SECRETARIAT, "vest"))
    url = f"{QUEUE}/proposals/{created['id']}"
    token = csrf((await intake.get(url + "?lang=nb")).text)
    refused = await intake.post(f"{url}/split?lang=nb", data={"csrf_token": token, "part1.title": "Kort"})
    assert refused.status_code == 422 and 'href="#f-part1-title"' in refused.text
    assert "Nytt forslag 1: Kort tittel" in refused.text
    done = await intake.post(f"{url}/split", data={
        "csrf_token": token, "part1.title": "Musikkterapi mot uro", "part1.population": "Bebuarar med demens",
        "part1.intervention": "Musikkterapi", "part1.outcome": "Mindre uro",
    })
    assert done.status_code == 303
    assert "-0002" in (await intake.get(url)).text


async def test_the_proposer_revises_through_the_link_and_keeps_the_reference(intake, submit):
    created = await submit()
    log_in(intake, (Role.SECRETARIAT, "vest"))
    url = f"{QUEUE}/proposals/{created['id']}"
    token = csrf((await intake.get(url)).text)
    await intake.post(f"{url}/screen", data={"csrf_token": token, "status": "needs_reformulation",
                                             "request": "Avgrens til éin intervensjon"})
    intake.cookies.delete(SESSION_COOKIE)  # the proposer has no session
    link = (await events_of(intake, STATUS_NOTICE_REQUESTED.type))[-1]["data"]["revise_url"]
    path = urlsplit(link).path + "?" + urlsplit(link).query

    page = await intake.get(path)
    assert page.status_code == 200 and '<html lang="nn"' in page.text
    assert "Avgrens til éin intervensjon" in page.text and "Sansehage, musikkterapi og lysterapi" in page.text
    assert "Kari" not in page.text and "example.no" not in page.text
    form = {"csrf_token": csrf(page.text), "title": "Sansehage mot uro ved demens",
            "population": "Bebuarar med demens", "intervention": "Sansehage", "comparison": "",
            "outcome": "Mindre uro", "background": ""}
    short = await intake.post(path, data={**form, "title": "Kort"})
    assert short.status_code == 422 and 'href="#f-title"' in short.text
    sent = await intake.post(path, data=form)
    assert sent.status_code == 303 and sent.headers["location"] == f"/intake/p/{created['reference']}"
    status = await intake.get(sent.headers["location"])
    assert "Sansehage mot uro ved demens" in status.text and "Motteke" in status.text
    used = await intake.get(path)
    assert used.status_code == 409 and "alt sendt inn" in used.text  # in the proposal's language

    token_value = parse_qs(urlsplit(link).query)["token"][0]
    bad = await intake.get(f"/intake/p/{created['reference']}/revise?token={token_value[:-2]}xx")
    assert bad.status_code == 403 and "Lenka verkar ikkje" in bad.text


async def test_the_public_status_page_links_a_merged_proposal_to_its_target(intake, submit, secretariat):
    target, duplicate = await submit(), await submit()
    response = await intake.post(f"/api/intake/v1/screening/proposals/{target['id']}/merge",
                                 json={"proposal_ids": [duplicate["id"]]}, headers=secretariat)
    assert response.status_code == 200
    page = await intake.get(f"/intake/p/{duplicate['reference']}")
    assert f'href="/intake/p/{target["reference"]}"' in page.text
    back = await intake.get(f"/intake/p/{target['reference']}")
    assert f'href="/intake/p/{duplicate["reference"]}"' in back.text
