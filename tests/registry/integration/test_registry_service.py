"""The registry service: knowledge needs from intake's events, and the dev login."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from faststream.nats import TestNatsBroker
from httpx import ASGITransport, AsyncClient

from registry.app import create_app
from registry.settings import RegistrySettings
from shared.auth import SESSION_COOKIE, verify_token
from shared.contracts.envelope import envelope
from shared.contracts.events import EffectQuestion, ProposalSubmittedV1
from shared.contracts.subjects import PROPOSAL_SUBMITTED, REGISTRY_PROPOSAL_SUBMITTED
from shared.settings import CommonSettings
from tests.support.deadletters import collect_dead_letters

SECRET = "integration-test-secret-0123456789abcdef"


def settings(url: str, env: str = "dev") -> RegistrySettings:
    return RegistrySettings(database_url=url, common=CommonSettings(env=env, auth_secret=SECRET))


def proposal(number: int = 1, region: str = "vest") -> ProposalSubmittedV1:
    return ProposalSubmittedV1(
        proposal_id=f"p-{number}", reference=f"{region.upper()}-2026-{number:04d}", region=region,
        round_id=f"{region}-2026-host", municipality_number="4601", title=f"Sansehage mot uro ved demens {number}",
        question=EffectQuestion(
            population="Personer med demens i sykehjem", intervention="Sansehage", comparison="Legemidler",
            outcome="Mindre uro og agitasjon",
        ),
        background="Kari Nordmann i etat for sykehjem foreslår dette.",
        submitted_at=datetime(2026, 9, 1, 10, tzinfo=UTC),
    )


def event(data: ProposalSubmittedV1) -> bytes:
    body = envelope(
        service="intake", event_type=PROPOSAL_SUBMITTED.type, subject=data.proposal_id, region=data.region, data=data
    )
    return json.dumps(body).encode()


async def publish(broker, body: bytes, region: str = "vest") -> None:
    await broker.publish(body, PROPOSAL_SUBMITTED.subject(region), stream="KP_INTAKE")


def client(app) -> AsyncClient:
    return AsyncClient(transport=ASGITransport(app), base_url="http://t")


async def test_submitted_proposal_is_listed_as_a_proposed_knowledge_need(database_url):
    app = create_app(settings(database_url))
    async with TestNatsBroker(app.state.runtime.broker) as br:
        await publish(br, event(proposal(1)))
        async with client(app) as c:
            response = await c.get("/api/registry/v1/knowledge-needs", params={"region": "vest"})
    assert response.status_code == 200
    [need] = response.json()
    assert need["proposal_id"] == "p-1"
    assert need["reference"] == "VEST-2026-0001"
    assert need["round"] == "vest-2026-host"
    assert need["municipality"] == "4601"
    assert need["question"]["intervention"] == "Sansehage"
    assert need["status"] == "proposed"
    assert need["source"] == "proposal"


async def test_knowledge_needs_carry_no_personal_data(database_url):
    app = create_app(settings(database_url))
    async with TestNatsBroker(app.state.runtime.broker) as br:
        await publish(br, event(proposal(1)))
        async with client(app) as c:
            response = await c.get("/api/registry/v1/knowledge-needs", params={"region": "vest"})
    # The background names a person; the registry keeps the question, not the free text.
    assert "Kari" not in response.text
    assert "background" not in response.json()[0]


async def test_knowledge_needs_are_listed_newest_first_and_only_for_the_region(database_url):
    app = create_app(settings(database_url))
    async with TestNatsBroker(app.state.runtime.broker) as br:
        for number in (1, 2, 3):
            await publish(br, event(proposal(number)))
        await publish(br, event(proposal(4, region="nord")), region="nord")
        async with client(app) as c:
            vest = (await c.get("/api/registry/v1/knowledge-needs", params={"region": "vest"})).json()
            nord = (await c.get("/api/registry/v1/knowledge-needs", params={"region": "nord"})).json()
    assert [n["proposal_id"] for n in vest] == ["p-3", "p-2", "p-1"]
    assert [n["proposal_id"] for n in nord] == ["p-4"]


async def test_redelivered_proposal_event_records_one_knowledge_need(database_url):
    app = create_app(settings(database_url))
    body = event(proposal(1))
    async with TestNatsBroker(app.state.runtime.broker) as br:
        await publish(br, body)
        await publish(br, body)
        async with client(app) as c:
            response = await c.get("/api/registry/v1/knowledge-needs", params={"region": "vest"})
    assert len(response.json()) == 1


async def test_invalid_proposal_event_records_nothing(database_url):
    """Each invalid event is dead-lettered with its reason, and the consumer still records the next valid proposal."""
    app = create_app(settings(database_url))
    letters = collect_dead_letters(app.state.runtime.broker)
    body = json.loads(event(proposal(1)))
    del body["data"]["question"]
    async with TestNatsBroker(app.state.runtime.broker) as br:
        await publish(br, json.dumps(body).encode())
        await publish(br, b"not json at all")
        async with client(app) as c:
            after_invalid = (await c.get("/api/registry/v1/knowledge-needs", params={"region": "vest"})).json()
        await publish(br, event(proposal(2)))
        async with client(app) as c:
            after_valid = (await c.get("/api/registry/v1/knowledge-needs", params={"region": "vest"})).json()
    assert after_invalid == []
    assert [n["proposal_id"] for n in after_valid] == ["p-2"]
    assert [(letter["consumer"], letter["reason"]) for letter in letters] == [
        (REGISTRY_PROPOSAL_SUBMITTED.durable, "invalid event: data.question: Field required"),
        (REGISTRY_PROPOSAL_SUBMITTED.durable, "not JSON: JSONDecodeError"),
    ]


async def test_knowledge_needs_require_a_valid_region(database_url):
    app = create_app(settings(database_url))
    async with client(app) as c:
        missing = await c.get("/api/registry/v1/knowledge-needs")
        malformed = await c.get("/api/registry/v1/knowledge-needs", params={"region": "Vest; drop"})
    assert missing.status_code == 422
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["field"] == "region"


async def test_dev_login_returns_a_token_and_sets_an_httponly_session_cookie(database_url):
    app = create_app(settings(database_url))
    async with client(app) as c:
        response = await c.post("/api/registry/v1/dev/login", json={"user": "sekretariat-vest"})
    assert response.status_code == 200
    body = response.json()
    assert body["expires_in"] > 0
    principal = verify_token(SECRET, body["token"])
    assert [(g.role.value, g.region) for g in principal.grants] == [("secretariat", "vest")]
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}={body['token']}")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()


async def test_me_names_the_logged_in_user_by_cookie_or_bearer_token(database_url):
    app = create_app(settings(database_url))
    async with client(app) as c:
        token = (await c.post("/api/registry/v1/dev/login", json={"user": "styring-vest"})).json()["token"]
        by_cookie = await c.get("/api/registry/v1/me")
        c.cookies.clear()
        by_bearer = await c.get("/api/registry/v1/me", headers={"Authorization": f"Bearer {token}"})
    for response in (by_cookie, by_bearer):
        assert response.status_code == 200
        assert response.json()["roles"] == [{"role": "steering_group", "region": "vest"}]
        assert "@" not in response.json()["subject"]


async def test_me_without_a_token_is_unauthorized(database_url):
    app = create_app(settings(database_url))
    async with client(app) as c:
        response = await c.get("/api/registry/v1/me")
        forged = await c.get("/api/registry/v1/me", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert forged.status_code == 401


async def test_dev_login_is_refused_unless_the_environment_is_dev(database_url):
    app = create_app(settings(database_url, env="test"))
    async with client(app) as c:
        login = await c.post("/api/registry/v1/dev/login", json={"user": "admin-vest"})
        users = await c.get("/api/registry/v1/dev/users")
    assert login.status_code == 403
    assert login.json()["type"].endswith("/dev-login-refused")
    assert login.json()["title"] == "Utviklerinnlogging er avslått"
    assert "token" not in login.json()
    assert "set-cookie" not in login.headers
    assert users.status_code == 403


async def test_dev_users_lists_the_demo_users_without_personal_data(database_url):
    app = create_app(settings(database_url))
    async with client(app) as c:
        response = await c.get("/api/registry/v1/dev/users")
    users = {u["user"]: u for u in response.json()}
    assert users["drift"]["roles"] == [{"role": "operator", "region": "vest"}]
    assert "fhi-produsent" in users
    assert "@" not in response.text


async def test_dev_login_of_an_unknown_user_names_the_field(database_url):
    app = create_app(settings(database_url))
    async with client(app) as c:
        response = await c.post("/api/registry/v1/dev/login", json={"user": "nobody"})
    assert response.status_code == 422
    assert response.json()["title"] == "Ukjent demobruker"
    assert response.json()["errors"][0]["field"] == "user"
