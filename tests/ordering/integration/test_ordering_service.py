"""The ordering service: draft decisions from scoring's recommended rankings."""

from __future__ import annotations

import json
from datetime import date

from faststream.nats import TestNatsBroker
from httpx import ASGITransport, AsyncClient

from ordering.app import create_app
from ordering.settings import OrderingSettings
from shared.contracts.envelope import envelope
from shared.contracts.events import RankedProposal, RankingRecommendedV1
from shared.contracts.subjects import ORDERING_RANKING_RECOMMENDED, RANKING_RECOMMENDED
from tests.support.deadletters import collect_dead_letters

ROUND = "vest-2026-host"


def ranking(ranking_id: str = "rk-1", round_id: str = ROUND) -> RankingRecommendedV1:
    return RankingRecommendedV1(
        ranking_id=ranking_id, round_id=round_id, region="vest", recommended_on=date(2026, 10, 22),
        entries=(
            RankedProposal(proposal_id="p-2", reference="VEST-2026-0002", rank=2, total_score=7.5,
                           reason="Gjelder mange kommuner"),
            RankedProposal(proposal_id="p-1", reference="VEST-2026-0001", rank=1, total_score=9.0,
                           reason="Alvorlig tilstand, stor nytte"),
        ),
    )


def event(data: RankingRecommendedV1) -> dict:
    return envelope(
        service="scoring", event_type=RANKING_RECOMMENDED.type, subject=data.ranking_id, region=data.region,
        data=data,
    )


async def publish(broker, body: dict | bytes) -> None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    await broker.publish(raw, RANKING_RECOMMENDED.subject("vest"), stream="KP_SCORING")


def client(app) -> AsyncClient:
    return AsyncClient(transport=ASGITransport(app), base_url="http://t")


async def decisions(c: AsyncClient, round_id: str = ROUND) -> list[dict]:
    response = await c.get("/api/ordering/v1/decisions", params={"round": round_id})
    assert response.status_code == 200
    return response.json()


async def test_recommended_ranking_becomes_a_draft_decision_with_ranked_entries(database_url):
    app = create_app(OrderingSettings(database_url=database_url))
    async with TestNatsBroker(app.state.runtime.broker) as br:
        await publish(br, event(ranking()))
        async with client(app) as c:
            [listed] = await decisions(c)
            one = await c.get(f"/api/ordering/v1/decisions/{listed['id']}")
    assert one.status_code == 200
    decision = one.json()
    assert decision == listed
    assert decision["status"] == "draft"
    assert decision["ranking_id"] == "rk-1"
    assert decision["round"] == ROUND
    assert decision["region"] == "vest"
    assert decision["recommended_on"] == "2026-10-22"
    assert [(e["rank"], e["reference"], e["total_score"]) for e in decision["entries"]] == [
        (1, "VEST-2026-0001", 9.0), (2, "VEST-2026-0002", 7.5),
    ]
    assert decision["entries"][0]["reason"] == "Alvorlig tilstand, stor nytte"


async def test_redelivered_ranking_event_stores_one_decision(database_url):
    app = create_app(OrderingSettings(database_url=database_url))
    body = event(ranking())
    async with TestNatsBroker(app.state.runtime.broker) as br:
        await publish(br, body)
        await publish(br, body)
        async with client(app) as c:
            found = await decisions(c)
    assert len(found) == 1
    assert len(found[0]["entries"]) == 2


async def test_a_second_event_for_the_same_ranking_stores_no_second_decision(database_url):
    app = create_app(OrderingSettings(database_url=database_url))
    async with TestNatsBroker(app.state.runtime.broker) as br:
        await publish(br, event(ranking()))
        await publish(br, event(ranking()))  # a new event id, the same ranking
        async with client(app) as c:
            found = await decisions(c)
    assert len(found) == 1


async def test_decisions_are_listed_per_round_newest_first(database_url):
    app = create_app(OrderingSettings(database_url=database_url))
    async with TestNatsBroker(app.state.runtime.broker) as br:
        await publish(br, event(ranking("rk-1")))
        await publish(br, event(ranking("rk-2")))
        await publish(br, event(ranking("rk-3", round_id="vest-2027-var")))
        async with client(app) as c:
            autumn = await decisions(c)
            spring = await decisions(c, "vest-2027-var")
            none = await decisions(c, "nord-2026-host")
    assert [d["ranking_id"] for d in autumn] == ["rk-2", "rk-1"]
    assert [d["ranking_id"] for d in spring] == ["rk-3"]
    assert none == []


async def test_invalid_ranking_events_store_nothing(database_url):
    """Each invalid event is dead-lettered with its reason, and the consumer still stores the next valid ranking."""
    app = create_app(OrderingSettings(database_url=database_url))
    letters = collect_dead_letters(app.state.runtime.broker)
    no_entries = event(ranking())
    no_entries["data"]["entries"] = []
    twice = event(ranking("rk-twice"))
    twice["data"]["entries"][0]["proposal_id"] = "p-1"
    async with TestNatsBroker(app.state.runtime.broker) as br:
        await publish(br, no_entries)
        await publish(br, twice)
        await publish(br, b'{"type": "kp.scoring.ranking.recommended.v9"}')
        async with client(app) as c:
            after_invalid = await decisions(c)
        await publish(br, event(ranking("rk-valid")))
        async with client(app) as c:
            after_valid = await decisions(c)
    assert after_invalid == []
    assert [d["ranking_id"] for d in after_valid] == ["rk-valid"]
    assert [(letter["consumer"], letter["reason"]) for letter in letters] == [
        (ORDERING_RANKING_RECOMMENDED.durable,
         "invalid event: data.entries: Tuple should have at least 1 item after validation, not 0"),
        (ORDERING_RANKING_RECOMMENDED.durable, "ranking 'rk-twice' lists proposal 'p-1' twice"),
        (ORDERING_RANKING_RECOMMENDED.durable, "unknown event type or version: 'kp.scoring.ranking.recommended.v9'"),
    ]


async def test_unknown_decision_is_a_not_found_problem(database_url):
    app = create_app(OrderingSettings(database_url=database_url))
    async with client(app) as c:
        response = await c.get("/api/ordering/v1/decisions/no-such-decision")
        nynorsk = await c.get("/api/ordering/v1/decisions/no-such-decision", params={"lang": "nn"})
        missing_round = await c.get("/api/ordering/v1/decisions")
    assert response.status_code == 404
    assert response.json()["type"].endswith("/decision-not-found")
    assert response.json()["title"] == "Vedtaket finnes ikke"
    assert nynorsk.json()["title"] == "Vedtaket finst ikkje"
    assert missing_round.status_code == 422
