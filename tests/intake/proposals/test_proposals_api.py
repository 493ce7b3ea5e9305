"""Intake's proposal API on SQLite with FastStream's in-memory broker: what proposers and other services observe."""

import json

from shared.contracts.subjects import PROPOSAL_SUBMITTED, RECEIPT_REQUESTED
from tests.intake.helpers import NOW, PROPOSAL, outbox_rows, proposal


async def test_submitting_to_an_open_round_gives_a_reference_and_two_outbox_events(intake):
    response = await intake.post("/api/intake/v1/proposals", json=PROPOSAL)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["reference"] == f"VEST-{NOW.year}-0001"
    assert response.headers["location"] == f"/api/intake/v1/proposals/{body['id']}"

    rows = await outbox_rows(intake)
    assert [r["subject"] for r in rows] == [PROPOSAL_SUBMITTED.subject("vest"), RECEIPT_REQUESTED.subject("vest")]
    submitted = json.loads(rows[0]["payload"])
    assert submitted["type"] == PROPOSAL_SUBMITTED.type and submitted["subject"] == body["id"]
    assert submitted["data"]["reference"] == body["reference"]
    assert rows[0]["event_id"] == submitted["id"]


async def test_domain_event_carries_no_personal_data(intake):
    await intake.post("/api/intake/v1/proposals", json=PROPOSAL)
    rows = await outbox_rows(intake)
    domain_event = rows[0]["payload"]
    assert "Kari" not in domain_event and "example.no" not in domain_event
    # Only the contacts-stream message, which notify needs, carries the address.
    assert rows[1]["stream"] == "KP_CONTACTS" and "kari.nordmann@example.no" in rows[1]["payload"]


async def test_public_view_of_a_proposal_has_no_proposer(intake):
    created = (await intake.post("/api/intake/v1/proposals", json=PROPOSAL)).json()
    response = await intake.get(f"/api/intake/v1/proposals/{created['id']}")
    assert response.status_code == 200
    assert response.json()["reference"] == created["reference"]
    assert "Kari" not in response.text and "example.no" not in response.text


async def test_references_count_up_within_the_region_and_year(intake):
    first = (await intake.post("/api/intake/v1/proposals", json=PROPOSAL)).json()
    second = (await intake.post("/api/intake/v1/proposals", json=PROPOSAL)).json()
    assert first["reference"].endswith("-0001") and second["reference"].endswith("-0002")


async def test_same_idempotency_key_returns_the_same_proposal_once(intake):
    headers = {"Idempotency-Key": "double-click-1"}
    first = await intake.post("/api/intake/v1/proposals", json=PROPOSAL, headers=headers)
    again = await intake.post("/api/intake/v1/proposals", json=PROPOSAL, headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json() == first.json()
    assert len(await outbox_rows(intake)) == 2


async def test_idempotency_key_reused_for_other_content_is_a_conflict(intake):
    headers = {"Idempotency-Key": "k-2"}
    await intake.post("/api/intake/v1/proposals", json=PROPOSAL, headers=headers)
    other = await intake.post(
        "/api/intake/v1/proposals", json={**PROPOSAL, "title": "Noko heilt anna"}, headers=headers
    )
    assert other.status_code == 409
    assert other.json()["type"].endswith("/idempotency-key-reused")


async def test_invalid_input_names_each_field_and_rule_in_the_users_language(intake):
    bad = {**PROPOSAL, "municipality": "12", "title": "x", "proposer": {"name": "Kari", "email": "not-an-address"}}
    del bad["question"]
    response = await intake.post("/api/intake/v1/proposals", json=bad, headers={"Accept-Language": "nn"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["title"] == "Ugyldige opplysningar"
    rules = {(e["field"], e["rule"]) for e in problem["errors"]}
    assert ("municipality", "string_pattern_mismatch") in rules
    assert ("title", "string_too_short") in rules
    assert ("question", "missing") in rules
    assert ("proposer.email", "value_error") in rules
    assert await outbox_rows(intake) == []


async def test_closed_round_refuses_with_its_dates(intake):
    response = await intake.post("/api/intake/v1/proposals", json={**PROPOSAL, "round": "closed-round"})
    assert response.status_code == 409
    problem = response.json()
    assert problem["type"].endswith("/round-closed")
    assert "closes_at" in problem and "opens_at" in problem
    assert problem["errors"][0]["field"] == "round"


async def test_round_not_yet_open_refuses(intake):
    response = await intake.post("/api/intake/v1/proposals", json={**PROPOSAL, "round": "planned-round"})
    assert response.status_code == 409
    assert "has not opened yet" in response.json()["detail"]


async def test_unknown_round_is_not_found(intake):
    response = await intake.post("/api/intake/v1/proposals", json={**PROPOSAL, "round": "nope"})
    assert response.status_code == 404
    assert response.json()["type"].endswith("/round-not-found")


async def test_municipality_number_that_no_longer_exists_is_refused(intake):
    response = await intake.post("/api/intake/v1/proposals", json={**PROPOSAL, "municipality": "1256"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "municipality"


async def test_open_rounds_are_listed_by_status(intake):
    response = await intake.get("/api/intake/v1/regions/vest/rounds", params={"status": "open"})
    assert [r["id"] for r in response.json()] == ["open-round"]
    everything = await intake.get("/api/intake/v1/regions/vest/rounds")
    assert {r["id"]: r["status"] for r in everything.json()} == {
        "open-round": "open", "closed-round": "closed", "planned-round": "planned",
    }


async def test_a_municipality_proposal_keeps_its_classification_and_announces_it(intake):
    body = proposal(
        department="Etat for sykehjem", service_area="sykehjem", theme="demens_behandling",
        decision={"text": "Budsjettvedtak om sansehagar", "date": "2026-12-10"},
        self_assessment={"nytte": 4, "ressurser": 2, "alvorlighet": 3},
    )
    created = (await intake.post("/api/intake/v1/proposals", json=body)).json()
    assert created["status"] == "submitted"
    assert created["status_url"] == f"/api/intake/v1/proposals/by-reference/{created['reference']}"

    stored = (await intake.get(f"/api/intake/v1/proposals/{created['id']}")).json()
    assert stored["municipality"] == "4601" and stored["unit"] is None
    assert (stored["department"], stored["service_area"], stored["theme"]) == (
        "Etat for sykehjem", "sykehjem", "demens_behandling",
    )
    assert stored["decision"] == {"text": "Budsjettvedtak om sansehagar", "date": "2026-12-10"}
    assert stored["self_assessment"] == {"nytte": 4, "ressurser": 2, "alvorlighet": 3}

    data = json.loads((await outbox_rows(intake))[0]["payload"])["data"]
    assert data["municipality_number"] == "4601" and data["unit_code"] is None
    assert (data["service_area"], data["theme"], data["decision_on"]) == ("sykehjem", "demens_behandling", "2026-12-10")


async def test_a_unit_proposes_and_v1_readers_see_its_host_municipality(intake):
    body = proposal(unit="usht-hordaland")
    del body["municipality"]
    created = await intake.post("/api/intake/v1/proposals", json=body)
    assert created.status_code == 201, created.text

    stored = (await intake.get(f"/api/intake/v1/proposals/{created.json()['id']}")).json()
    assert stored["unit"] == "usht-hordaland" and stored["municipality"] is None
    # ProposalSubmittedV1 keeps municipality_number required: a unit's event names its host (Bergen).
    data = json.loads((await outbox_rows(intake))[0]["payload"])["data"]
    assert data["municipality_number"] == "4601" and data["unit_code"] == "usht-hordaland"


async def test_municipality_and_unit_together_or_neither_is_refused(intake):
    both = await intake.post("/api/intake/v1/proposals", json=proposal(unit="usht-hordaland"))
    neither = proposal()
    del neither["municipality"]
    none_given = await intake.post("/api/intake/v1/proposals", json=neither)
    for response in (both, none_given):
        assert response.status_code == 422
        assert [(e["field"], e["rule"]) for e in response.json()["errors"]] == [
            ("municipality", "municipality-or-unit")
        ]
    assert await outbox_rows(intake) == []


async def test_unknown_unit_is_refused_naming_unit(intake):
    body = proposal(unit="usht-atlantis")
    del body["municipality"]
    response = await intake.post("/api/intake/v1/proposals", json=body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "unit"


async def test_unknown_theme_is_refused_naming_theme_in_the_users_language(intake):
    response = await intake.post(
        "/api/intake/v1/proposals", json=proposal(theme="astrologi"), headers={"Accept-Language": "nn"}
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"].endswith("/validation") and problem["title"] == "Ugyldige opplysningar"
    assert problem["errors"] == [{"field": "theme", "rule": "unknown-theme", "message": "Ukjent tema"}]
    assert await outbox_rows(intake) == []


async def test_every_broken_domain_rule_is_named_at_once(intake):
    body = proposal(service_area="romfart", theme="astrologi", consent=False, decision={"date": "2026-12-10"})
    response = await intake.post("/api/intake/v1/proposals", json=body, params={"lang": "en"})
    assert response.status_code == 422
    assert {e["field"]: e["rule"] for e in response.json()["errors"]} == {
        "service_area": "unknown-service-area", "theme": "unknown-theme", "consent": "consent-required",
        "decision.text": "decision-text-required",
    }


async def test_self_assessment_out_of_range_names_the_criterion(intake):
    response = await intake.post(
        "/api/intake/v1/proposals", json=proposal(self_assessment={"nytte": 6, "alvorlighet": 3})
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["self_assessment.nytte"]


async def test_self_assessment_against_a_criterion_the_round_does_not_use_is_refused(intake):
    response = await intake.post("/api/intake/v1/proposals", json=proposal(self_assessment={"utbredelse": 3}))
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "self_assessment.utbredelse", "rule": "unknown-criterion",
         "message": "Ikke et kriterium i denne runden"}
    ]


async def test_consent_false_is_refused_naming_consent(intake):
    response = await intake.post("/api/intake/v1/proposals", json=proposal(consent=False))
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "consent", "rule": "consent-required", "message": "Du må samtykke før du kan sende inn"}
    ]
    assert await outbox_rows(intake) == []


async def test_missing_consent_is_refused_naming_consent(intake):
    body = proposal()
    del body["consent"]
    response = await intake.post("/api/intake/v1/proposals", json=body)
    assert response.status_code == 422
    assert ("consent", "missing") in {(e["field"], e["rule"]) for e in response.json()["errors"]}


async def test_a_decision_date_must_be_a_date(intake):
    response = await intake.post(
        "/api/intake/v1/proposals", json=proposal(decision={"text": "Vedtak", "date": "neste haust"})
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "decision.date"


async def test_texts_have_size_limits(intake):
    body = proposal(title="T" * 201, department="D" * 201, background="B" * 10_001)
    body["question"]["outcome"] = "O" * 2001
    response = await intake.post("/api/intake/v1/proposals", json=body)
    assert response.status_code == 422
    fields = {(e["field"], e["rule"]) for e in response.json()["errors"]}
    assert fields >= {
        ("title", "string_too_long"), ("department", "string_too_long"), ("background", "string_too_long"),
        ("question.outcome", "string_too_long"),
    }


async def test_a_body_over_64_kib_is_refused_before_it_is_read(intake):
    response = await intake.post("/api/intake/v1/proposals", json=proposal(background="x" * 70_000))
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("/payload-too-large")
    assert await outbox_rows(intake) == []


async def test_a_chunked_body_over_64_kib_is_refused_too(intake):
    payload = json.dumps(proposal(background="x" * 70_000)).encode()

    async def chunks():
        for start in range(0, len(payload), 8192):
            yield payload[start:start + 8192]

    response = await intake.post(
        "/api/intake/v1/proposals", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


async def test_the_submission_starts_the_proposals_history(intake):
    created = (await intake.post("/api/intake/v1/proposals", json=PROPOSAL)).json()
    status = (await intake.get(created["status_url"])).json()
    assert [(h["event"], h["status"]) for h in status["history"]] == [("submitted", "submitted")]


async def test_idempotency_key_replay_with_the_new_fields_returns_the_same_proposal(intake):
    body = proposal(theme="demens_behandling", self_assessment={"nytte": 5})
    headers = {"Idempotency-Key": "form-42"}
    first = await intake.post("/api/intake/v1/proposals", json=body, headers=headers)
    again = await intake.post("/api/intake/v1/proposals", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    other = await intake.post(
        "/api/intake/v1/proposals", json=proposal(theme="demens_behandling", self_assessment={"nytte": 4}),
        headers=headers,
    )
    assert other.status_code == 409
    assert len(await outbox_rows(intake)) == 2
