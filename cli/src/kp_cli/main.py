"""The `kp` command line: the composition root that runs, serves, migrates, bootstraps and seeds."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from kp_cli import run_env
from kp_cli.errors import explain
from kp_cli.intake_commands import intake_app
from kp_cli.seed_2019 import seed_demo_2019
from kp_cli.services import SERVICE_NAMES, service
from shared.messaging.bootstrap import BootstrapReport
from shared.settings import CommonSettings

if TYPE_CHECKING:
    from nats.aio.client import Client

    from shared.messaging.outbox import OutboxStatus

app = typer.Typer(
    help="Kunnskapsportalen: run, serve, migrate and operate the services.", no_args_is_help=True,
    pretty_exceptions_enable=False,
)
nats_app = typer.Typer(help="The NATS JetStream streams and consumers.", no_args_is_help=True)
dlq_app = typer.Typer(help="Dead letters: messages that could not be handled.", no_args_is_help=True)
seed_app = typer.Typer(help="Demo data.", no_args_is_help=True)
outbox_app = typer.Typer(help="The services' transactional outboxes.", no_args_is_help=True)
i18n_app = typer.Typer(help="The gettext catalogues (nb, nn, en).", no_args_is_help=True)
app.add_typer(nats_app, name="nats")
app.add_typer(i18n_app, name="i18n")
app.add_typer(dlq_app, name="dlq")
app.add_typer(seed_app, name="seed")
app.add_typer(outbox_app, name="outbox")
app.add_typer(intake_app, name="intake")
seed_app.command("demo-2019")(seed_demo_2019)

console = Console()

NATS_URL_HELP = "NATS server URL, or a cluster's URLs comma-separated; default KP_NATS_URL"


def _services(name: str) -> list[str]:
    if name == "all":
        return list(SERVICE_NAMES)
    if name not in SERVICE_NAMES:
        raise typer.BadParameter(f"unknown service {name!r}; choose one of: all, {', '.join(SERVICE_NAMES)}")
    return [name]


@app.command()
def migrate(name: Annotated[str, typer.Argument(help="A service, or 'all'")] = "all") -> None:
    """Upgrade a service's database to the newest migration."""
    from shared.db import migrate as run_migrations

    for service_name in _services(name):
        entry = service(service_name)
        settings = entry.settings()
        run_migrations(entry.migrations, settings.database_url)
        console.print(f"[green]migrated[/] {service_name}")


@nats_app.command("bootstrap")
def nats_bootstrap(
    replicas: Annotated[int, typer.Option(help="Stream replicas (3 in a cluster)")] = 1,
    url: Annotated[str | None, typer.Option(help=NATS_URL_HELP)] = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for JetStream to be ready (a cluster electing)")] = 60.0,
) -> None:
    """Create or update every stream and durable consumer (idempotent; run at every deploy)."""
    report = asyncio.run(_bootstrap(url or CommonSettings().nats_url, replicas, wait=wait))
    for name in report.created:
        console.print(f"[green]created[/] {name}")
    for name in report.updated:
        console.print(f"updated {name}")
    if report.warning:
        Console(stderr=True).print(f"[yellow]warning:[/] {report.warning}", highlight=False, soft_wrap=True)


async def _bootstrap(url: str, replicas: int, *, wait: float = 60.0) -> BootstrapReport:
    from nats.errors import NoRespondersError
    from nats.errors import TimeoutError as NatsTimeout
    from nats.js.errors import ServiceUnavailableError

    from shared.messaging.bootstrap import bootstrap_streams

    nc = await connect_nats(url, max_reconnect_attempts=3)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                return await bootstrap_streams(nc, replicas=replicas)
            except (NatsTimeout, NoRespondersError, ServiceUnavailableError):
                # A cluster that has just started elects its JetStream meta leader first (seconds); the
                # bootstrap converges, so running it again from the start is safe.
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(1.0)
    finally:
        await nc.close()


async def connect_nats(url: str | None, **options: Any) -> Client:
    """A nats-py client on KP_NATS_URL (or `url`): one server, or a cluster's servers comma-separated."""
    import nats

    from shared.messaging.broker import nats_servers

    async def one_server_failed(_error: Exception) -> None:
        """A server of the list that is down is no error while another answers (nats-py would log a traceback
        for each); when none answers, connect raises NoServersError, which `explain` puts in one line."""

    servers = nats_servers(url or CommonSettings().nats_url)
    try:
        return await nats.connect(servers, connect_timeout=5, error_cb=one_server_failed, **options)
    except Exception as error:
        error.add_note(f"nats servers: {', '.join(servers)}")  # `explain` names them in its one line
        raise


@dlq_app.command("list")
def dlq_list(url: Annotated[str | None, typer.Option(help=NATS_URL_HELP)] = None) -> None:
    """Show every dead letter with its reason."""
    from shared.messaging.deadletters import list_dead_letters

    async def run() -> None:
        nc = await connect_nats(url)
        try:
            letters = await list_dead_letters(nc)
        finally:
            await nc.close()
        table = Table("seq", "consumer", "original", "deliveries", "reason", "dead at")
        for letter in letters:
            table.add_row(
                str(letter.dlq_seq), letter.consumer, f"{letter.stream}/{letter.stream_seq}", str(letter.deliveries),
                letter.reason, letter.dead_at,
            )
        console.print(table)
        console.print(f"{len(letters)} dead letter(s)")

    asyncio.run(run())


@dlq_app.command("replay")
def dlq_replay(
    seq: Annotated[list[int] | None, typer.Argument(help="KP_DLQ sequence numbers; none with --all")] = None,
    replay_all: Annotated[bool, typer.Option("--all", help="Replay every dead letter")] = False,
    url: Annotated[str | None, typer.Option(help=NATS_URL_HELP)] = None,
) -> None:
    """Publish dead letters' original messages again and remove them from KP_DLQ."""
    from shared.messaging.deadletters import list_dead_letters, replay_dead_letter

    if not seq and not replay_all:
        raise typer.BadParameter("name the sequence numbers to replay, or pass --all")

    async def run() -> int:
        nc = await connect_nats(url)
        try:
            letters = await list_dead_letters(nc)
            chosen = letters if replay_all else [letter for letter in letters if letter.dlq_seq in set(seq or [])]
            missing = set(seq or []) - {letter.dlq_seq for letter in chosen}
            for number in sorted(missing):
                console.print(f"[red]no dead letter with seq {number}[/]")
            for letter in chosen:
                subject = await replay_dead_letter(nc, letter)
                console.print(f"replayed {letter.dlq_seq} → {subject}")
            return len(missing)
        finally:
            await nc.close()

    if asyncio.run(run()):
        raise typer.Exit(1)


@outbox_app.command("status")
def outbox_status_command(
    name: Annotated[str, typer.Argument(help="A service, or 'all'")] = "all",
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per service, for scripts")] = False,
    max_age: Annotated[
        float | None, typer.Option(help="Exit 1 when a service's oldest pending event is older (seconds)")
    ] = None,
) -> None:
    """Events waiting for the broker, per service: how many, and how long the oldest has waited.

    Reads each service's database (KP_<SERVICE>_DATABASE_URL), so it works while the service is down. A
    backlog that grows, or an oldest event older than seconds, means the relay cannot publish: its
    warnings (`outbox.relay_failed`) and `last error` name the cause."""
    statuses = asyncio.run(_outbox_statuses(_services(name)))
    if as_json:
        for service_name, status in statuses.items():
            found = {"unreadable": status} if isinstance(status, str) else status.as_dict()
            print(json.dumps({"service": service_name, **found}))
    else:
        table = Table("service", "pending", "oldest pending", "last error")
        for service_name, status in statuses.items():
            if isinstance(status, str):
                table.add_row(service_name, "?", "", f"[red]cannot read the outbox: {status}[/]")
                continue
            age = "" if status.oldest_pending_seconds is None else f"{status.oldest_pending_seconds:.1f} s"
            table.add_row(service_name, str(status.pending), age, status.last_error or "")
        console.print(table)
    unreadable = any(isinstance(s, str) for s in statuses.values())
    too_old = max_age is not None and any(
        (s.oldest_pending_seconds or 0) > max_age for s in statuses.values() if not isinstance(s, str)
    )
    if unreadable or too_old:
        raise typer.Exit(1)


async def _outbox_statuses(names: list[str]) -> dict[str, OutboxStatus | str]:
    """Each service's status, or why its outbox cannot be read (one database down hides no other)."""
    from sqlalchemy import MetaData

    from kp_cli.services import service_settings
    from shared.db import Database
    from shared.messaging.outbox import outbox_status
    from shared.messaging.tables import outbox_table

    # Every service's outbox is the shared table definition, so no service code is needed to read it.
    outbox = outbox_table(MetaData())
    statuses: dict[str, OutboxStatus | str] = {}
    for service_name in names:
        database = Database(service_settings(service_name).database_url)
        try:
            statuses[service_name] = await outbox_status(database, outbox)
        except Exception as error:
            statuses[service_name] = explain(error) or f"{type(error).__name__}: {error}"
        finally:
            await database.dispose()
    return statuses


@seed_app.command("demo")
def seed_demo_command() -> None:
    """Region `vest` with an open round (demo users come with the registry's dev login)."""
    from kp_cli.seed import seed_demo

    round_ = asyncio.run(seed_demo())
    console.print(f"seeded round {round_.id} ({round_.region}), open until {round_.closes_at.isoformat()}")


@app.command()
def serve(
    name: Annotated[str, typer.Argument(help="One of: " + ", ".join(SERVICE_NAMES))],
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8080,
) -> None:
    """Run one service as its own process (the separate-process and Kubernetes mode)."""
    import uvicorn

    entry = service(_services(name)[0])
    application = entry.create_app(entry.settings())
    uvicorn.run(application, host=host, port=port, log_config=None, timeout_graceful_shutdown=10)


@app.command()
def run(
    port: Annotated[int, typer.Option(envvar="KP_PORT", help="The one HTTP port for all services")] = 8000,
    host: Annotated[str, typer.Option(envvar="KP_HOST", help="Interface to listen on")] = "127.0.0.1",
    var_dir: Annotated[Path, typer.Option(envvar="KP_VAR_DIR", help="Where NATS and SQLite keep data")] = Path("var"),
) -> None:
    """The embedded default: nats-server, SQLite, all five services behind one port, demo data."""
    import uvicorn

    from kp_cli.embedded import EmbeddedSystem

    os.environ.setdefault("KP_ENV", "dev")
    # The links in proposers' e-mails (intake's signed revise links) point at this server.
    os.environ.setdefault("KP_INTAKE_PUBLIC_URL", f"http://{host}:{port}")
    system = EmbeddedSystem(var_dir.resolve())
    system.start_broker()
    # Other `kp` commands run beside this one (`kp seed demo-2019` in a second terminal) read this file,
    # so they use the same broker, databases and dev settings without any variable to set by hand.
    written = run_env.write(var_dir.resolve(), {
        key: os.environ[key] for key in ("KP_ENV", "KP_NATS_URL", "KP_VAR_DIR", "KP_INTAKE_PUBLIC_URL")
    })
    try:
        system.prepare()
        gateway = system.gateway()
        console.print(
            f"Kunnskapsportalen on [bold]http://{host}:{port}[/] (NATS {system.nats.url}); Ctrl-C stops everything"
        )
        config = uvicorn.Config(gateway, host=host, port=port, log_config=None, timeout_graceful_shutdown=10)
        uvicorn.Server(config).run()
    finally:
        written.unlink(missing_ok=True)
        system.stop_broker()


@i18n_app.command("check")
def i18n_check() -> None:
    """Fail on a message key used but not defined, or missing, empty or different in nb, nn or en."""
    from kp_cli.catalogues import problems

    found = list(problems())
    for line in found:
        console.print(line)
    console.print(f"{len(found)} problem(s)")
    if found:
        raise typer.Exit(1)


@i18n_app.command("extract")
def i18n_extract() -> None:
    """Add every key the code and templates use but no catalogue defines, empty, to translate."""
    from kp_cli.catalogues import extract

    for domain, keys in extract().items():
        for key in keys:
            console.print(f"{domain}: added {key}")


def main() -> None:
    # A terminal's Ctrl-C goes to uvicorn; make SIGTERM from a process manager behave the same way.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    run_env.load()
    try:
        app()
    except Exception as error:
        # Infrastructure errors (no broker, no database, settings refused) in one line, not a traceback;
        # KP_DEBUG=1 shows the traceback for a bug report.
        line = explain(error)
        if line is None or os.environ.get("KP_DEBUG"):
            raise
        Console(stderr=True).print(f"[red]kp:[/] {line}", highlight=False, soft_wrap=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
