"""Intake's API on SQLite with FastStream's in-memory broker: what a proposer and the other services observe."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from faststream.nats import TestNatsBroker
from httpx import ASGITransport, AsyncClient
from sqlalchemy import select

from intake.adapters.tables import inbox, outbox
from intake.adapters.uow import IntakeUnitOfWork
from intake.app import MIGRATIONS, create_app
from intake.domain.model import Round
from intake.service import use_cases
from intake.settings import IntakeSettings
from shared.contracts.subjects import PROPOSAL_SUBMITTED, RECEIPT_REQUESTED
from shared.db import migrate_async
from shared.settings import CommonSettings

NOW = datetime.now(UTC)
PROPOSAL = {
    "region": "vest",
    "round": "open-round",
    "municipality": "4601",
    "title": "Miljøterapeutiske tiltak mot uro ved demens",
    "question": {
        "population": "Pasientar med demens i sjukeheim",
        "intervention": "Sansehage, musikkterapi og lysterapi",
        "comparison": "Medikamentell behandling",
        "outcome": "Mindre uro og agitasjon",
    },
    "background": "Fleire sjukeheimar vurderer sansehage.",
    "proposer": {"name": "Kari Nordmann", "email": "kari.nordmann@example.no"},
    "language": "nn",
}


@pytest.fixture
async def intake(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path}/intake.db"
    await migrate_async(MIGRATIONS, url)
    app = create_app(IntakeSettings(database_url=url, common=CommonSettings(env="test", var_dir=tmp_path)))
    runtime = app.state.runtime
    for round_ in (
        Round("open-round", "vest", "Open", NOW - timedelta(days=10), NOW + timedelta(days=10)),
        Round("closed-round", "vest", "Closed", NOW - timedelta(days=30), NOW - timedelta(days=1)),
        Round("planned-round", "vest", "Planned", NOW + timedelta(days=5), NOW + timedelta(days=30)),
    ):
        await use_cases.save_round(round_, IntakeUnitOfWork(runtime.database, outbox, inbox))
    async with TestNatsBroker(runtime.broker), AsyncClient(transport=ASGITransport(app), base_url="http://t") as client:
        client.app = app  # type: ignore[attr-defined]
        yield client
    await runtime.database.dispose()


async def outbox_rows(client):
    async with client.app.state.runtime.database.reader() as session:
        return (await session.execute(select(outbox).order_by(outbox.c.id))).mappings().all()


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
