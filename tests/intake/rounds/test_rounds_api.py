"""Rounds: the secretariat creates and edits them; the clock announces their opening and closing exactly once."""

import asyncio
import json
from datetime import UTC, datetime, timedelta

from faststream.nats import TestNatsBroker
from sqlalchemy import select

from intake.app import MIGRATIONS, create_app
from intake.rounds import service as round_service
from intake.tables import inbox, outbox, rounds
from intake.uow import IntakeReader, IntakeUnitOfWork
from shared.auth import Role
from shared.contracts.subjects import ROUND_CLOSED, ROUND_OPENED
from shared.db import migrate_async
from tests.intake.helpers import PROPOSAL, outbox_rows, uow_for

SECRETARIAT_VEST = (Role.SECRETARIAT, "vest")
ROUND = {
    "id": "vest-2027-var",
    "name": "Innspelsrunde våren 2027",
    "opens_at": "2027-02-01T08:00:00",
    "closes_at": "2027-02-26T23:59:00",
    "time_zone": "Europe/Oslo",
    "default_language": "nn",
    "committee_meeting_on": "2027-04-01",
    "decision_on": "2027-04-15",
    "final_report_on": "2027-06-01",
    "criteria_set": "prioritering",
    "capacity_note": "FHI tek 2–3 oppsummeringar",
}


def events_of(rows, spec):
    return [json.loads(r["payload"]) for r in rows if r["event_type"] == spec.type]


async def test_creating_a_round_needs_a_session(intake):
    response = await intake.post("/api/intake/v1/regions/vest/rounds", json=ROUND)
    assert response.status_code == 401
    assert response.json()["type"].endswith("/unauthorized")


async def test_creating_a_round_needs_the_secretariat_of_that_region(intake, bearer):
    other_region = await intake.post(
        "/api/intake/v1/regions/vest/rounds", json=ROUND, headers=bearer((Role.SECRETARIAT, "nord"))
    )
    other_role = await intake.post(
        "/api/intake/v1/regions/vest/rounds", json=ROUND, headers=bearer((Role.COMMITTEE_MEMBER, "vest"))
    )
    assert (other_region.status_code, other_role.status_code) == (403, 403)
    assert (await intake.get("/api/intake/v1/rounds/vest-2027-var")).status_code == 404


async def test_the_secretariat_creates_a_round_read_in_its_time_zone(intake, bearer):
    response = await intake.post("/api/intake/v1/regions/vest/rounds", json=ROUND, headers=bearer(SECRETARIAT_VEST))
    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/api/intake/v1/rounds/vest-2027-var"
    created = response.json()
    # 08:00 in Oslo in February (UTC+1) is 07:00 UTC.
    assert datetime.fromisoformat(created["opens_at"]) == datetime(2027, 2, 1, 7, tzinfo=UTC)
    assert created["status"] == "planned" and created["region"] == "vest"
    assert [c["code"] for c in created["criteria"]] == ["nytte", "ressurser", "alvorlighet"]

    fetched = (await intake.get("/api/intake/v1/rounds/vest-2027-var", params={"lang": "en"})).json()
    assert fetched["committee_meeting_on"] == "2027-04-01" and fetched["capacity_note"] == "FHI tek 2–3 oppsummeringar"
    assert fetched["status_label"] == "Planned"
    assert {c["code"]: c["inverse"] for c in fetched["criteria"]} == {
        "nytte": False, "ressurser": True, "alvorlighet": False,
    }
    assert fetched["criteria"][1]["label"] == "Resources"
    listed = (await intake.get("/api/intake/v1/regions/vest/rounds", params={"status": "planned"})).json()
    assert {r["id"] for r in listed} == {"planned-round", "vest-2027-var"}
    # Saving publishes nothing: the clock announces windows as they open and close.
    assert await outbox_rows(intake) == []


async def test_an_existing_round_id_is_a_conflict(intake, bearer):
    headers = bearer(SECRETARIAT_VEST)
    await intake.post("/api/intake/v1/regions/vest/rounds", json=ROUND, headers=headers)
    again = await intake.post("/api/intake/v1/regions/vest/rounds", json=ROUND, headers=headers)
    assert again.status_code == 409
    assert again.json()["errors"][0]["field"] == "id"


async def test_round_rules_are_named_per_field(intake, bearer):
    bad = ROUND | {
        "closes_at": "2027-01-15T12:00:00", "time_zone": "Europe/Atlantis", "default_language": "en",
        "criteria_set": "magefølelse", "committee_meeting_on": "2027-01-20", "decision_on": "2027-01-19",
    }
    response = await intake.post(
        "/api/intake/v1/regions/vest/rounds", json=bad, headers=bearer(SECRETARIAT_VEST) | {"Accept-Language": "nn"}
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["title"] == "Ugyldige opplysningar"
    assert {e["field"]: e["rule"] for e in problem["errors"]} == {
        "closes_at": "closes-before-opens", "time_zone": "unknown-time-zone", "default_language": "unknown-language",
        "criteria_set": "unknown-criteria-set", "decision_on": "date-before-previous-milestone",
    }


async def test_the_secretariat_of_the_rounds_region_updates_it(intake, bearer):
    await intake.post("/api/intake/v1/regions/vest/rounds", json=ROUND, headers=bearer(SECRETARIAT_VEST))
    changes = {k: v for k, v in ROUND.items() if k != "id"} | {"name": "Våren 2027", "closes_at": "2027-03-05T15:00"}
    assert (await intake.put("/api/intake/v1/rounds/vest-2027-var", json=changes)).status_code == 401
    forbidden = await intake.put(
        "/api/intake/v1/rounds/vest-2027-var", json=changes, headers=bearer((Role.SECRETARIAT, "nord"))
    )
    assert forbidden.status_code == 403
    updated = await intake.put(
        "/api/intake/v1/rounds/vest-2027-var", json=changes, headers=bearer(SECRETARIAT_VEST)
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["name"] == "Våren 2027"
    assert datetime.fromisoformat(updated.json()["closes_at"]) == datetime(2027, 3, 5, 14, tzinfo=UTC)
    missing = await intake.put("/api/intake/v1/rounds/nope", json=changes, headers=bearer(SECRETARIAT_VEST))
    assert missing.status_code == 404


async def test_an_admin_of_the_region_may_create_rounds(intake, bearer):
    response = await intake.post(
        "/api/intake/v1/regions/vest/rounds", json=ROUND | {"id": "vest-admin"}, headers=bearer((Role.ADMIN, "vest"))
    )
    assert response.status_code == 201


async def test_round_opening_and_closing_by_the_clock_are_announced_exactly_once(intake):
    opens, closes = datetime(2027, 2, 1, 7, tzinfo=UTC), datetime(2027, 2, 26, 22, 59, tzinfo=UTC)
    before = opens - timedelta(days=30)
    await round_service.create_round(
        round_service.CreateRound("vest", round_service.RoundFields("Våren 2027", opens, closes), "vest-2027"),
        uow_for(intake), now=before,
    )
    # The fixture's own rounds are announced on the first tick; the test follows vest-2027 from there.
    await round_service.announce_round_changes(before, uow_for(intake))
    baseline = len(await outbox_rows(intake))

    assert await round_service.announce_round_changes(opens - timedelta(seconds=1), uow_for(intake)) == (
        round_service.Announcements((), ())
    )
    first = await round_service.announce_round_changes(opens, uow_for(intake))
    second = await round_service.announce_round_changes(opens + timedelta(minutes=1), uow_for(intake))
    assert (first.opened, second.opened) == (("vest-2027",), ())

    closed_first = await round_service.announce_round_changes(closes, uow_for(intake))
    closed_again = await round_service.announce_round_changes(closes + timedelta(hours=1), uow_for(intake))
    assert (closed_first.closed, closed_again.closed) == (("vest-2027",), ())

    rows = (await outbox_rows(intake))[baseline:]
    assert [r["subject"] for r in rows] == [ROUND_OPENED.subject("vest"), ROUND_CLOSED.subject("vest")]
    opened, closed = (json.loads(r["payload"]) for r in rows)
    assert opened["type"] == ROUND_OPENED.type and opened["subject"] == "vest-2027"
    assert opened["data"] == {
        "round_id": "vest-2027", "region": "vest", "name": "Våren 2027", "opens_at": "2027-02-01T07:00:00Z",
        "closes_at": "2027-02-26T22:59:00Z", "time_zone": "Europe/Oslo",
    }
    assert closed["type"] == ROUND_CLOSED.type and closed["data"]["proposal_count"] == 0
    async with intake.app.state.runtime.database.reader() as session:
        row = (await session.execute(select(rounds).where(rounds.c.id == "vest-2027"))).one()
    assert (row.opened_announced_at, row.closed_announced_at) == (opens, closes)


async def test_round_closed_counts_the_proposals(intake):
    for _ in range(2):
        assert (await intake.post("/api/intake/v1/proposals", json=PROPOSAL)).status_code == 201
    later = datetime.now(UTC) + timedelta(days=11)
    announced = await round_service.announce_round_changes(later, uow_for(intake))
    assert "open-round" in announced.closed
    [closed] = [e for e in events_of(await outbox_rows(intake), ROUND_CLOSED) if e["subject"] == "open-round"]
    assert closed["data"]["proposal_count"] == 2


async def test_an_opening_first_seen_after_the_window_closed_is_not_announced(intake):
    # closed-round (the fixture's) closed yesterday and its opening was never announced.
    announced = await round_service.announce_round_changes(datetime.now(UTC), uow_for(intake))
    assert "closed-round" not in announced.opened and "closed-round" in announced.closed
    assert "open-round" in announced.opened and "planned-round" not in announced.opened


async def test_a_round_registered_after_its_window_is_never_announced(intake):
    fields = round_service.RoundFields(
        "Hausten 2019", datetime(2019, 8, 15, tzinfo=UTC), datetime(2019, 9, 26, tzinfo=UTC)
    )
    await round_service.create_round(round_service.CreateRound("vest", fields, "vest-2019-haust"), uow_for(intake))
    announced = await round_service.announce_round_changes(datetime.now(UTC), uow_for(intake))
    assert "vest-2019-haust" not in announced.opened + announced.closed


async def test_an_extended_deadline_is_announced_again_when_it_passes(intake):
    now = datetime.now(UTC)
    await round_service.announce_round_changes(now + timedelta(days=11), uow_for(intake))  # open-round closes
    round_ = await round_service.get_round("open-round", _reader(intake))
    fields = round_service.RoundFields(round_.name, round_.opens_at, now + timedelta(days=20), criteria_set=None)
    await round_service.update_round(
        round_service.UpdateRound("open-round", fields), uow_for(intake), now=now + timedelta(days=12)
    )
    assert (await round_service.announce_round_changes(now + timedelta(days=13), uow_for(intake))).closed == ()
    announced = await round_service.announce_round_changes(now + timedelta(days=21), uow_for(intake))
    assert announced.closed == ("open-round",)


async def test_two_clocks_at_once_announce_once(intake):
    now = datetime.now(UTC)
    results = await asyncio.gather(*(round_service.announce_round_changes(now, uow_for(intake)) for _ in range(4)))
    assert sum(len(r.opened) for r in results) == 1  # open-round, whichever tick claimed it
    assert len(events_of(await outbox_rows(intake), ROUND_OPENED)) == 1


async def test_the_apps_lifespan_runs_the_clock(settings_for, eventually):
    settings = settings_for(clock_seconds=0.05)
    await migrate_async(MIGRATIONS, settings.database_url)
    app = create_app(settings)
    runtime = app.state.runtime
    now = datetime.now(UTC)
    fields = round_service.RoundFields("Open now", now - timedelta(minutes=1), now + timedelta(days=1))
    await round_service.create_round(
        round_service.CreateRound("vest", fields, "open-now"), IntakeUnitOfWork(runtime.database, outbox, inbox)
    )

    async def opened_events() -> list[str]:
        async with runtime.database.reader() as session:
            result = await session.execute(select(outbox.c.event_type).where(outbox.c.event_type == ROUND_OPENED.type))
            return list(result.scalars())

    async with TestNatsBroker(runtime.broker), app.router.lifespan_context(app):
        await eventually(lambda: runtime.clock.ticks >= 3, timeout=10, message="the clock ticks")
    assert len(await opened_events()) == 1
    assert runtime.clock.ticks >= 3


def _reader(intake):
    return IntakeReader(intake.app.state.runtime.database)
