"""A region's system posts CloudEvents with its key: each is accepted once, or quarantined with reasons."""

from __future__ import annotations

import json
import logging

from httpx import AsyncClient
from sqlalchemy import select

from intake.tables import outbox
from shared.contracts.ingest import BATCH, STRUCTURED
from tests.intake.ingestion.conftest import (
    CLOSED_ROUND,
    event,
    open_quarantine_count,
    proposal_count,
    region_key,
)

URL = "/api/intake/v1/ingest/vest/events"


async def post(client: AsyncClient, body: object, *, media_type: str = STRUCTURED, region: str = "vest"):
    headers = region_key(region) | {"Content-Type": media_type}
    return await client.post(URL, content=json.dumps(body), headers=headers)


async def test_a_good_event_becomes_a_proposal_with_a_reference(ingest):
    response = await post(ingest, event("BGO-1"))

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["outcome"] == "accepted" and body["external_id"] == "BGO-1"
    assert body["reference"].startswith("VEST-") and body["reasons"] == []
    assert response.headers["location"] == f"/api/intake/v1/proposals/{body['proposal_id']}"
    public = await ingest.get(f"/api/intake/v1/proposals/{body['proposal_id']}")
    assert public.status_code == 200 and public.json()["reference"] == body["reference"]
    async with ingest.app.state.runtime.database.reader() as session:
        subjects = [row.subject for row in await session.execute(select(outbox.c.subject))]
    assert "kp.intake.vest.proposal.submitted.v1" in subjects


async def test_the_same_external_id_again_is_the_same_proposal(ingest):
    first = (await post(ingest, event("BGO-2", event_id="e-1"))).json()
    again = await post(ingest, event("BGO-2", event_id="e-2"))
    changed = await post(ingest, event("BGO-2", event_id="e-3", title="Et annet forslag om fall"))

    assert again.status_code == 200 and changed.status_code == 200
    assert again.json()["outcome"] == "duplicate" and again.json()["proposal_id"] == first["proposal_id"]
    assert again.json()["reference"] == first["reference"] and again.json()["content_differs"] is False
    assert changed.json()["proposal_id"] == first["proposal_id"] and changed.json()["content_differs"] is True
    assert await proposal_count(ingest) == 1


async def test_an_invalid_event_is_quarantined_with_reasons_naming_the_fields(ingest, secretariat):
    bad = event("BGO-3", title="Kort", proposer={"name": "Kari Nordmann", "email": "not-an-address"})
    bad["source"] = "/regions/nord/their-system"

    response = await post(ingest, bad)

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"].endswith("/ingest-quarantined") and problem["outcome"] == "quarantined"
    rules = {(e["field"], e["rule"]) for e in problem["errors"]}
    assert ("data.title", "string_too_short") in rules
    assert ("data.proposer.email", "value_error") in rules
    assert problem["quarantine_id"] and problem["external_id"] == "BGO-3"
    assert await proposal_count(ingest) == 0
    listed = (await ingest.get("/api/intake/v1/ingest/vest/quarantine", headers=secretariat("vest"))).json()
    assert [e["id"] for e in listed] == [problem["quarantine_id"]]
    assert "not-an-address" not in json.dumps(listed), "the list leaves the payload out"


async def test_a_region_mismatch_is_a_reason(ingest):
    bad = event("BGO-4")
    bad["source"] = "/regions/nord/their-system"
    response = await post(ingest, bad)
    assert response.status_code == 422
    assert {(e["field"], e["rule"]) for e in response.json()["errors"]} == {("source", "region_mismatch")}


async def test_a_closed_round_is_quarantined_with_the_rule(ingest):
    response = await post(ingest, event("BGO-5", round=CLOSED_ROUND))
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["field"], error["rule"]) == ("round", "round-closed")


async def test_a_batch_reports_each_event(ingest):
    batch = [event("BGO-6", event_id="b-1"), event("BGO-6", event_id="b-2"), event("BGO-7", title="x"), "not an event"]

    response = await post(ingest, batch, media_type=BATCH)

    assert response.status_code == 200, response.text
    body = response.json()
    assert [r["outcome"] for r in body["results"]] == ["accepted", "duplicate", "quarantined", "quarantined"]
    assert (body["accepted"], body["duplicate"], body["quarantined"]) == (1, 1, 2)
    assert body["results"][3]["reasons"][0]["field"] == "<event>"
    assert await proposal_count(ingest) == 1 and await open_quarantine_count(ingest) == 2


async def test_the_same_bad_event_twice_is_one_quarantine_entry(ingest):
    first = (await post(ingest, event("BGO-8", title="x"))).json()
    again = (await post(ingest, event("BGO-8", title="x"))).json()
    assert first["quarantine_id"] == again["quarantine_id"]
    assert await open_quarantine_count(ingest) == 1


async def test_no_key_or_an_unknown_key_is_401_and_another_regions_key_is_403(ingest):
    body = json.dumps(event("BGO-9"))
    missing = await ingest.post(URL, content=body, headers={"Content-Type": STRUCTURED})
    unknown = await ingest.post(URL, content=body, headers={"Content-Type": STRUCTURED, "Authorization": "Bearer nope"})
    other = await ingest.post(URL, content=body, headers={"Content-Type": STRUCTURED} | region_key("nord"))

    assert missing.status_code == 401 and unknown.status_code == 401
    assert other.status_code == 403
    assert other.headers["content-type"].startswith("application/problem+json")
    assert other.json()["type"].endswith("/forbidden")
    assert await proposal_count(ingest) == 0 and await open_quarantine_count(ingest) == 0


async def test_a_body_that_is_not_json_or_of_another_media_type_is_refused(ingest):
    not_json = await ingest.post(URL, content=b"{nope", headers=region_key() | {"Content-Type": STRUCTURED})
    wrong_type = await ingest.post(URL, content=b"a;b", headers=region_key() | {"Content-Type": "text/csv"})
    assert not_json.status_code == 400 and not_json.json()["type"].endswith("/ingest-body-unreadable")
    assert wrong_type.status_code == 415


async def test_logs_name_ids_and_rules_but_no_personal_data(ingest, caplog):
    caplog.set_level(logging.INFO)
    await post(ingest, event("BGO-10", title="x"))
    await post(ingest, event("BGO-11"))
    logged = " ".join(str(record.msg) for record in caplog.records)
    assert "ingest.quarantined" in logged and "ingest.accepted" in logged and "BGO-10" in logged
    assert "kari.nordmann@example.no" not in logged and "Kari Nordmann" not in logged
