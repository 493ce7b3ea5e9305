"""The analysis is for the region's secretariat: every endpoint and the page check the session and the role."""

from __future__ import annotations

import pytest

from shared.auth import Role
from tests.intake.analysis.conftest import token

ENDPOINTS = [
    "/api/intake/v1/analysis",
    "/api/intake/v1/analysis.xlsx",
    "/api/intake/v1/analysis.csv?table=by_unit",
    "/api/intake/v1/analysis/by_theme.svg",
]


def _url(path: str, region: str = "vest") -> str:
    return f"{path}{'&' if '?' in path else '?'}region={region}"


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_without_a_session_the_api_answers_401(client, path):
    response = await client.get(_url(path))
    assert response.status_code == 401
    assert response.json()["type"].endswith("/unauthorized")


async def test_a_forged_token_is_401(client):
    response = await client.get(_url(ENDPOINTS[0]), headers={"Authorization": "Bearer not.a.token"})
    assert response.status_code == 401


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(("role", "region"), [(Role.COMMITTEE_MEMBER, "vest"), (Role.SECRETARIAT, "nord")])
async def test_another_role_or_another_regions_secretariat_is_403(client, path, role, region):
    response = await client.get(_url(path), headers={"Authorization": f"Bearer {token(role, region)}"})
    assert response.status_code == 403


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("role", [Role.SECRETARIAT, Role.ADMIN])
async def test_the_regions_secretariat_or_admin_gets_200(client, path, role):
    response = await client.get(_url(path), headers={"Authorization": f"Bearer {token(role)}"})
    assert response.status_code == 200


async def test_the_session_cookie_works_for_the_api_as_for_the_page(client):
    response = await client.get(_url(ENDPOINTS[0]), cookies={"kp_session": token()})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("cookie", "status"),
    [(None, 401), ("garbage", 401), (token(Role.PRODUCER), 403), (token(Role.SECRETARIAT, "nord"), 403),
     (token(), 200)],
)
async def test_page_requires_the_secretariat_of_the_region(client, cookie, status):
    cookies = {"kp_session": cookie} if cookie else {}
    response = await client.get("/intake/vest/analysis", cookies=cookies)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert ("Meland" in response.text) is (status == 200)
