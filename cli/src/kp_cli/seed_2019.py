"""`kp seed demo-2019`: a synthetic autumn-2019 round for region `vest` with the seed's published counts.

The counts per unit, service area and theme are the ones the 2019 slides report (66 proposals). Which
proposal has which unit, area and theme is not published, so a fixed, plausible joint assignment is
generated here: every marginal comes out exactly, and combinations make sense (barnevern lies in
"barn og unge", dementia treatment in nursing homes, home care or care for older people). Titles,
questions and proposers are synthetic; no real person is named.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

OSLO = ZoneInfo("Europe/Oslo")
REGION = "vest"
ROUND_ID = "vest-2019-haust"
ROUND_NAME = "Innspillsrunde høsten 2019"
WINDOW_OPENS = datetime(2019, 8, 15, tzinfo=OSLO)
# Proposals were due 26 September: the window ends when that day ends.
WINDOW_CLOSES = datetime(2019, 9, 27, tzinfo=OSLO)
COMMITTEE_MEETING_ON = date(2019, 10, 22)
DECISION_ON = date(2019, 11, 7)
FINAL_REPORT_ON = date(2019, 12, 6)
CRITERIA_SET = "prioritering"

BERGEN, MELAND, OS, OSTEROY, VAKSDAL = "1201", "1256", "1243", "1253", "1251"
USHT = "usht-hordaland"

# (theme, service area, how many): rows add up to the seed's theme counts, columns to its service-area counts.
CELLS: tuple[tuple[str, str, int], ...] = (
    ("forebygging_helsefremming", "barn_og_unge", 9),
    ("forebygging_helsefremming", "folkehelse_befolkning", 2),
    ("forebygging_helsefremming", "eldre", 2),
    ("kvalitetsarbeid_tjenesteutvikling", "forvaltning_organisasjon", 6),
    ("kvalitetsarbeid_tjenesteutvikling", "barn_og_unge", 4),
    ("kvalitetsarbeid_tjenesteutvikling", "sykehjem", 1),
    ("kvalitetsarbeid_tjenesteutvikling", "utviklingshemming", 1),
    ("demens_behandling", "sykehjem", 3),
    ("demens_behandling", "eldre", 2),
    ("demens_behandling", "hjemmetjenester", 1),
    ("brukere_sammensatte_behov", "utviklingshemming", 3),
    ("brukere_sammensatte_behov", "hjemmetjenester", 2),
    ("brukere_sammensatte_behov", "samhandling_spesialisthelsetjeneste", 1),
    ("barnevern", "barn_og_unge", 6),
    ("vanlige_tilstander_hjemmeboende", "hjemmetjenester", 4),
    ("psykisk_helse", "psykisk_helse", 3),
    ("psykisk_helse", "barn_og_unge", 1),
    ("vanlige_tilstander_sykehjem", "sykehjem", 3),
    ("velferdsteknologi", "hjemmetjenester", 1),
    ("velferdsteknologi", "eldre", 1),
    ("velferdsteknologi", "utviklingshemming", 1),
    ("ernaering", "sykehjem", 2),
    ("ernaering", "eldre", 1),
    ("brukermedvirkning", "psykisk_helse", 1),
    ("brukermedvirkning", "barn_og_unge", 1),
    ("palliasjon", "sykehjem", 1),
    ("me", "barn_og_unge", 1),
    ("sovn", "psykisk_helse", 1),
    ("rehabilitering", "hjemmetjenester", 1),
)

# USHT (the development centre for nursing homes and home services) proposes within its own field.
USHT_CELLS: tuple[tuple[str, str], ...] = (
    ("vanlige_tilstander_sykehjem", "sykehjem"),
    ("palliasjon", "sykehjem"),
    ("ernaering", "sykehjem"),
    ("kvalitetsarbeid_tjenesteutvikling", "sykehjem"),
    ("vanlige_tilstander_hjemmeboende", "hjemmetjenester"),
)
# The other 61 are spread over the municipalities in proportion to their counts (38 + 9 + 8 + 5 + 1).
MUNICIPALITY_COUNTS: tuple[tuple[str, int], ...] = ((BERGEN, 38), (OSTEROY, 9), (MELAND, 8), (VAKSDAL, 5), (OS, 1))

# Bergen's agencies ("etater"), by service area; other municipalities' proposals name no agency.
BERGEN_AGENCIES = {
    "barn_og_unge": "Etat for barn og familie",
    "sykehjem": "Etat for sykehjem",
    "hjemmetjenester": "Etat for hjemmebaserte tjenester",
    "eldre": "Etat for vurdering og rehabilitering",
    "utviklingshemming": "Etat for tjenester til utviklingshemmede",
    "psykisk_helse": "Etat for helsetjenester",
    "folkehelse_befolkning": "Etat for helsetjenester",
}

POPULATION = {
    "barn_og_unge": "barn og unge",
    "sykehjem": "beboere i sykehjem",
    "hjemmetjenester": "hjemmeboende som mottar hjemmetjenester",
    "eldre": "eldre hjemmeboende",
    "forvaltning_organisasjon": "ansatte i helse- og omsorgstjenesten",
    "utviklingshemming": "personer med utviklingshemming",
    "psykisk_helse": "voksne med psykiske helseplager",
    "folkehelse_befolkning": "befolkningen i kommunen",
    "samhandling_spesialisthelsetjeneste": "pasienter som skrives ut fra sykehus",
}

# Per theme: (intervention ideas, comparison, outcome). Ideas are used in turn within the theme (and area).
THEME_TEXT: dict[str, tuple[tuple[str, ...], str, str]] = {
    "forebygging_helsefremming": (
        ("tiltak mot ensomhet", "lavterskel treningstilbud"),
        "vanlig oppfølging", "bedre helse og færre som trenger tjenester senere",
    ),
    "kvalitetsarbeid_tjenesteutvikling": (
        ("standardiserte pasientforløp", "systematisk arbeid med avvik", "lengre vakter i turnus",
         "kompetanseheving med simulering", "veiledning i praksis", "strukturerte tverrfaglige møter"),
        "dagens praksis", "bedre kvalitet, pasientsikkerhet og ressursbruk",
    ),
    "demens_behandling": (
        ("miljøterapeutiske tiltak (sansehage, musikkterapi, lysterapi)", "musikkterapi", "sansehage",
         "lysterapi"),
        "medikamentell behandling", "mindre uro og agitasjon",
    ),
    "brukere_sammensatte_behov": (
        ("individuell plan med fast koordinator", "oppsøkende tverrfaglige team", "fast primærkontakt"),
        "ordinær oppfølging", "bedre funksjon og færre innleggelser",
    ),
    "barnevern": (
        ("hjemmebaserte tiltak", "foreldrestøttende veiledning", "familieråd", "tett oppfølging i fosterhjem"),
        "plassering utenfor hjemmet", "bedre omsorgssituasjon og trivsel",
    ),
    "vanlige_tilstander_hjemmeboende": (
        ("sårbehandling med honning", "kompresjonsbehandling ved leggsår", "forebygging av trykksår",
         "behandling av urinveisinfeksjon uten antibiotika"),
        "vanlig sårbehandling", "raskere tilheling og færre infeksjoner",
    ),
    "psykisk_helse": (
        ("rask psykisk helsehjelp", "gruppebaserte mestringskurs", "digital veiledet selvhjelp"),
        "vanlig behandling", "mindre angst og depresjon",
    ),
    "vanlige_tilstander_sykehjem": (
        ("systematisk legemiddelgjennomgang", "behandling av lungebetennelse i sykehjem", "sårbehandling"),
        "dagens praksis", "færre innleggelser i sykehus",
    ),
    "velferdsteknologi": (
        ("digitalt tilsyn om natten", "elektronisk medisindispenser", "trygghetsalarm med lokalisering"),
        "ordinære hjemmetjenester", "økonomisk gevinst og trygghet",
    ),
    "ernaering": (
        ("systematisk ernæringskartlegging", "måltidsvert", "beriket mat"),
        "vanlige måltider", "bedre ernæringsstatus",
    ),
    "brukermedvirkning": (
        ("erfaringskonsulenter", "brukerråd"),
        "ingen systematisk brukermedvirkning", "tjenester som treffer brukernes behov",
    ),
    "palliasjon": (("palliativ plan",), "ingen plan", "bedre livskvalitet i livets sluttfase"),
    "me": (("aktivitetsavpasning",), "gradert trening", "bedre funksjon i hverdagen"),
    "sovn": (("kognitiv atferdsterapi for søvnvansker",), "sovemedisiner", "bedre søvn"),
    "rehabilitering": (("hverdagsrehabilitering",), "tradisjonell hjemmetjeneste", "bedre funksjon og mestring"),
}


# Where a theme spans very different service areas, the ideas follow the area (no fall prevention for children).
AREA_IDEAS: dict[tuple[str, str], tuple[str, ...]] = {
    ("forebygging_helsefremming", "barn_og_unge"): (
        "tidlig innsats mot overvekt", "foreldreveiledning på helsestasjonen", "daglig fysisk aktivitet i skolen",
        "faste samtaler i skolehelsetjenesten", "søvnveiledning i skolen", "tiltak mot mobbing",
        "kostholdsveiledning i barnehagen", "tiltak mot skolefravær", "lavterskel treningstilbud",
    ),
    ("forebygging_helsefremming", "eldre"): ("fallforebyggende trening", "forebyggende hjemmebesøk"),
    ("kvalitetsarbeid_tjenesteutvikling", "barn_og_unge"): (
        "tverrfaglige bekymringsmøter", "kompetanseheving i barnehage og skole",
        "samordnet oppfølging etter BTI-modellen", "digital helsestasjon",
    ),
    ("kvalitetsarbeid_tjenesteutvikling", "sykehjem"): ("tiltakspakker for pasientsikkerhet",),
    ("kvalitetsarbeid_tjenesteutvikling", "utviklingshemming"): ("veiledning i praksis for miljøpersonale",),
}


@dataclass(frozen=True)
class DemoProposal:
    reference: str
    municipality_number: str | None
    unit_code: str | None
    service_area: str
    theme: str
    submitted_at: datetime
    title: str
    population: str
    intervention: str
    comparison: str
    outcome: str
    department: str
    proposer_number: int

    @property
    def id(self) -> str:
        """Stable across runs, so seeding again finds the same rows."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://kunnskapsportalen.no/demo/{self.reference}"))


def _weighted_round_robin(weights: tuple[tuple[str, int], ...]) -> list[str]:
    """Spread choices evenly: over one cycle each comes up exactly its weight times (smooth weighted round robin)."""
    total = sum(w for _, w in weights)
    current = dict.fromkeys((name for name, _ in weights), 0)
    chosen = []
    for _ in range(total):
        for name, weight in weights:
            current[name] += weight
        best = max(current, key=lambda n: current[n])
        current[best] -= total
        chosen.append(best)
    return chosen


def _submission_times(count: int, rng: random.Random) -> list[datetime]:
    """Weekday office hours in the window, more of them towards the deadline, as rounds usually go."""
    days = [
        WINDOW_OPENS.date() + timedelta(days=i)
        for i in range((WINDOW_CLOSES.date() - WINDOW_OPENS.date()).days)
    ]
    weekdays = [d for d in days if d.weekday() < 5]
    weights = [1 + 3 * (i / len(weekdays)) ** 2 for i in range(len(weekdays))]
    times = []
    for day in rng.choices(weekdays, weights=weights, k=count):
        moment = time(rng.randint(8, 15), rng.randrange(0, 60), rng.randrange(0, 60))
        times.append(datetime.combine(day, moment, OSLO).astimezone(UTC))
    return sorted(times)


def demo_proposals() -> list[DemoProposal]:
    """The 66 proposals, the same every time."""
    cells: list[tuple[str, str]] = [(theme, area) for theme, area, n in CELLS for _ in range(n)]
    assigned: list[tuple[str, str, str]] = []  # (unit, theme, area)
    for theme, area in USHT_CELLS:
        cells.remove((theme, area))
        assigned.append((USHT, theme, area))
    for unit, (theme, area) in zip(_weighted_round_robin(MUNICIPALITY_COUNTS), cells, strict=True):
        assigned.append((unit, theme, area))
    rng = random.Random(2019)
    rng.shuffle(assigned)  # the order of submission: units and themes arrive mixed
    ideas_used: dict[str, int] = {}
    result = []
    for number, ((unit, theme, area), submitted_at) in enumerate(
        zip(assigned, _submission_times(len(assigned), rng), strict=True), start=1
    ):
        ideas, comparison, outcome = THEME_TEXT[theme]
        key = f"{theme}/{area}" if (theme, area) in AREA_IDEAS else theme
        ideas = AREA_IDEAS.get((theme, area), ideas)
        idea = ideas[ideas_used.get(key, 0) % len(ideas)]
        ideas_used[key] = ideas_used.get(key, 0) + 1
        population = POPULATION[area]
        result.append(
            DemoProposal(
                reference=f"VEST-2019-{number:04d}",
                municipality_number=None if unit == USHT else unit,
                unit_code=USHT if unit == USHT else None,
                service_area=area, theme=theme, submitted_at=submitted_at,
                title=f"Effekt av {idea} for {population}"[:200],
                population=population[0].upper() + population[1:],
                intervention=idea[0].upper() + idea[1:], comparison=comparison[0].upper() + comparison[1:],
                outcome=outcome[0].upper() + outcome[1:],
                department=BERGEN_AGENCIES.get(area, "") if unit == BERGEN else "",
                proposer_number=number,
            )
        )
    return result


def round_row() -> dict[str, Any]:
    return {
        "id": ROUND_ID, "region": REGION, "name": ROUND_NAME, "opens_at": WINDOW_OPENS, "closes_at": WINDOW_CLOSES,
        "default_language": "nb", "time_zone": "Europe/Oslo", "committee_meeting_on": COMMITTEE_MEETING_ON,
        "decision_on": DECISION_ON, "final_report_on": FINAL_REPORT_ON, "criteria_set": CRITERIA_SET,
        "capacity_note": "",
        # Long past: the round clock must not announce the opening or closing of a 2019 round now.
        "opened_announced_at": WINDOW_OPENS, "closed_announced_at": WINDOW_CLOSES,
    }


def proposal_row(proposal: DemoProposal) -> dict[str, Any]:
    return {
        "id": proposal.id, "reference": proposal.reference, "region": REGION, "round_id": ROUND_ID,
        "municipality_number": proposal.municipality_number, "unit_code": proposal.unit_code,
        "department": proposal.department, "service_area": proposal.service_area, "theme": proposal.theme,
        "title": proposal.title, "population": proposal.population, "intervention": proposal.intervention,
        "comparison": proposal.comparison, "outcome": proposal.outcome,
        "background": "Syntetisk demodata for innspillsrunden høsten 2019.", "language": "nb",
        "status": "submitted", "submitted_at": proposal.submitted_at, "decision_text": "", "decision_on": None,
        "self_assessment": "{}", "consent_at": proposal.submitted_at,
        "proposer_name": f"Demo Forslagsstiller {proposal.proposer_number:02d}",
        "proposer_email": f"forslagsstiller{proposal.proposer_number:02d}@example.no",
    }


async def load_demo_2019(database_url: str) -> int:
    """Write the round and its 66 proposals (idempotent); returns how many proposals the round now has.

    Straight into intake's tables, with no outbox events: this is history being loaded, not proposals
    being submitted now, so nobody may be notified (no receipts) and no other service should react.
    """
    from sqlalchemy import case, func, select

    from intake.tables import proposal_history, proposals, reference_counters, rounds
    from shared.db import Database, dialect_insert

    database = Database(database_url)
    rows = [proposal_row(p) for p in demo_proposals()]
    try:
        async with database.write() as session:
            insert = dialect_insert(session)
            round_values = round_row()
            statement = insert(rounds).values(**round_values)
            await session.execute(statement.on_conflict_do_update(
                index_elements=["id"], set_={k: statement.excluded[k] for k in round_values if k != "id"},
            ))
            existing = set((await session.execute(
                select(proposals.c.reference).where(proposals.c.round_id == ROUND_ID)
            )).scalars())
            new = [row for row in rows if row["reference"] not in existing]
            if new:
                await session.execute(insert(proposals).on_conflict_do_nothing(), new)
                await session.execute(insert(proposal_history), [
                    {"proposal_id": row["id"], "at": row["submitted_at"], "event": "submitted",
                     "status": "submitted", "note": "", "related_proposal_id": None}
                    for row in new
                ])
            # New 2019 references must never collide with these, should a 2019 sequence ever be drawn again.
            counter = insert(reference_counters).values(region=REGION, year=2019, last_number=len(rows))
            await session.execute(counter.on_conflict_do_update(
                index_elements=["region", "year"],
                set_={"last_number": case(
                    (reference_counters.c.last_number > counter.excluded.last_number, reference_counters.c.last_number),
                    else_=counter.excluded.last_number,
                )},
            ))
        async with database.reader() as session:
            return int((await session.execute(
                select(func.count()).select_from(proposals).where(proposals.c.round_id == ROUND_ID)
            )).scalar_one())
    finally:
        await database.dispose()


def seed_demo_2019() -> None:
    """The autumn-2019 round of region `vest` with its 66 synthetic proposals (the seed's counts); idempotent."""
    from rich.console import Console

    from intake.settings import IntakeSettings

    count = asyncio.run(load_demo_2019(IntakeSettings().database_url))
    Console().print(f"seeded round {ROUND_ID} ({REGION}): {count} proposals, no notifications sent")
