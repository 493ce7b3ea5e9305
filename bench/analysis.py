"""The secretariat's analysis at scale: 400 municipalities, 100,000 proposals, on SQLite and PostgreSQL.

Measures GET /api/intake/v1/analysis and GET /intake/vest/analysis through the intake app (httpx over ASGI,
one request at a time, as a secretariat user clicks), for one round and across all rounds, and prints
p50/p95 against the goal p95 ≤ 300 ms. Run alone with `python -m bench.analysis`.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from httpx import ASGITransport, AsyncClient
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import create_async_engine

MUNICIPALITIES = 400
PROPOSALS = 100_000
ROUNDS = 10
REQUESTS = 50
WARMUP = 5
GOAL_P95_MS = 300.0
REGION = "vest"
SERVICE_AREAS = (
    "barn_og_unge", "sykehjem", "hjemmetjenester", "eldre", "forvaltning_organisasjon", "utviklingshemming",
    "psykisk_helse", "folkehelse_befolkning", "samhandling_spesialisthelsetjeneste",
)
THEMES = (
    "forebygging_helsefremming", "kvalitetsarbeid_tjenesteutvikling", "demens_behandling",
    "brukere_sammensatte_behov", "barnevern", "vanlige_tilstander_hjemmeboende", "psykisk_helse",
    "vanlige_tilstander_sykehjem", "velferdsteknologi", "ernaering", "brukermedvirkning", "palliasjon", "me", "sovn",
    "rehabilitering",
)


def round_id(index: int) -> str:
    return f"bench-{2020 + index // 2}-{'var' if index % 2 == 0 else 'haust'}"


def round_rows() -> list[dict[str, Any]]:
    rows = []
    for index in range(ROUNDS):
        opens = datetime(2020 + index // 2, 2 if index % 2 == 0 else 8, 1, tzinfo=UTC)
        rows.append({
            "id": round_id(index), "region": REGION, "name": f"Benchmark-runde {index + 1}", "opens_at": opens,
            "closes_at": opens + timedelta(days=50), "default_language": "nb",
        })
    return rows


def proposal_rows() -> Iterator[dict[str, Any]]:
    """Synthetic proposals: real-sized texts, a few large municipalities and a long tail, some units and gaps."""
    rng = random.Random(400)
    # Synthetic numbers (9000–9399) for load; the labels fall back to the number, which costs the same.
    numbers = [f"{9000 + i}" for i in range(MUNICIPALITIES)]
    weights = [1 / (i + 1) ** 0.8 for i in range(MUNICIPALITIES)]
    rounds = round_rows()
    chosen = rng.choices(numbers, weights=weights, k=PROPOSALS)
    text_block = "Syntetisk tekst for lasttest. " * 8
    for i in range(PROPOSALS):
        round_ = rounds[i % ROUNDS]
        unit = "usht-hordaland" if i % 20 == 0 else None
        yield {
            "id": f"bench-{i:06d}", "reference": f"BENCH-{i:06d}", "region": REGION, "round_id": round_["id"],
            "municipality_number": None if unit else chosen[i], "unit_code": unit, "department": "",
            "service_area": rng.choice(SERVICE_AREAS), "theme": None if i % 50 == 0 else rng.choice(THEMES),
            "title": f"Benchmark-forslag {i}", "population": text_block, "intervention": text_block,
            "comparison": "", "outcome": text_block, "background": text_block, "language": "nb",
            "status": "submitted", "submitted_at": round_["opens_at"] + timedelta(seconds=rng.randrange(50 * 86400)),
            "decision_text": "", "self_assessment": "{}", "proposer_name": "Bench Person",
            "proposer_email": "bench@example.no",
        }


async def load(url: str) -> float:
    """Migrate and bulk-load the data (executemany in batches); returns the seconds it took."""
    from intake.app import MIGRATIONS
    from intake.tables import proposals, rounds
    from shared.db import migrate_async

    started = time.perf_counter()
    await migrate_async(MIGRATIONS, url)
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(insert(rounds), round_rows())
            batch: list[dict[str, Any]] = []
            for row in proposal_rows():
                batch.append(row)
                if len(batch) == 10_000:
                    await connection.execute(insert(proposals), batch)
                    batch = []
            if batch:
                await connection.execute(insert(proposals), batch)
    finally:
        await engine.dispose()
    await maintain(url)
    return time.perf_counter() - started


async def maintain(url: str, statements: tuple[str, ...] = ()) -> None:
    """Run `statements`, then refresh planner statistics (and PostgreSQL's visibility map) as autovacuum would."""
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
            await connection.execute(text("ANALYZE" if url.startswith("sqlite") else "VACUUM ANALYZE"))
    finally:
        await engine.dispose()


@dataclass
class Figures:
    name: str
    latencies_ms: list[float]

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def measure(url: str, tmp: Path) -> list[Figures]:
    """p50/p95 of the API and the page, for one round and across rounds, through the intake app."""
    from intake.app import create_app
    from intake.settings import IntakeSettings
    from shared.auth import Role, RoleGrant, issue_token
    from shared.settings import CommonSettings

    common = CommonSettings(env="test", var_dir=tmp)
    app = create_app(IntakeSettings(database_url=url, common=common))
    session = issue_token(common.auth_secret, "bench", (RoleGrant(Role.SECRETARIAT, REGION),), 3600)
    one_round = {"round": round_id(ROUNDS - 1)}
    scenarios = [
        ("API, one round (10,000 proposals)", "/api/intake/v1/analysis", {"region": REGION, **one_round}),
        ("API, across rounds (100,000)", "/api/intake/v1/analysis", {"region": REGION}),
        ("page, one round", f"/intake/{REGION}/analysis", one_round),
        ("page, across rounds", f"/intake/{REGION}/analysis", {}),
    ]
    results = []
    try:
        async with AsyncClient(transport=ASGITransport(app), base_url="http://bench", cookies={"kp_session": session},
                               timeout=60) as client:
            for name, path, params in scenarios:
                latencies = []
                for i in range(WARMUP + REQUESTS):
                    started = time.perf_counter()
                    response = await client.get(path, params=params)
                    elapsed = (time.perf_counter() - started) * 1000
                    if response.status_code != 200:
                        raise RuntimeError(f"{path}: {response.status_code} {response.text[:300]}")
                    if i >= WARMUP:
                        latencies.append(elapsed)
                results.append(Figures(name, latencies))
    finally:
        await app.state.runtime.database.dispose()
    return results


def row(label: str, value: str, goal: str = "") -> None:
    print(f"  {label:<52} {value:>16}  {goal}")


def report(backend: str, indexes: str, load_seconds: float, figures: list[Figures]) -> None:
    print(f"Analysis on {backend}, {indexes}: {MUNICIPALITIES} municipalities, {PROPOSALS:,} proposals in {ROUNDS} "
          f"rounds (loaded in {load_seconds:.1f} s); {REQUESTS} sequential requests each")
    for f in figures:
        p95 = f.percentile(95)
        verdict = "ok" if p95 <= GOAL_P95_MS else "MISSED"
        row(f"{f.name} p50 / p95", f"{f.percentile(50):.1f} / {p95:.1f} ms",
            f"goal p95 ≤ {GOAL_P95_MS:.0f} ms: {verdict}")
    worst = max(figures, key=lambda f: f.percentile(95))
    row("slowest p95 / goal", f"{worst.percentile(95) / GOAL_P95_MS:.2f}")
    print(f"  (mean over all requests {statistics.fmean(x for f in figures for x in f.latencies_ms):.1f} ms)")


def main() -> None:
    """Run the analysis benchmark on SQLite, then on PostgreSQL (the embedded server the live tests use)."""
    os.environ.setdefault("KP_ENV", "test")
    from tests.support.postgres import EmbeddedPostgres

    with tempfile.TemporaryDirectory(prefix="kp-bench-analysis-") as tmp:
        root = Path(tmp)
        sqlite_url = f"sqlite+aiosqlite:///{root / 'intake.db'}"
        run_backend("SQLite", sqlite_url, root)
        with EmbeddedPostgres() as server:
            run_backend("PostgreSQL", asyncio.run(server.create_database("bench")), root)


def run_backend(name: str, url: str, root: Path) -> None:
    """Load once through the migrations (with their analysis indexes), then measure."""
    seconds = asyncio.run(load(url))
    report(name, "migrated schema", seconds, asyncio.run(measure(url, root)))


if __name__ == "__main__":
    main()
