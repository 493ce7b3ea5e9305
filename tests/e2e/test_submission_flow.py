"""The five services as separate processes over a real nats-server, driven through HTTP as a user would."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx
import nats
import pytest

from kp_cli.seed import DEMO_ROUND_ID
from shared.contracts.streams import DLQ
from shared.contracts.subjects import PROPOSAL_SUBMITTED
from shared.messaging.deadletters import list_dead_letters
from tests.support.otlp import OtlpReceiver
from tests.support.processes import ServiceSystem

pytestmark = pytest.mark.e2e

PROPOSER_NAME = "Ingrid Testesen"
PROPOSER_EMAIL = "ingrid.testesen@example.no"


def proposal(title: str = "Velferdsteknologi og økonomisk gevinst") -> dict[str, Any]:
    return {
        "region": "vest",
        "round": DEMO_ROUND_ID,
        "municipality": "4621",
        "title": title,
        "question": {
            "population": "Heimebuande eldre",
            "intervention": "Velferdsteknologi",
            "comparison": "Ordinære heimetenester",
            "outcome": "Økonomisk gevinst og livskvalitet",
        },
        "background": "Voss vurderer å skalere opp.",
        "consent": True,
        "proposer": {"name": PROPOSER_NAME, "email": PROPOSER_EMAIL},
        "language": "nn",
    }


def wait_until(condition: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


@pytest.fixture(scope="module")
def otlp():
    with OtlpReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def system(tmp_path_factory, otlp):
    with ServiceSystem(tmp_path_factory.mktemp("e2e"), otlp_endpoint=otlp.endpoint) as running:
        yield running


def submit(system: ServiceSystem, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(f"{system.url('intake')}/api/intake/v1/proposals", json=body, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


def candidate_ids(system: ServiceSystem) -> set[str]:
    response = httpx.get(f"{system.url('scoring')}/api/scoring/v1/rounds/{DEMO_ROUND_ID}/candidates", timeout=10)
    return {c["proposal_id"] for c in response.json()}


def knowledge_need_ids(system: ServiceSystem) -> set[str]:
    response = httpx.get(f"{system.url('registry')}/api/registry/v1/knowledge-needs", params={"region": "vest"})
    return {n["proposal_id"] for n in response.json()}


def receipts(system: ServiceSystem, reference: str) -> list[str]:
    mail_dir = system.var_dir / "mail"
    return sorted(p.name for p in mail_dir.glob(f"{reference}-*.eml")) if mail_dir.exists() else []


def test_a_submission_reaches_scoring_registry_and_the_proposer_in_one_trace(system, otlp):
    created = submit(system, proposal())
    wait_until(lambda: created["id"] in candidate_ids(system))
    wait_until(lambda: created["id"] in knowledge_need_ids(system))
    files = wait_until(lambda: receipts(system, created["reference"]))
    assert len(files) == 1
    eml = (system.var_dir / "mail" / files[0]).read_text()
    assert created["reference"] in eml and PROPOSER_EMAIL in eml

    def trace_services() -> set[str]:
        spans = otlp.snapshot()
        roots = [s for s in spans if s.service == "kp-intake" and not s.parent_span_id and "POST" in s.name]
        if not roots:
            return set()
        trace_id = roots[-1].trace_id
        return {s.service for s in spans if s.trace_id == trace_id}

    services = wait_until(
        lambda: (found := trace_services()) >= {"kp-intake", "kp-scoring", "kp-registry", "kp-notify"} and found,
        timeout=30,
    )
    assert services >= {"kp-intake", "kp-scoring", "kp-registry", "kp-notify"}


def test_no_name_or_address_in_spans_logs_or_domain_events(system, otlp):
    created = submit(system, proposal("Sårbehandling med honning"))
    wait_until(lambda: receipts(system, created["reference"]))
    time.sleep(1.0)  # let the batch span processors export what they hold

    spans = json.dumps([[s.name, s.attributes] for s in otlp.snapshot()], default=str)
    assert otlp.snapshot(), "no spans were exported"
    for secret in (PROPOSER_NAME, PROPOSER_EMAIL, "Testesen"):
        assert secret not in spans
        assert secret not in system.logs()
        assert secret not in (system.var_dir / "nats.log").read_text(errors="replace")

    async def domain_events() -> list[bytes]:
        nc = await nats.connect(system.nats.url)
        try:
            js = nc.jetstream()
            messages = []
            for stream in ("KP_INTAKE", "KP_SCORING", "KP_ORDERING", "KP_REGISTRY", "KP_NOTIFY"):
                info = await js.stream_info(stream)
                for seq in range(info.state.first_seq, info.state.last_seq + 1):
                    if info.state.messages:
                        messages.append((await js.get_msg(stream, seq)).data or b"")
            return messages
        finally:
            await nc.close()

    import asyncio

    events = asyncio.run(domain_events())
    assert events, "no domain events were published"
    for data in events:
        assert PROPOSER_EMAIL.encode() not in data and PROPOSER_NAME.encode() not in data


def test_a_malformed_message_is_dead_lettered_and_the_next_proposal_still_flows(system):
    import asyncio

    async def publish_malformed() -> None:
        nc = await nats.connect(system.nats.url)
        try:
            js = nc.jetstream()
            await js.publish(PROPOSAL_SUBMITTED.subject("vest"), b'{"type": "kp.intake.proposal.submitted.v1"}')
        finally:
            await nc.close()

    async def dead_letters() -> list[Any]:
        nc = await nats.connect(system.nats.url)
        try:
            return await list_dead_letters(nc)
        finally:
            await nc.close()

    asyncio.run(publish_malformed())
    expected = {"scoring-proposal-submitted", "registry-proposal-submitted"}

    def invalid_letters() -> list[Any]:
        letters = [d for d in asyncio.run(dead_letters()) if "invalid event" in d.reason]
        return letters if {letter.consumer for letter in letters} >= expected else []

    letters = wait_until(invalid_letters)
    assert {letter.consumer for letter in letters} == expected
    assert all(letter.stream == "KP_INTAKE" and "id: Field required" in letter.reason for letter in letters)
    assert DLQ == "KP_DLQ"

    created = submit(system, proposal("Musikkterapi mot agitasjon"))
    wait_until(lambda: created["id"] in candidate_ids(system) and created["id"] in knowledge_need_ids(system))


def kp(system: ServiceSystem, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kp_cli.main", *args, "--url", system.nats.url],
        check=False, capture_output=True, text=True, timeout=60, env=system.env() | {"COLUMNS": "250"},
    )


def test_operators_list_and_replay_dead_letters_from_the_command_line(system):
    import asyncio

    async def publish_not_json() -> None:
        nc = await nats.connect(system.nats.url)
        try:
            await nc.jetstream().publish(PROPOSAL_SUBMITTED.subject("vest"), b"this is not json")
        finally:
            await nc.close()

    asyncio.run(publish_not_json())
    wait_until(lambda: "not JSON" in kp(system, "dlq", "list").stdout)
    listing = kp(system, "dlq", "list")
    assert listing.returncode == 0, listing.stderr
    line = next(line for line in listing.stdout.splitlines() if "not JSON" in line)
    seq = line.split("│")[1].strip()

    replayed = kp(system, "dlq", "replay", seq)
    assert replayed.returncode == 0, replayed.stderr
    assert f"replayed {seq}" in replayed.stdout
    # Still not JSON, so the consumers dead-letter the replayed copy again: nothing is dropped.
    wait_until(lambda: kp(system, "dlq", "list").stdout.count("not JSON") >= 2)
    assert kp(system, "dlq", "replay", "999999").returncode == 1
