"""A secretariat uploads a region's CSV or XLSX file (or an operator runs `kp intake import`): a report per row."""

from __future__ import annotations

import asyncio
import io
from datetime import date

from openpyxl import Workbook
from sqlalchemy import create_engine, func, select
from typer.testing import CliRunner

from intake.app import MIGRATIONS
from intake.tables import ingest_quarantine, proposals
from kp_cli.main import app as kp
from shared.db import Database, migrate
from tests.intake.ingestion.conftest import EXAMPLE_CSV, open_quarantine_count, proposal_count, save_rounds

URL = "/api/intake/v1/ingest/vest/file"


async def upload(client, name: str, content: bytes, headers: dict[str, str]):
    return await client.post(URL, files={"file": (name, content, "text/csv")}, headers=headers)


async def test_the_example_csv_gives_three_proposals_and_two_quarantined_rows(ingest, secretariat):
    response = await upload(ingest, "proposals.csv", EXAMPLE_CSV.read_bytes(), secretariat("vest"))

    assert response.status_code == 200, response.text
    report = response.json()
    assert [(r["row"], r["outcome"]) for r in report["rows"]] == [
        (2, "accepted"), (3, "accepted"), (4, "accepted"), (5, "quarantined"), (6, "quarantined"),
    ]
    assert (report["accepted"], report["duplicate"], report["quarantined"]) == (3, 0, 2)
    reasons = {r["row"]: {(x["field"], x["rule"]) for x in r["reasons"]} for r in report["rows"]}
    assert reasons[5] == {("title", "missing"), ("proposer_email", "value_error")}
    assert reasons[6] == {("municipality", "unknown-municipality"), ("consent", "consent-required")}
    assert await proposal_count(ingest) == 3 and await open_quarantine_count(ingest) == 2


async def test_the_same_file_again_makes_nothing_new(ingest, secretariat):
    first = (await upload(ingest, "proposals.csv", EXAMPLE_CSV.read_bytes(), secretariat("vest"))).json()
    again = (await upload(ingest, "proposals.csv", EXAMPLE_CSV.read_bytes(), secretariat("vest"))).json()

    assert [r["outcome"] for r in again["rows"]] == ["duplicate"] * 3 + ["quarantined"] * 2
    assert [r["proposal_id"] for r in again["rows"][:3]] == [r["proposal_id"] for r in first["rows"][:3]]
    assert [r["quarantine_id"] for r in again["rows"][3:]] == [r["quarantine_id"] for r in first["rows"][3:]]
    assert await proposal_count(ingest) == 3 and await open_quarantine_count(ingest) == 2
    listed = (await ingest.get("/api/intake/v1/ingest/vest/quarantine", headers=secretariat("vest"))).json()
    assert {e["times_received"] for e in listed} == {2}


async def test_an_xlsx_file_is_read_like_a_csv(ingest, secretariat):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["External_ID", "Round", "Municipality", "Title", "Population", "Intervention", "Outcome",
                  "Decision_text", "Decision_date", "Proposer_name", "Proposer_email", "Consent", "Ignored"])
    # Spreadsheets store numbers and dates as such: the municipality number and the decision date here.
    sheet.append(["X-1", "vest-demo", 4601, "Ernæring i sykehjem", "Beboere i sykehjem", "Kostveileder",
                  "Bedre ernæring", "Budsjett 2027", date(2026, 12, 1), "Kari Nordmann", "kari@example.no", "ja", "?"])
    sheet.append([])
    sheet.append(["X-2", "vest-demo", 4601, "Søvn hos eldre", "Eldre", "Søvnhygiene", "Bedre søvn", None, None,
                  "Kari Nordmann", "kari@example.no", "nei", None])
    buffer = io.BytesIO()
    workbook.save(buffer)

    response = await upload(ingest, "innspill.xlsx", buffer.getvalue(), secretariat("vest"))

    assert response.status_code == 200, response.text
    rows = response.json()["rows"]
    assert [(r["row"], r["external_id"], r["outcome"]) for r in rows] == [
        (2, "X-1", "accepted"), (4, "X-2", "quarantined"),
    ]
    assert rows[1]["reasons"] == [
        {"field": "consent", "rule": "consent-required", "message": "consent to store the proposal is required"}
    ]


async def test_a_comma_separated_file_without_bom_is_read_too(ingest, secretariat):
    text = EXAMPLE_CSV.read_text(encoding="utf-8-sig").replace(";", ",").replace("Sansehage, musikkterapi", "Sansehage")
    response = await upload(ingest, "proposals.csv", text.encode(), secretariat("vest"))
    assert [r["outcome"] for r in response.json()["rows"]].count("accepted") == 3


async def test_a_file_without_the_required_columns_is_refused_naming_them(ingest, secretariat):
    response = await upload(ingest, "x.csv", b"external_id;title\nA;Noe\n", secretariat("vest"))
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"].endswith("/ingest-file-unreadable") and "round" in problem["detail"]
    assert problem["errors"][0]["field"] == "file"


async def test_uploading_needs_the_regions_secretariat(ingest, secretariat):
    anonymous = await ingest.post(URL, files={"file": ("p.csv", EXAMPLE_CSV.read_bytes(), "text/csv")})
    other_region = await upload(ingest, "p.csv", EXAMPLE_CSV.read_bytes(), secretariat("nord"))
    assert anonymous.status_code == 401 and other_region.status_code == 403
    assert await proposal_count(ingest) == 0


def test_kp_intake_import_writes_to_the_database_and_reports_each_row(tmp_path, monkeypatch):
    url = f"sqlite+aiosqlite:///{tmp_path}/intake.db"
    migrate(MIGRATIONS, url)

    async def prepare() -> None:
        database = Database(url)
        await save_rounds(database)
        await database.dispose()

    asyncio.run(prepare())
    monkeypatch.setenv("KP_INTAKE_DATABASE_URL", url)

    result = CliRunner().invoke(kp, ["intake", "import", str(EXAMPLE_CSV), "--region", "vest", "--json"])

    assert result.exit_code == 1, result.output  # two rows were quarantined
    assert '"status": "quarantined"' in result.output and '"reference": "VEST-' in result.output
    engine = create_engine(f"sqlite:///{tmp_path}/intake.db")
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(proposals)).scalar_one() == 3
        assert connection.execute(select(func.count()).select_from(ingest_quarantine)).scalar_one() == 2
    engine.dispose()
