"""The region's secretariat sees its quarantine, corrects an entry and replays it; nothing disappears."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from intake.rounds import service as round_service
from intake.rounds.model import Round
from intake.tables import inbox, outbox
from intake.uow import IntakeUnitOfWork
from shared.contracts.ingest import STRUCTURED
from tests.intake.ingestion.conftest import (
    CLOSED_ROUND,
    EXAMPLE_CSV,
    event,
    open_quarantine_count,
    proposal_count,
    region_key,
)

BASE = "/api/intake/v1/ingest/vest/quarantine"


async def quarantine_the_example_file(client, headers) -> dict[int, str]:
    """Upload the example CSV; the quarantine id of each bad row by row number."""
    response = await client.post(
        "/api/intake/v1/ingest/vest/file", files={"file": ("proposals.csv", EXAMPLE_CSV.read_bytes())}, headers=headers
    )
    return {r["row"]: r["quarantine_id"] for r in response.json()["rows"] if r["quarantine_id"]}


async def test_fix_and_replay_makes_the_proposal_and_keeps_the_trace(ingest, secretariat):
    headers = secretariat("vest")
    entry_id = (await quarantine_the_example_file(ingest, headers))[5]

    entry = (await ingest.get(f"{BASE}/{entry_id}", headers=headers)).json()
    assert entry["status"] == "open" and entry["row"] == 5 and entry["kind"] == "row"
    assert entry["payload"]["proposer_email"] == "not-an-address"  # the secretariat sees what came in
    corrected = entry["submission"] | {
        "title": "Kostveileder i sykehjem",
        "proposer": {"name": "Per Hansen", "email": "per.hansen@example.no"},
    }
    stored = await ingest.put(f"{BASE}/{entry_id}", json=corrected, headers=headers)
    assert stored.status_code == 200, stored.text
    assert stored.json()["reasons"] == [] and stored.json()["status"] == "open"

    replayed = await ingest.post(f"{BASE}/{entry_id}/replay", headers=headers)

    assert replayed.status_code == 201, replayed.text
    outcome = replayed.json()
    assert outcome["outcome"] == "accepted" and outcome["reference"].startswith("VEST-")
    assert outcome["quarantine_id"] == entry_id
    assert await proposal_count(ingest) == 4 and await open_quarantine_count(ingest) == 1
    resolved = (await ingest.get(f"{BASE}/{entry_id}", headers=headers)).json()
    assert resolved["status"] == "resolved" and resolved["proposal_id"] == outcome["proposal_id"]
    assert [(h["action"], h["outcome"]) for h in resolved["history"]] == [
        ("quarantined", "quarantined"), ("corrected", "valid"), ("replayed", "accepted"),
    ]
    assert resolved["history"][1]["replaced_payload"]["proposer_email"] == "not-an-address"
    everything = (await ingest.get(BASE, params={"status": "all"}, headers=headers)).json()
    assert {e["id"]: e["status"] for e in everything}[entry_id] == "resolved" and len(everything) == 2


async def test_replaying_without_a_fix_stays_quarantined_with_the_reasons(ingest, secretariat):
    headers = secretariat("vest")
    entry_id = (await quarantine_the_example_file(ingest, headers))[6]

    replayed = await ingest.post(f"{BASE}/{entry_id}/replay", headers=headers)

    assert replayed.status_code == 422
    assert {e["rule"] for e in replayed.json()["errors"]} == {"unknown-municipality", "consent-required"}
    entry = (await ingest.get(f"{BASE}/{entry_id}", headers=headers)).json()
    assert entry["status"] == "open"
    assert [h["action"] for h in entry["history"]] == ["quarantined", "replayed"]


async def test_a_correction_that_is_still_wrong_says_why(ingest, secretariat):
    headers = secretariat("vest")
    entry_id = (await quarantine_the_example_file(ingest, headers))[6]
    entry = (await ingest.get(f"{BASE}/{entry_id}", headers=headers)).json()

    corrected = entry["submission"] | {"municipality": "4631"}
    stored = await ingest.put(f"{BASE}/{entry_id}", json=corrected, headers=headers)

    assert {(r["field"], r["rule"]) for r in stored.json()["reasons"]} == {("consent", "consent-required")}


async def test_replaying_a_resolved_entry_is_a_conflict(ingest, secretariat):
    headers = secretariat("vest")
    entry_id = (await quarantine_the_example_file(ingest, headers))[6]
    entry = (await ingest.get(f"{BASE}/{entry_id}", headers=headers)).json()
    await ingest.put(f"{BASE}/{entry_id}", json=entry["submission"] | {"municipality": "4631", "consent": True},
                     headers=headers)
    assert (await ingest.post(f"{BASE}/{entry_id}/replay", headers=headers)).status_code == 201

    again = await ingest.post(f"{BASE}/{entry_id}/replay", headers=headers)
    edit = await ingest.put(f"{BASE}/{entry_id}", json=entry["submission"], headers=headers)

    assert again.status_code == 409 and again.json()["type"].endswith("/quarantine-entry-resolved")
    assert edit.status_code == 409
    assert await proposal_count(ingest) == 4


async def test_a_fixed_round_lets_the_same_entry_through_on_replay(ingest, secretariat):
    headers = secretariat("vest")
    response = await ingest.post(
        "/api/intake/v1/ingest/vest/events", content=json.dumps(event("BGO-30", round=CLOSED_ROUND)),
        headers=region_key() | {"Content-Type": STRUCTURED},
    )
    entry_id = response.json()["quarantine_id"]
    now = datetime.now(UTC)
    # The secretariat extends the round's window: the submission itself needs no correction.
    extended = Round(CLOSED_ROUND, "vest", "Closed", now - timedelta(days=40), now + timedelta(days=1))
    await round_service.save_round(extended, IntakeUnitOfWork(ingest.app.state.runtime.database, outbox, inbox))

    replayed = await ingest.post(f"{BASE}/{entry_id}/replay", headers=headers)

    assert replayed.status_code == 201 and replayed.json()["outcome"] == "accepted"


async def test_a_later_good_submission_settles_the_earlier_entry(ingest, secretariat):
    headers = secretariat("vest")
    send = {"headers": region_key() | {"Content-Type": STRUCTURED}}
    bad = await ingest.post("/api/intake/v1/ingest/vest/events", content=json.dumps(event("BGO-31", title="x")), **send)
    good = await ingest.post("/api/intake/v1/ingest/vest/events", content=json.dumps(event("BGO-31")), **send)

    assert good.status_code == 201
    entry = (await ingest.get(f"{BASE}/{bad.json()['quarantine_id']}", headers=headers)).json()
    assert entry["status"] == "resolved" and entry["proposal_id"] == good.json()["proposal_id"]
    assert [h["action"] for h in entry["history"]] == ["quarantined", "superseded"]


async def test_only_the_regions_secretariat_reaches_its_quarantine(ingest, secretariat):
    entry_id = (await quarantine_the_example_file(ingest, secretariat("vest")))[5]

    assert (await ingest.get(BASE)).status_code == 401
    assert (await ingest.get(BASE, headers=secretariat("nord"))).status_code == 403
    assert (await ingest.get(f"{BASE}/{entry_id}", headers=secretariat("nord"))).status_code == 403
    assert (await ingest.post(f"{BASE}/{entry_id}/replay", headers=secretariat("nord"))).status_code == 403
    assert (await ingest.get("/api/intake/v1/ingest/nord/quarantine", headers=secretariat("nord"))).json() == []
    missing = await ingest.get(f"{BASE}/no-such-entry", headers=secretariat("vest"))
    assert missing.status_code == 404 and missing.json()["type"].endswith("/quarantine-entry-not-found")
