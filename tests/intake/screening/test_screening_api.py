"""The screening API on SQLite with the in-memory broker: state changes, their history, events and notices."""

from __future__ import annotations

import json

import pytest

from shared.auth import Role
from shared.contracts.subjects import (
    PROPOSAL_CARRIED_OVER,
    PROPOSAL_CLASSIFIED,
    PROPOSAL_MERGED,
    PROPOSAL_SCREENED,
    PROPOSAL_SPLIT,
    PROPOSAL_SUBMITTED,
    STATUS_NOTICE_REQUESTED,
)
from tests.intake.helpers import outbox_rows
from tests.intake.screening.conftest import API, events_of

SECRET_NOTE = "Ring kommunen: mogleg duplikat av Os-forslaget"


async def screen(intake, headers, proposal_id, **body):
    return await intake.post(f"{API}/proposals/{proposal_id}/screen", json=body, headers=headers)


async def public(intake, reference):
    response = await intake.get(f"/api/intake/v1/proposals/by-reference/{reference}")
    assert response.status_code == 200
    return response.json()


async def test_accepting_writes_history_publishes_screened_and_tells_the_proposer(intake, secretariat, submit):
    created = await submit()
    response = await screen(intake, secretariat, created["id"], status="accepted", note="Godt avgrensa")
    assert response.status_code == 200, response.text
    assert response.json() == {"proposal_id": created["id"], "reference": created["reference"],
                               "status": "accepted", "previous_status": "submitted"}

    [event] = await events_of(intake, PROPOSAL_SCREENED.type)
    assert event["subject"] == created["id"]
    assert event["data"]["status"] == "accepted" and event["data"]["previous_status"] == "submitted"
    assert event["data"]["round_id"] == "open-round" and event["data"]["municipality_number"] == "4601"
    [notice] = await events_of(intake, STATUS_NOTICE_REQUESTED.type)
    assert notice["data"]["cause_event_id"] == event["id"]
    assert notice["data"]["recipient"]["email"] == "kari.nordmann@example.no"
    assert notice["data"]["status"] == "accepted" and notice["data"]["note"] == "Godt avgrensa"
    rows = {r["event_id"]: r for r in await outbox_rows(intake)}
    assert rows[notice["id"]]["stream"] == "KP_CONTACTS" and rows[event["id"]]["stream"] == "KP_INTAKE"
    assert "Kari" not in rows[event["id"]]["payload"] and "example.no" not in rows[event["id"]]["payload"]

    status = await public(intake, created["reference"])
    assert status["status"] == "accepted"
    assert [(h["status"], h["note"]) for h in status["history"]] == [("submitted", ""), ("accepted", "Godt avgrensa")]


async def test_a_rejection_without_a_reason_names_the_field_and_writes_nothing(intake, secretariat, submit):
    created = await submit()
    before = len(await outbox_rows(intake))
    response = await screen(intake, secretariat, created["id"], status="rejected")
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    [error] = response.json()["errors"]
    assert error["field"] == "reason" and error["rule"] == "reason-required"
    assert len(await outbox_rows(intake)) == before
    assert (await public(intake, created["reference"]))["status"] == "submitted"


async def test_a_rejection_reason_is_public_and_reaches_the_proposer(intake, secretariat, submit):
    created = await submit()
    response = await screen(intake, secretariat, created["id"], status="rejected", reason="Ikkje kommunalt ansvar")
    assert response.status_code == 200
    assert (await public(intake, created["reference"]))["history"][-1]["note"] == "Ikkje kommunalt ansvar"
    [notice] = await events_of(intake, STATUS_NOTICE_REQUESTED.type)
    assert notice["data"]["note"] == "Ikkje kommunalt ansvar"


async def test_an_answer_by_existing_knowledge_needs_a_link_and_carries_it(intake, secretariat, submit):
    created = await submit()
    missing = await screen(intake, secretariat, created["id"], status="answered_by_existing")
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "link"
    bad = await screen(intake, secretariat, created["id"], status="answered_by_existing", link="ikkje ei lenke")
    assert bad.json()["errors"][0]["rule"] == "link-invalid"
    link = "https://www.fhi.no/publ/2019/miljoterapi-demens/"
    ok = await screen(intake, secretariat, created["id"], status="answered_by_existing", link=link)
    assert ok.status_code == 200
    [event] = await events_of(intake, PROPOSAL_SCREENED.type)
    assert event["data"]["link"] == link
    assert link in (await public(intake, created["reference"]))["history"][-1]["note"]


async def test_a_move_the_state_machine_refuses_is_a_conflict_naming_the_states(intake, secretariat, submit):
    created = await submit()
    await screen(intake, secretariat, created["id"], status="rejected", reason="Utanfor mandatet")
    response = await screen(intake, secretariat, created["id"], status="accepted")
    assert response.status_code == 409
    body = response.json()
    assert body["type"].endswith("/transition-not-allowed")
    assert body["errors"][0]["field"] == "status"
    assert body["current"] == "rejected" and body["target"] == "accepted"


async def test_classification_is_checked_against_the_reference_lists_and_announced(intake, secretariat, submit):
    created = await submit()
    bad = await intake.post(f"{API}/proposals/{created['id']}/classify", json={"service_area": "månen"},
                            headers=secretariat)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "service_area"
    ok = await intake.post(f"{API}/proposals/{created['id']}/classify",
                           json={"service_area": "sykehjem", "theme": "demens_behandling"}, headers=secretariat)
    assert ok.status_code == 204, ok.text
    [event] = await events_of(intake, PROPOSAL_CLASSIFIED.type)
    assert event["data"]["service_area"] == "sykehjem" and event["data"]["theme"] == "demens_behandling"
    assert (await public(intake, created["reference"]))["service_area"] == "sykehjem"


async def test_merging_traces_both_ways_and_tells_each_merged_proposer(intake, secretariat, submit):
    target, first, second = await submit(), await submit(), await submit()
    response = await intake.post(
        f"{API}/proposals/{target['id']}/merge", json={"proposal_ids": [first["id"], second["id"]], "note": "Same"},
        headers=secretariat,
    )
    assert response.status_code == 200, response.text
    assert response.json()["merged"] == [first["reference"], second["reference"]]

    for source in (first, second):
        status = await public(intake, source["reference"])
        assert status["status"] == "merged"
        assert status["history"][-1]["related_reference"] == target["reference"]
    target_status = await public(intake, target["reference"])
    assert target_status["status"] == "submitted"
    assert [h["related_reference"] for h in target_status["history"][1:]] == [first["reference"], second["reference"]]

    [event] = await events_of(intake, PROPOSAL_MERGED.type)
    assert event["data"]["target_id"] == target["id"]
    assert [m["proposal_id"] for m in event["data"]["merged"]] == [first["id"], second["id"]]
    notices = await events_of(intake, STATUS_NOTICE_REQUESTED.type)
    assert sorted(n["subject"] for n in notices) == sorted([first["id"], second["id"]])
    assert all(n["data"]["status"] == "merged" and target["reference"] in n["data"]["note"] for n in notices)


async def test_a_proposal_cannot_be_merged_into_itself_or_after_a_rejection(intake, secretariat, submit):
    target, other = await submit(), await submit()
    itself = await intake.post(f"{API}/proposals/{target['id']}/merge", json={"proposal_ids": [target["id"]]},
                               headers=secretariat)
    assert itself.status_code == 422 and itself.json()["errors"][0]["rule"] == "merge-into-itself"
    await screen(intake, secretariat, other["id"], status="rejected", reason="Nei")
    rejected = await intake.post(f"{API}/proposals/{target['id']}/merge", json={"proposal_ids": [other["id"]]},
                                 headers=secretariat)
    assert rejected.status_code == 409 and rejected.json()["errors"][0]["field"] == "proposal_ids"
    unknown = await intake.post(f"{API}/proposals/{target['id']}/merge", json={"proposal_ids": ["nope"]},
                                headers=secretariat)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["rule"] == "unknown-proposal"


async def test_splitting_makes_new_references_traced_both_ways(intake, secretariat, submit):
    original = await submit()
    part = {"title": "Musikkterapi mot uro ved demens",
            "question": {"population": "Bebuarar med demens", "intervention": "Musikkterapi", "outcome": "Mindre uro"}}
    response = await intake.post(f"{API}/proposals/{original['id']}/split",
                                 json={"parts": [part, {**part, "title": "Lysterapi mot uro ved demens"}]},
                                 headers=secretariat)
    assert response.status_code == 201, response.text
    parts = response.json()["parts"]
    assert [p["reference"][-4:] for p in parts] == ["0002", "0003"]

    original_status = await public(intake, original["reference"])
    assert original_status["status"] == "submitted"
    assert [h["related_reference"] for h in original_status["history"][1:]] == [p["reference"] for p in parts]
    for p in parts:
        status = await public(intake, p["reference"])
        assert status["status"] == "submitted" and status["municipality"] == "4601"
        assert status["history"][0]["related_reference"] == original["reference"]
    [split] = await events_of(intake, PROPOSAL_SPLIT.type)
    assert [p["proposal_id"] for p in split["data"]["parts"]] == [p["id"] for p in parts]
    submitted = [e["subject"] for e in await events_of(intake, PROPOSAL_SUBMITTED.type)]
    assert submitted[-2:] == [p["id"] for p in parts]  # downstream services learn the parts' content


async def test_internal_notes_are_for_the_secretariat_only(intake, secretariat, submit):
    created = await submit()
    response = await intake.post(f"{API}/proposals/{created['id']}/notes", json={"text": SECRET_NOTE},
                                 headers=secretariat)
    assert response.status_code == 201 and response.json()["author"] == "sekretariat-vest"
    await screen(intake, secretariat, created["id"], status="accepted")
    detail = (await intake.get(f"{API}/proposals/{created['id']}", headers=secretariat)).json()
    assert [n["text"] for n in detail["notes"]] == [SECRET_NOTE]

    assert SECRET_NOTE not in (await intake.get(f"/api/intake/v1/proposals/by-reference/{created['reference']}")).text
    assert SECRET_NOTE not in (await intake.get(f"/intake/p/{created['reference']}")).text
    assert all(SECRET_NOTE not in r["payload"] for r in await outbox_rows(intake))


async def test_the_detail_shows_the_contact_that_public_views_never_show(intake, secretariat, submit):
    created = await submit()
    detail = await intake.get(f"{API}/proposals/{created['id']}", headers=secretariat)
    assert detail.status_code == 200
    assert detail.json()["contact"] == {"name": "Kari Nordmann", "email": "kari.nordmann@example.no"}
    assert set(detail.json()["allowed_decisions"]) == {
        "needs_completion", "needs_reformulation", "accepted", "answered_by_existing", "rejected"}
    assert "example.no" not in (await intake.get(f"/api/intake/v1/proposals/by-reference/{created['reference']}")).text


async def test_carrying_over_moves_an_accepted_proposal_to_the_next_round_under_its_reference(
    intake, secretariat, submit
):
    created = await submit()
    early = await intake.post(f"{API}/proposals/{created['id']}/carry-over", json={}, headers=secretariat)
    assert early.status_code == 409  # only accepted proposals
    await screen(intake, secretariat, created["id"], status="accepted")
    response = await intake.post(f"{API}/proposals/{created['id']}/carry-over", json={}, headers=secretariat)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "carried_over"

    status = await public(intake, created["reference"])
    assert status["round"] == "planned-round" and status["reference"] == created["reference"]
    assert status["history"][-1]["status"] == "carried_over" and "Open → Planned" in status["history"][-1]["note"]
    [event] = await events_of(intake, PROPOSAL_CARRIED_OVER.type)
    assert event["data"]["from_round_id"] == "open-round" and event["data"]["round_id"] == "planned-round"
    notices = await events_of(intake, STATUS_NOTICE_REQUESTED.type)
    assert notices[-1]["data"]["status"] == "carried_over" and notices[-1]["data"]["cause_event_id"] == event["id"]
    detail = (await intake.get(f"{API}/proposals/{created['id']}", headers=secretariat)).json()
    assert [(c["from_round"], c["to_round"]) for c in detail["carried_over"]] == [("open-round", "planned-round")]
    # Not to an earlier round.
    await screen(intake, secretariat, created["id"], status="accepted")
    back = await intake.post(f"{API}/proposals/{created['id']}/carry-over", json={"round": "closed-round"},
                             headers=secretariat)
    assert back.status_code == 422 and back.json()["errors"][0]["field"] == "round"


async def test_the_queue_filters_and_counts_per_state(intake, secretariat, submit):
    first = await submit(title="Sansehage mot uro ved demens")
    second = await submit(title="Honning på sår i heimetenesta", unit="usht-hordaland", municipality=None)
    await submit(title="Velferdsteknologi i heimetenesta")
    await screen(intake, secretariat, first["id"], status="accepted")
    url = f"{API}/regions/vest/rounds/open-round/proposals"

    everything = (await intake.get(url, headers=secretariat)).json()
    assert everything["total"] == 3 and everything["counts"]["accepted"] == 1 and everything["counts"]["submitted"] == 2
    assert everything["counts"]["rejected"] == 0
    accepted = (await intake.get(url, params={"status": "accepted"}, headers=secretariat)).json()
    assert [p["reference"] for p in accepted["proposals"]] == [first["reference"]]
    assert accepted["counts"]["submitted"] == 2  # counts ignore the state filter
    heime = (await intake.get(url, params={"q": "HEIMETENESTA"}, headers=secretariat)).json()
    assert len(heime["proposals"]) == 2
    unit = (await intake.get(url, params={"unit": "usht-hordaland"}, headers=secretariat)).json()
    assert [p["reference"] for p in unit["proposals"]] == [second["reference"]]
    other_region = await intake.get(f"{API}/regions/nord/rounds/open-round/proposals",
                                    headers=secretariat)
    assert other_region.status_code == 403


ENDPOINTS = [
    ("get", "/regions/vest/rounds/open-round/proposals", None),
    ("get", "/proposals/{id}", None),
    ("post", "/proposals/{id}/screen", {"status": "accepted"}),
    ("post", "/proposals/{id}/classify", {"service_area": "sykehjem"}),
    ("post", "/proposals/{id}/merge", {"proposal_ids": ["x"]}),
    ("post", "/proposals/{id}/split", {"parts": [{"title": "Musikkterapi ved demens", "question": {
        "population": "Bebuarar", "intervention": "Musikkterapi", "outcome": "Mindre uro"}}]}),
    ("post", "/proposals/{id}/notes", {"text": "x"}),
    ("post", "/proposals/{id}/carry-over", {}),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in ENDPOINTS])
async def test_every_endpoint_needs_the_secretariat_role_of_the_region(intake, bearer, submit, *, method, path, body):
    created = await submit()
    url = API + path.format(id=created["id"])
    kwargs = {"json": body} if body is not None else {}
    before = await outbox_rows(intake)

    anonymous = await getattr(intake, method)(url, **kwargs)
    assert anonymous.status_code == 401
    for grants in ([(Role.SECRETARIAT, "nord")], [(Role.COMMITTEE_MEMBER, "vest")], []):
        refused = await getattr(intake, method)(url, headers=bearer(*grants), **kwargs)
        assert refused.status_code == 403, (grants, refused.text)
        assert "example.no" not in refused.text
    assert await outbox_rows(intake) == before


async def test_notices_and_events_never_carry_the_notes_and_domain_events_no_contact(intake, secretariat, submit):
    created = await submit()
    await intake.post(f"{API}/proposals/{created['id']}/notes", json={"text": SECRET_NOTE}, headers=secretariat)
    await screen(intake, secretariat, created["id"], status="needs_completion", request="Kva er samanlikninga?")
    for row in await outbox_rows(intake):
        assert SECRET_NOTE not in row["payload"]
        if row["stream"] != "KP_CONTACTS":
            assert "Kari" not in row["payload"] and "example.no" not in row["payload"], row["event_type"]
    [notice] = await events_of(intake, STATUS_NOTICE_REQUESTED.type)
    assert json.dumps(notice).count("revise?token=") == 1
