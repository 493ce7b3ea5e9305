"""Run every benchmark once and print figures, goals and ratios.

- intake: POST /api/intake/v1/proposals at 32 concurrent clients, intake alone in one process on SQLite;
- baseline: a bare FastAPI + SQLAlchemy insert-one-row endpoint under the same load;
- baseline: raw JetStream acknowledged publishes/s with 32 publishers in flight;
- end to end: submission → receipt written, at a steady 50 proposals/s, all five services as processes.
- analysis: the secretariat's analysis API and page at 100,000 proposals, SQLite and PostgreSQL (bench.analysis).
- relay: the outbox relay's events/s with nats-server at `sync_interval: always`, a 10,000-event backlog, and the
  pending rows under a steady load, on SQLite and PostgreSQL (bench.relay).
"""

from __future__ import annotations

import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import httpx
import nats

from bench import analysis as analysis_bench
from bench import relay as relay_bench
from kp_cli.nats_server import NatsServer, free_port
from kp_cli.seed import DEMO_ROUND_ID
from tests.support.processes import ServiceProcess, ServiceSystem, receipt_reference

CONCURRENCY = 32
WARMUP = 200
REQUESTS = 4000
E2E_RATE = 50
E2E_SECONDS = 20


@dataclass
class LoadResult:
    requests: int
    seconds: float
    latencies_ms: list[float]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def closed_loop(send: Callable[[int], Awaitable[None]], total: int, concurrency: int) -> LoadResult:
    """`concurrency` clients, each sending its next request when the previous one is answered."""
    latencies: list[float] = []
    counter = iter(range(total))

    async def client() -> None:
        for i in counter:
            started = time.perf_counter()
            await send(i)
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return LoadResult(total, time.perf_counter() - started, latencies)


def proposal(i: int, round_id: str = DEMO_ROUND_ID) -> dict[str, object]:
    return {
        "region": "vest", "round": round_id, "municipality": "4601", "title": f"Benchmark-forslag {i}",
        "question": {"population": "Eldre i heimetenesta", "intervention": "Velferdsteknologi",
                     "comparison": "Vanlege tenester", "outcome": "Kostnad og livskvalitet"},
        "background": "Syntetisk last.", "consent": True,
        "proposer": {"name": "Bench Person", "email": f"bench{i}@example.no"},
    }


async def http_load(base_url: str, path: str, body: Callable[[int], dict[str, object]]) -> LoadResult:
    """POST bodies from `CONCURRENCY` keep-alive clients (aiohttp: a light client, so the server is measured)."""
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(base_url, connector=connector) as session:

        async def send(i: int) -> None:
            async with session.post(path, json=body(i)) as response:
                text = await response.read()
                if response.status != 201:
                    raise RuntimeError(f"{response.status}: {text[:300]!r}")

        await closed_loop(send, WARMUP, CONCURRENCY)
        return await closed_loop(lambda i: send(i + WARMUP), REQUESTS, CONCURRENCY)


# What a production deployment would typically sample: 1 % of new traces (parent-based, so a sampled
# request stays sampled across services).
ONE_PERCENT_SAMPLING = {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.01"}


def bench_intake(root: Path, extra_env: dict[str, str] | None = None) -> LoadResult:
    system = ServiceSystem(root / ("intake-sampled" if extra_env else "intake"), names=("intake",))
    if extra_env:
        original_env = system.env
        system.env = lambda: original_env() | extra_env  # type: ignore[method-assign]
    with system:
        return asyncio.run(http_load(system.url("intake"), "/api/intake/v1/proposals", proposal))


def bench_form(root: Path) -> LoadResult:
    """The public HTML form, as a browser posts it: CSRF cookie and token, the final "submit" step."""
    system = ServiceSystem(root / "form", names=("intake",))
    form_path = f"/intake/vest/rounds/{DEMO_ROUND_ID}/proposal"

    async def run(base_url: str) -> LoadResult:
        connector = aiohttp.TCPConnector(limit=CONCURRENCY)
        # unsafe=True: keep cookies (the CSRF cookie) set by a server addressed by IP, as a browser does.
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(base_url, connector=connector, cookie_jar=jar) as session:
            async with session.get(form_path) as response:
                page = await response.text()
            token = re.search(r'name="csrf_token" value="([^"]+)"', page)
            assert token is not None, "the form carries no CSRF token"

            async def send(i: int) -> None:
                fields = {
                    "csrf_token": token[1], "step": "submit", "submission_id": f"bench-{i}",
                    "title": f"Skjemaforslag {i} om velferdsteknologi", "population": "Heimebuande eldre",
                    "intervention": "Velferdsteknologi", "comparison": "Vanlege tenester", "outcome": "Livskvalitet",
                    "organisation": "m:4601", "service_area": "eldre", "name": "Bench Person",
                    "email": f"form{i}@example.no", "consent": "yes",
                }
                async with session.post(form_path, data=fields, allow_redirects=False) as response:
                    body = await response.read()
                    if response.status != 303:
                        raise RuntimeError(f"{response.status}: {body[:300]!r}")

            await closed_loop(send, WARMUP, CONCURRENCY)
            return await closed_loop(lambda i: send(i + WARMUP), REQUESTS // 2, CONCURRENCY)

    original_env = system.env
    # The limiter (10 posts a minute per address) would refuse a load generator; it is tested in tests/web.
    system.env = lambda: original_env() | {"KP_PAGES_FORM_RATE_LIMIT": "1000000"}  # type: ignore[method-assign]
    with system:
        return asyncio.run(run(system.url("intake")))


def bench_bare_endpoint(root: Path) -> LoadResult:
    port = free_port()
    env = dict(os.environ, BENCH_DATABASE_URL=f"sqlite+aiosqlite:///{root / 'bare.db'}")
    process = ServiceProcess("bare", port, env, root / "bare.log")
    process.process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.bare_app:create", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.post(f"{process.url}/rows", json={"title": "ping"}, timeout=2)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        return asyncio.run(http_load(process.url, "/rows", lambda i: {"title": f"row {i}"}))
    finally:
        process.stop()


def bench_jetstream(root: Path) -> LoadResult:
    async def run(url: str) -> LoadResult:
        from kp_cli.main import _bootstrap

        await _bootstrap(url, 1)
        nc = await nats.connect(url)
        js = nc.jetstream()
        payload = b"x" * 600  # about the size of a proposal.submitted envelope

        async def send(i: int) -> None:
            await js.publish("kp.intake.bench.proposal.submitted.v1", payload, stream="KP_INTAKE",
                             headers={"Nats-Msg-Id": f"bench-{i}"})

        try:
            await closed_loop(lambda i: send(i + 10**7), WARMUP, CONCURRENCY)
            return await closed_loop(send, REQUESTS * 2, CONCURRENCY)
        finally:
            await nc.close()

    with NatsServer(store_dir=root / "js-bench") as server:
        return asyncio.run(run(server.url))


def bench_end_to_end(root: Path) -> tuple[LoadResult, int]:
    """Open loop at a steady rate; latency is submission start → the receipt file's write time."""
    with ServiceSystem(root / "e2e") as system:
        mail_dir = system.var_dir / "mail"
        sent_at: dict[str, float] = {}
        total = E2E_RATE * E2E_SECONDS

        async def run() -> None:
            async with httpx.AsyncClient(base_url=system.url("intake"), timeout=30) as client:

                async def one(i: int) -> None:
                    started = time.time()
                    response = await client.post("/api/intake/v1/proposals", json=proposal(i))
                    sent_at[response.json()["reference"]] = started

                tasks = []
                begin = time.perf_counter()
                for i in range(total):
                    await asyncio.sleep(max(0.0, begin + i / E2E_RATE - time.perf_counter()))
                    tasks.append(asyncio.create_task(one(i)))
                await asyncio.gather(*tasks)

        started = time.perf_counter()
        asyncio.run(run())
        deadline = time.monotonic() + 120
        while len(list(mail_dir.glob("*.eml"))) < total and time.monotonic() < deadline:
            time.sleep(0.2)
        latencies = []
        for path in mail_dir.glob("*.eml"):
            reference = receipt_reference(path.name)
            if reference in sent_at:
                latencies.append((path.stat().st_mtime - sent_at[reference]) * 1000)
        return LoadResult(total, time.perf_counter() - started, latencies), len(latencies)


def row(label: str, value: str, goal: str = "") -> None:
    print(f"  {label:<52} {value:>16}  {goal}")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="kp-bench-") as tmp:
        root = Path(tmp)
        print(f"Kunnskapsportalen benchmarks ({os.cpu_count()} CPUs, Python {sys.version.split()[0]})\n")
        intake = bench_intake(root)
        intake_sampled = bench_intake(root, ONE_PERCENT_SAMPLING)
        form = bench_form(root)
        bare = bench_bare_endpoint(root)
        jetstream = bench_jetstream(root)
        e2e, receipts = bench_end_to_end(root)
        relay = relay_bench.run(root)

    print(f"Intake, POST /api/intake/v1/proposals, {CONCURRENCY} concurrent clients, SQLite, one process")
    row("requests/s", f"{intake.per_second:,.0f}", "goal ≥ 500")
    row("p50 latency", f"{intake.percentile(50):.1f} ms")
    row("p99 latency", f"{intake.percentile(99):.1f} ms", "goal ≤ 150 ms")
    row("requests/s with 1 % of traces sampled", f"{intake_sampled.per_second:,.0f}")
    row("p50 / p99 with 1 % of traces sampled",
        f"{intake_sampled.percentile(50):.1f} / {intake_sampled.percentile(99):.1f} ms")
    print(f"Proposal form, POST {CONCURRENCY} concurrent browsers (CSRF, validation, the final step), same process")
    row("form submissions/s", f"{form.per_second:,.0f}")
    row("p50 / p99 latency", f"{form.percentile(50):.1f} / {form.percentile(99):.1f} ms")
    print("Baselines, same run, same load")
    row("bare FastAPI + SQLAlchemy insert, requests/s", f"{bare.per_second:,.0f}")
    row("bare endpoint p50 / p99", f"{bare.percentile(50):.1f} / {bare.percentile(99):.1f} ms")
    row("raw JetStream acknowledged publishes/s", f"{jetstream.per_second:,.0f}")
    print(f"End to end, submission → receipt written, steady {E2E_RATE}/s for {E2E_SECONDS} s, five processes")
    row("receipts written", f"{receipts} of {e2e.requests}")
    if e2e.latencies_ms:
        row("p50 latency", f"{e2e.percentile(50):.0f} ms")
        row("p99 latency", f"{e2e.percentile(99):.0f} ms", "goal ≤ 500 ms")
    print("Ratios")
    row("intake / bare endpoint (requests/s)", f"{intake.per_second / bare.per_second:.2f}")
    row("intake p99 / bare endpoint p99", f"{intake.percentile(99) / bare.percentile(99):.2f}")
    row("intake, every trace / 1 % sampled (requests/s)", f"{intake.per_second / intake_sampled.per_second:.2f}")
    row("form submissions/s / API requests/s", f"{form.per_second / intake.per_second:.2f}")
    row("intake requests/s / JetStream publishes/s", f"{intake.per_second / jetstream.per_second:.2f}")
    if e2e.latencies_ms:
        row("end-to-end p50 / intake p50", f"{e2e.percentile(50) / intake.percentile(50):.1f}")
    print(f"  (statistics: intake mean {statistics.fmean(intake.latencies_ms):.1f} ms over {intake.requests} requests)")
    relay_bench.print_figures(relay)
    print()
    analysis_bench.main()


if __name__ == "__main__":
    main()
