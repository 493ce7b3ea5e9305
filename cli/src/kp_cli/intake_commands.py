"""`kp intake …`: validate a region's file or CloudEvents offline, import a file, make a region key."""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from intake.ingestion.model import Outcome
from shared.errors import DomainError

intake_app = typer.Typer(help="Ingestion from other regions' systems: files, CloudEvents, keys.", no_args_is_help=True)
console = Console()

FileArgument = Annotated[
    Path,
    typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV or XLSX, or a JSON CloudEvent or batch"),
]


def _report(outcomes: Sequence[Outcome], as_json: bool) -> None:
    if as_json:
        rows = [
            {k: v for k, v in asdict(o).items() if v not in (None, (), False)}
            | {"reasons": [r.as_dict() for r in o.reasons]}
            for o in outcomes
        ]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table("row", "external id", "outcome", "proposal", "reasons")
    for o in outcomes:
        reasons = "\n".join(f"{r.field}: {r.rule} — {r.message}" for r in o.reasons)
        colour = {"invalid": "red", "quarantined": "red", "duplicate": "yellow"}.get(o.status, "green")
        table.add_row(
            str(o.row or ""), o.external_id or "", f"[{colour}]{o.status}[/]", o.reference or o.quarantine_id or "",
            reasons,
        )
    console.print(table)
    counts = {status: sum(o.status == status for o in outcomes) for status in dict.fromkeys(o.status for o in outcomes)}
    console.print(", ".join(f"{n} {status}" for status, n in counts.items()) or "no rows")


@intake_app.command("validate")
def validate(
    file: FileArgument,
    region: Annotated[str | None, typer.Option(help="The region the submissions are for (a file's default)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Check a file or CloudEvents offline (no server, no database, no rounds); exit code 1 if any is invalid."""
    from intake.ingestion.service import validate_offline

    try:
        outcomes = validate_offline(file.name, file.read_bytes(), region)
    except DomainError as error:
        console.print(f"[red]{error.field or 'file'}: {error.detail}[/]")
        raise typer.Exit(1) from None
    _report(outcomes, as_json)
    if any(o.status == "invalid" for o in outcomes):
        raise typer.Exit(1)


@intake_app.command("import")
def import_file(
    file: FileArgument,
    region: Annotated[str, typer.Option(help="The region the rows are submitted to")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Import a CSV or XLSX file into intake's database (KP_INTAKE_DATABASE_URL); exit code 1 if any is quarantined."""
    try:
        outcomes = asyncio.run(_import(file.name, file.read_bytes(), region))
    except DomainError as error:
        console.print(f"[red]{error.field or 'file'}: {error.detail}[/]")
        raise typer.Exit(1) from None
    _report(outcomes, as_json)
    if any(o.status == "quarantined" for o in outcomes):
        raise typer.Exit(1)


async def _import(name: str, content: bytes, region: str) -> list[Outcome]:
    from intake.ingestion.service import ImportFile
    from intake.ingestion.service import import_file as run_import
    from intake.settings import IntakeSettings
    from intake.tables import inbox, outbox
    from intake.uow import IntakeReader, IntakeUnitOfWork
    from shared.db import Database

    database = Database(IntakeSettings().database_url)
    try:
        # The outbox rows are published by the running service's relay (or when it next starts).
        uow = IntakeUnitOfWork(database, outbox, inbox)
        return await run_import(ImportFile(region, name, content, "cli"), uow, IntakeReader(database))
    finally:
        await database.dispose()


@intake_app.command("key")
def make_key(
    region: Annotated[str, typer.Argument(help="The region the key is for")],
    env_file: Annotated[Path | None, typer.Option(help="Also write KEY=… and KP_INTAKE_INGEST_KEYS=… to this file")]
    = None,
) -> None:
    """Make a region key: give the key to the region, put only its hash in KP_INTAKE_INGEST_KEYS."""
    key = secrets.token_urlsafe(32)
    setting = json.dumps({region: hashlib.sha256(key.encode()).hexdigest()})
    console.print(f"key for {region} (give it to the region, store it nowhere else): {key}")
    console.print(f"KP_INTAKE_INGEST_KEYS='{setting}'")
    if env_file is not None:
        # Sourcing it (`set -a; . FILE; set +a`) sets both: the server needs the hash, the region's system the key.
        env_file.parent.mkdir(parents=True, exist_ok=True)
        env_file.write_text(f"KEY={key}\nKP_INTAKE_INGEST_KEYS='{setting}'\n", encoding="utf-8")
        env_file.chmod(0o600)
