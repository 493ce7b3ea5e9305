"""Idempotent consumers against a real nats-server: a redelivered or republished event does nothing twice."""

from __future__ import annotations

import httpx
import pytest
from nats.aio.client import Client
from sqlalchemy import func, select

from kp_cli.nats_server import NatsServer
from scoring.tables import inbox as scoring_inbox
from shared.contracts.subjects import SCORING_PROPOSAL_SUBMITTED
from tests.support.live import proposal_envelope, publish_event, running_scoring
from tests.support.waiting import eventually

pytestmark = pytest.mark.live


async def test_the_same_event_stored_twice_makes_one_candidate(
    database_url: str, nats_server: NatsServer, nc: Client
) -> None:
    event = proposal_envelope(round_id="vest-2026")
    # Different Nats-Msg-Ids defeat the stream's dedup: JetStream stores and delivers both copies.
    first = await publish_event(nc, event, msg_id=event["id"])
    second = await publish_event(nc, event, msg_id=f"{event['id']}-again")
    assert second == first + 1

    async with running_scoring(database_url, nats_server.url) as app:
        durable = SCORING_PROPOSAL_SUBMITTED

        async def both_acknowledged() -> bool:
            info = await nc.jsm().consumer_info(durable.stream, durable.durable)
            return info.ack_floor.stream_seq >= second and info.num_ack_pending == 0

        await eventually(both_acknowledged, timeout=30, message="scoring acknowledges both copies")
        info = await nc.jsm().consumer_info(durable.stream, durable.durable)
        assert info.delivered.stream_seq == second
        assert info.num_redelivered == 0, "a duplicate is acknowledged, not retried"

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://scoring.test") as client:
            response = await client.get("/api/scoring/v1/rounds/vest-2026/candidates")
        assert response.status_code == 200
        candidates = response.json()
        assert [c["proposal_id"] for c in candidates] == [event["data"]["proposal_id"]]

        database = app.state.runtime.database
        async with database.reader() as session:
            claims = (
                await session.execute(
                    select(func.count()).select_from(scoring_inbox).where(scoring_inbox.c.event_id == event["id"])
                )
            ).scalar_one()
        assert claims == 1
