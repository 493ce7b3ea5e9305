"""The analysis reproduces the autumn-2019 round's published tables and counts across rounds and mergers."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from intake.reference.model import sort_key
from intake.tables import outbox, proposal_history, proposals, reference_counters
from kp_cli.seed_2019 import OSLO, demo_proposals, load_demo_2019
from tests.intake.analysis.conftest import BACKENDS, secretariat

API = "/api/intake/v1/analysis"
ROUND = "vest-2019-haust"

# The seed's tables in the seed's order (Bokmål labels from the reference data). The seed prints
# "Totalsum 22" under the service areas; the rows add up to 66, which is what must come out.
SEED_MISPRINTED_TOTAL = 22
SEED_BY_UNIT = [("Bergen", 38), ("Meland", 8), ("Os", 1), ("Osterøy", 9), ("Vaksdal", 5), ("USHT Hordaland", 5)]
SEED_BY_SERVICE_AREA = [
    ("Barn og unge", 22), ("Sykehjem", 10), ("Hjemmetjenester", 9), ("Eldre", 6), ("Forvaltning/organisasjon", 6),
    ("Utviklingshemming", 5), ("Psykisk helse", 5), ("Folkehelse/befolkning", 2),
    ("Samhandling med spesialisthelsetjenesten", 1),
]
SEED_BY_THEME = [
    ("Forebygging/helsefremming", 13), ("Kvalitetsarbeid/tjenesteutvikling", 12), ("Demens – behandling", 6),
    ("Brukere med sammensatte behov", 6), ("Barnevern", 6), ("Vanlige tilstander og behandling for hjemmeboende", 4),
    ("Psykisk helse", 4), ("Vanlige tilstander og behandling i sykehjem", 3), ("Velferdsteknologi", 3),
    ("Ernæring", 3), ("Brukermedvirkning", 2), ("Palliasjon", 1), ("ME", 1), ("Søvn", 1), ("Rehabilitering", 1),
]


def in_report_order(rows: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """The order the analysis promises: count descending, then label in Norwegian alphabetical order."""
    return sorted(rows, key=lambda r: (-r[1], sort_key(r[0])))


def pairs(table: list[dict[str, object]]) -> list[tuple[object, object]]:
    return [(row["label"], row["count"]) for row in table]


@BACKENDS
async def test_2019_round_reproduces_the_seed_tables_row_by_row(client):
    response = await client.get(API, params={"region": "vest", "round": ROUND, "lang": "nb"}, headers=secretariat())
    assert response.status_code == 200, response.text
    body = response.json()
    assert pairs(body["by_unit"]) == in_report_order(SEED_BY_UNIT)
    assert pairs(body["by_service_area"]) == in_report_order(SEED_BY_SERVICE_AREA)
    assert pairs(body["by_theme"]) == in_report_order(SEED_BY_THEME)
    assert body["total"] == 66
    for table in ("by_unit", "by_service_area", "by_theme"):
        assert sum(row["count"] for row in body[table]) == 66


@BACKENDS
async def test_service_area_total_is_computed_not_the_seeds_misprinted_22(client):
    body = (await client.get(API, params={"region": "vest", "round": ROUND}, headers=secretariat())).json()
    total = sum(row["count"] for row in body["by_service_area"])
    assert total == body["total"] == 66
    assert total != SEED_MISPRINTED_TOTAL


async def test_municipalities_carry_the_number_and_name_they_had_in_2019(client):
    body = (await client.get(API, params={"region": "vest", "round": ROUND}, headers=secretariat())).json()
    codes = {row["label"]: row["code"] for row in body["by_unit"]}
    assert codes == {"Bergen": "1201", "Meland": "1256", "Os": "1243", "Osterøy": "1253", "Vaksdal": "1251",
                     "USHT Hordaland": "usht-hordaland"}


async def test_labels_follow_the_requested_language(client):
    nn = (await client.get(API, params={"region": "vest", "round": ROUND, "lang": "nn"}, headers=secretariat())).json()
    assert nn["language"] == "nn"
    assert ("Born og unge", 22) in pairs(nn["by_service_area"])
    assert ("Førebygging/helsefremjing", 13) in pairs(nn["by_theme"])
    assert ("Sjukeheim", 10) in pairs(nn["by_service_area"])
    en = (await client.get(API, params={"region": "vest", "round": ROUND}, headers={
        **secretariat(), "Accept-Language": "en"})).json()
    assert ("Children and young people", 22) in pairs(en["by_service_area"])
    # Codes and counts are the same in every language; only labels (and so the order among ties) differ.
    assert {(row["code"], row["count"]) for row in nn["by_theme"]} == {(r["code"], r["count"]) for r in en["by_theme"]}


@BACKENDS
async def test_across_rounds_the_tables_add_up_and_old_and_new_numbers_stay_apart(client, add_round):
    await add_round(
        "vest-2020-var", datetime(2020, 2, 3, tzinfo=UTC), datetime(2020, 3, 1, tzinfo=UTC),
        [
            ("4631", None, "eldre", "forebygging_helsefremming"),
            ("4631", None, "eldre", "forebygging_helsefremming"),
            ("4631", None, "hjemmetjenester", "velferdsteknologi"),
            ("4601", None, "barn_og_unge", "barnevern"),
            ("4601", None, "barn_og_unge", "barnevern"),
            (None, "usht-vestland", "sykehjem", None),  # not yet classified by theme
        ],
    )
    one = (await client.get(API, params={"region": "vest", "round": "vest-2020-var"}, headers=secretariat())).json()
    both = (await client.get(API, params={"region": "vest"}, headers=secretariat())).json()
    assert one["total"] == 6
    assert both["total"] == 66 + 6
    assert both["round"] is None
    assert pairs(both["by_unit"]) == [
        ("Bergen (1201)", 38), ("Osterøy", 9), ("Meland", 8), ("USHT Hordaland", 5), ("Vaksdal", 5), ("Alver", 3),
        ("Bergen (4601)", 2), ("Os", 1), ("USHT Vestland", 1),
    ]
    themes = dict(pairs(both["by_theme"]))
    assert themes["Forebygging/helsefremming"] == 13 + 2 and themes["Barnevern"] == 6 + 2
    # A proposal without a theme is counted, last, so every table still adds up to the total.
    assert both["by_theme"][-1] == {"code": "unclassified", "label": "Ikke klassifisert", "count": 1}
    for table in ("by_unit", "by_service_area", "by_theme"):
        assert sum(row["count"] for row in both[table]) == both["total"]


@BACKENDS
async def test_by_current_municipality_maps_old_numbers_to_their_successors(client, add_round):
    await add_round(
        "vest-2020-var", datetime(2020, 2, 3, tzinfo=UTC), datetime(2020, 3, 1, tzinfo=UTC),
        [("4631", None, "eldre", "ernaering"), ("4601", None, "eldre", "ernaering")],
    )
    params = {"region": "vest", "basis": "current"}
    body = (await client.get(API, params=params, headers=secretariat())).json()
    assert body["basis"] == "current"
    assert {(row["code"], row["label"], row["count"]) for row in body["by_unit"]} == {
        ("4601", "Bergen", 39), ("4631", "Alver", 9), ("4630", "Osterøy", 9), ("4628", "Vaksdal", 5),
        ("usht-hordaland", "USHT Hordaland", 5), ("4624", "Bjørnafjorden", 1),
    }
    assert body["total"] == 68


async def test_a_date_range_counts_only_proposals_submitted_on_those_days_in_oslo(client):
    start, end = date(2019, 9, 1), date(2019, 9, 15)
    expected = sum(1 for p in demo_proposals() if start <= p.submitted_at.astimezone(OSLO).date() <= end)
    assert 0 < expected < 66
    params = {"region": "vest", "from": start.isoformat(), "to": end.isoformat()}
    body = (await client.get(API, params=params, headers=secretariat())).json()
    assert body["total"] == expected
    assert body["date_from"] == "2019-09-01" and body["date_to"] == "2019-09-15"


async def test_a_selection_without_proposals_has_empty_tables_and_total_zero(client):
    params = {"region": "vest", "round": ROUND, "from": "2020-01-01"}
    body = (await client.get(API, params=params, headers=secretariat())).json()
    assert body["total"] == 0 and body["by_unit"] == body["by_service_area"] == body["by_theme"] == []


async def test_a_round_of_another_region_or_unknown_is_not_found(client):
    response = await client.get(API, params={"region": "vest", "round": "nope"}, headers=secretariat())
    assert response.status_code == 404
    assert response.json()["type"].endswith("/round-not-found")


def test_demo_proposals_come_in_the_window_on_weekdays_with_plausible_combinations():
    demo = demo_proposals()
    assert demo == demo_proposals()  # deterministic
    assert [p.reference for p in demo] == [f"VEST-2019-{i:04d}" for i in range(1, 67)]
    for p in demo:
        local = p.submitted_at.astimezone(OSLO)
        assert date(2019, 8, 15) <= local.date() <= date(2019, 9, 26) and local.weekday() < 5
    assert all(p.theme != "barnevern" or p.service_area == "barn_og_unge" for p in demo)


@BACKENDS
async def test_seeding_twice_leaves_66_proposals_and_notifies_nobody(client, database_url):
    assert await load_demo_2019(database_url) == 66
    async with client.app.state.runtime.database.reader() as session:
        count = (await session.execute(select(func.count()).select_from(proposals))).scalar_one()
        history = (await session.execute(select(func.count()).select_from(proposal_history))).scalar_one()
        events = (await session.execute(select(func.count()).select_from(outbox))).scalar_one()
        counter = (await session.execute(
            select(reference_counters.c.last_number).where(reference_counters.c.year == 2019)
        )).scalar_one()
    assert (count, history, events, counter) == (66, 66, 0, 66)
