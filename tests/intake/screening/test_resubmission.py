"""The proposer's resubmission through the signed link in their notice: same reference, once, until it expires."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

import itsdangerous.timed
from sqlalchemy import update

from intake.screening.links import RevisionLinks
from intake.screening.model import RevisionLinkExpired, RevisionLinkInvalid
from intake.tables import revision_requests
from shared.contracts.subjects import PROPOSAL_RESUBMITTED, STATUS_NOTICE_REQUESTED
from tests.intake.screening.conftest import API, events_of

REVISED = {
    "title": "Miljøterapi mot uro hos sjukeheimsbebuarar med demens",
    "question": {"population": "Sjukeheimsbebuarar med demens og uro", "intervention": "Sansehage",
                 "comparison": "Vanleg oppfølging", "outcome": "Mindre agitasjon målt med CMAI"},
    "background": "Tre sjukeheimar i Bergen vurderer sansehage.",
}


async def send_back(intake, secretariat, proposal_id, status="needs_reformulation"):
    response = await intake.post(f"{API}/proposals/{proposal_id}/screen", headers=secretariat,
                                 json={"status": status, "request": "Avgrens spørsmålet til éin intervensjon"})
    assert response.status_code == 200, response.text
    notice = (await events_of(intake, STATUS_NOTICE_REQUESTED.type))[-1]
    url = notice["data"]["revise_url"]
    return url, parse_qs(urlsplit(url).query)["token"][0]


def revision_url(reference: str) -> str:
    return f"/api/intake/v1/proposals/by-reference/{reference}/revision"


async def test_the_link_opens_the_proposal_and_resubmits_it_under_the_same_reference(intake, secretariat, submit):
    created = await submit()
    url, token = await send_back(intake, secretariat, created["id"])
    assert re.fullmatch(rf"http://127\.0\.0\.1:8000/intake/p/{created['reference']}/revise\?token=[\w.-]+", url)

    opened = await intake.get(revision_url(created["reference"]), params={"token": token})
    assert opened.status_code == 200, opened.text
    body = opened.json()
    assert body["status"] == "needs_reformulation" and body["request"].startswith("Avgrens")
    assert body["title"] == "Miljøterapeutiske tiltak mot uro ved demens"
    assert "Kari" not in opened.text and "example.no" not in opened.text

    response = await intake.post(revision_url(created["reference"]), json={"token": token, **REVISED})
    assert response.status_code == 200, response.text
    assert response.json()["reference"] == created["reference"] and response.json()["status"] == "submitted"

    status = (await intake.get(f"/api/intake/v1/proposals/by-reference/{created['reference']}")).json()
    assert status["id"] == created["id"] and status["title"] == REVISED["title"]
    assert status["question"]["outcome"] == "Mindre agitasjon målt med CMAI"
    assert [h["status"] for h in status["history"]] == ["submitted", "needs_reformulation", "submitted"]
    assert status["history"][-1]["event"] == "resubmitted"
    [event] = await events_of(intake, PROPOSAL_RESUBMITTED.type)
    assert event["data"]["previous_status"] == "needs_reformulation" and event["data"]["title"] == REVISED["title"]
    assert "Kari" not in str(event) and "example.no" not in str(event)
    notice = (await events_of(intake, STATUS_NOTICE_REQUESTED.type))[-1]
    assert notice["data"]["status"] == "submitted" and notice["data"]["cause_event_id"] == event["id"]

    again = await intake.post(revision_url(created["reference"]), json={"token": token, **REVISED})
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "token"


async def test_a_tampered_token_or_another_proposals_reference_is_refused(intake, secretariat, submit):
    created, other = await submit(), await submit()
    _url, token = await send_back(intake, secretariat, created["id"], status="needs_completion")
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    response = await intake.post(revision_url(created["reference"]), json={"token": tampered, **REVISED})
    assert response.status_code == 403 and response.json()["type"].endswith("/revise-link-invalid")
    forged = RevisionLinks("another-secret-of-sufficient-length-0123", "http://x", 60).token("whatever")
    assert (await intake.get(revision_url(created["reference"]), params={"token": forged})).status_code == 403
    elsewhere = await intake.post(revision_url(other["reference"]), json={"token": token, **REVISED})
    assert elsewhere.status_code == 403
    status = (await intake.get(f"/api/intake/v1/proposals/by-reference/{created['reference']}")).json()
    assert status["status"] == "needs_completion" and status["title"] != REVISED["title"]


async def test_an_expired_request_is_refused(intake, secretariat, submit):
    created = await submit()
    _url, token = await send_back(intake, secretariat, created["id"])
    async with intake.app.state.runtime.database.write() as session:
        await session.execute(update(revision_requests).values(expires_at=revision_requests.c.requested_at))
    response = await intake.post(revision_url(created["reference"]), json={"token": token, **REVISED})
    assert response.status_code == 410 and response.json()["errors"][0]["field"] == "token"


def test_a_token_older_than_the_link_lifetime_is_expired_even_with_a_valid_signature(monkeypatch):
    links = RevisionLinks("a-secret-of-sufficient-length-0123456789", "http://x", 60)
    token = links.token("request-1")
    assert links.request_id(token) == "request-1"

    class Later:
        @staticmethod
        def time() -> float:
            return time.time() + 61 * 24 * 3600

    monkeypatch.setattr(itsdangerous.timed, "time", Later)
    try:
        links.request_id(token)
    except RevisionLinkExpired:
        pass
    else:
        raise AssertionError("a 61-day-old token must be expired")
    try:
        links.request_id("not-a-token")
    except RevisionLinkInvalid:
        pass
    else:
        raise AssertionError("garbage must be invalid")


async def test_a_new_screening_decision_supersedes_the_earlier_link(intake, secretariat, submit):
    created = await submit()
    _url, first = await send_back(intake, secretariat, created["id"], status="needs_completion")
    await intake.post(f"{API}/proposals/{created['id']}/screen", headers=secretariat,
                      json={"status": "rejected", "reason": "Svarte ikkje"})
    response = await intake.get(revision_url(created["reference"]), params={"token": first})
    assert response.status_code == 409
