"""Ingestion from other regions on in-memory fakes: take once, quarantine with reasons, correct and replay."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from intake.ingestion import service
from intake.ingestion.events import arrival_from_message
from intake.ingestion.model import Arrival
from intake.rounds.model import Round
from shared.contracts.subjects import PROPOSAL_SUBMITTED
from tests.intake.unit.fakes import IntakeFakes

NOW = datetime(2026, 9, 21, 9, tzinfo=UTC)
EXAMPLE = json.loads((Path(__file__).resolve().parents[3] / "examples" / "ingest" / "event.json").read_text())


def fakes_with_rounds() -> IntakeFakes:
    fakes = IntakeFakes()
    fakes.rounds.rows = {
        "vest-demo": Round("vest-demo", "vest", "Demo", NOW - timedelta(days=10), NOW + timedelta(days=30)),
        "vest-closed": Round("vest-closed", "vest", "Closed", NOW - timedelta(days=40), NOW - timedelta(days=1)),
    }
    return fakes


def arrival(external_id: str = "BGO-2026-0201", **data: Any) -> Arrival:
    event = copy.deepcopy(EXAMPLE)
    event["id"] = f"evt-{external_id}"
    event["data"] |= {"external_id": external_id, **data}
    return Arrival("vest", "http", "event", event, event["source"], "region:vest")


async def test_a_valid_submission_becomes_one_proposal_however_often_it_arrives() -> None:
    fakes = fakes_with_rounds()
    first = await service.ingest(arrival(), fakes, fakes, now=NOW)
    again = await service.ingest(arrival(), fakes, fakes, now=NOW)
    assert (first.status, first.reference) == ("accepted", "VEST-2026-0001")
    assert (again.status, again.proposal_id, again.content_differs) == ("duplicate", first.proposal_id, False)
    changed = await service.ingest(arrival(title="Fallforebygging i heimen"), fakes, fakes, now=NOW)
    assert (changed.status, changed.content_differs) == ("duplicate", True)
    assert len(fakes.proposals.rows) == 1 and len(fakes.published(PROPOSAL_SUBMITTED)) == 1


async def test_an_invalid_submission_is_quarantined_with_reasons_naming_its_fields_once() -> None:
    fakes = fakes_with_rounds()
    outcome = await service.ingest(arrival(title="x", municipality="9999"), fakes, fakes, now=NOW)
    assert outcome.status == "quarantined" and fakes.proposals.rows == {}
    assert [(r.field, r.rule) for r in outcome.reasons] == [("data.title", "string_too_short")]
    again = await service.ingest(arrival(title="x", municipality="9999"), fakes, fakes, now=NOW)
    assert again.quarantine_id == outcome.quarantine_id
    assert outcome.quarantine_id is not None
    entry = fakes.ingestion.entries[outcome.quarantine_id]
    assert (entry.status, entry.times_received) == ("open", 2)


async def test_a_closed_round_quarantines_and_a_corrected_replay_takes_it() -> None:
    fakes = fakes_with_rounds()
    outcome = await service.ingest(arrival(round="vest-closed"), fakes, fakes, now=NOW)
    assert [(r.field, r.rule) for r in outcome.reasons] == [("round", "round-closed")]
    assert outcome.quarantine_id is not None
    corrected = dict(EXAMPLE["data"], round="vest-demo")
    _, still_wrong = await service.correct_entry(
        service.CorrectEntry("vest", outcome.quarantine_id, corrected, "secretariat:s-1"), fakes, fakes, now=NOW,
    )
    assert still_wrong == ()
    replayed = await service.replay_entry(
        service.ReplayEntry("vest", outcome.quarantine_id, "secretariat:s-1"), fakes, fakes, now=NOW,
    )
    assert (replayed.status, replayed.quarantine_id) == ("accepted", outcome.quarantine_id)
    entry = fakes.ingestion.entries[outcome.quarantine_id]
    assert (entry.status, entry.proposal_id) == ("resolved", replayed.proposal_id)
    assert [h.action for h in fakes.ingestion.trace[entry.id]] == ["quarantined", "corrected", "replayed"]


async def test_a_message_that_is_not_json_is_kept_for_the_secretariat() -> None:
    fakes = fakes_with_rounds()
    outcome = await service.ingest(
        arrival_from_message("kp.ingest.vest.proposal.v1", b"{not json"), fakes, fakes, now=NOW,
    )
    assert outcome.status == "quarantined" and [r.rule for r in outcome.reasons] == ["json_invalid"]
    assert outcome.quarantine_id is not None
    assert fakes.ingestion.entries[outcome.quarantine_id].kind == "text"
