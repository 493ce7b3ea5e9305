"""Nothing lost, nothing repeated: 2,000 proposals while nats-server is killed twice and every consumer
service once (kill -9), each restarted. Intake keeps accepting throughout: its outbox holds the events."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable

import httpx
import pytest

from kp_cli.seed import DEMO_ROUND_ID
from tests.support.processes import ServiceSystem, receipt_reference

pytestmark = pytest.mark.faults

TOTAL = 2000
CONCURRENCY = 16

# (proposals submitted so far, what to kill): spread over the run so each crash meets traffic.
CHAOS = [
    (250, "nats"),
    (600, "scoring"),
    (900, "registry"),
    (1200, "notify"),
    (1500, "nats"),
    (1750, "ordering"),
]


def body(i: int) -> dict[str, object]:
    return {
        "region": "vest",
        "round": DEMO_ROUND_ID,
        "municipality": "4601",
        "title": f"Forslag nummer {i} om kunnskapsbehov",
        "question": {"population": "Eldre", "intervention": "Tiltak", "comparison": "Vanleg praksis",
                     "outcome": "Betre helse"},
        "consent": True,
        "proposer": {"name": "Test Person", "email": f"person{i}@example.no"},
        "language": "nn" if i % 2 else "nb",
    }


async def run_load(system: ServiceSystem) -> dict[int, str]:
    """Submit every proposal once (retrying with its Idempotency-Key) while the chaos plan runs."""
    accepted: dict[int, str] = {}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(TOTAL):
        queue.put_nowait(i)
    progress = asyncio.Event()

    async def worker(client: httpx.AsyncClient) -> None:
        while True:
            try:
                i = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            for attempt in range(50):
                try:
                    response = await client.post(
                        "/api/intake/v1/proposals", json=body(i), headers={"Idempotency-Key": f"fault-{i}"}
                    )
                    if response.status_code in (200, 201):
                        accepted[i] = response.json()["id"]
                        progress.set()
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(min(2.0, 0.1 * (attempt + 1)))
            else:
                raise AssertionError(f"proposal {i} was never accepted")

    async def chaos() -> None:
        for threshold, target in CHAOS:
            while len(accepted) < threshold:
                progress.clear()
                await progress.wait()
            if target == "nats":
                system.nats.kill()
                await asyncio.sleep(1.0)
                await asyncio.to_thread(system.nats.start)
            else:
                system.services[target].kill()
                await asyncio.sleep(0.5)
                system.restart(target)
                await asyncio.to_thread(system.services[target].wait_ready, 90)

    async with httpx.AsyncClient(base_url=system.url("intake"), timeout=10) as client:
        chaos_task = asyncio.create_task(chaos())
        await asyncio.gather(*(worker(client) for _ in range(CONCURRENCY)))
        await chaos_task
    return accepted


def wait_for(description: str, condition: Callable[[], bool | int], timeout: float = 240.0) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = condition()
        if last is True:
            return
        time.sleep(1.0)
    raise AssertionError(f"{description}: not reached within {timeout} s (last: {last})")


def test_kill_nats_twice_and_each_consumer_once_loses_and_repeats_nothing(tmp_path):
    with ServiceSystem(tmp_path) as system:
        accepted = asyncio.run(run_load(system))
        assert len(accepted) == TOTAL
        proposal_ids = set(accepted.values())
        assert len(proposal_ids) == TOTAL, "an Idempotency-Key retry created a second proposal"

        def candidates() -> list[str]:
            url = f"{system.url('scoring')}/api/scoring/v1/rounds/{DEMO_ROUND_ID}/candidates"
            return [c["proposal_id"] for c in httpx.get(url, timeout=30).json()]

        def needs() -> list[str]:
            url = f"{system.url('registry')}/api/registry/v1/knowledge-needs"
            return [n["proposal_id"] for n in httpx.get(url, params={"region": "vest"}, timeout=30).json()]

        def receipts() -> list[str]:
            return [receipt_reference(p.name) for p in (system.var_dir / "mail").glob("*.eml")]

        def all_of(found: Callable[[], list[str]]) -> Callable[[], bool | int]:
            def check() -> bool | int:
                count = len(set(found()))
                return True if count >= TOTAL else count

            return check

        wait_for("every candidate", all_of(candidates))
        wait_for("every knowledge need", all_of(needs))
        wait_for("every receipt", all_of(receipts))
        time.sleep(3)  # anything still in flight would show up as a duplicate now

        found_candidates, found_needs, found_receipts = candidates(), needs(), receipts()
        assert set(found_candidates) == proposal_ids, "proposals lost on the way to scoring"
        assert set(found_needs) == proposal_ids, "proposals lost on the way to the registry"
        assert len(set(found_receipts)) == TOTAL, "receipts lost"
        duplicates = {
            "candidates": len(found_candidates) - len(set(found_candidates)),
            "knowledge needs": len(found_needs) - len(set(found_needs)),
            "receipts": sum(n - 1 for n in Counter(found_receipts).values()),
        }
        assert duplicates == {"candidates": 0, "knowledge needs": 0, "receipts": 0}
