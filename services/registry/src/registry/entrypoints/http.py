"""The registry's HTTP API: knowledge needs, and the dev login that issues session tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from registry.adapters.repository import KnowledgeNeedRepository
from registry.domain.demo_users import DemoUser
from registry.service import use_cases
from registry.settings import RegistrySettings
from shared.auth import SESSION_COOKIE, Principal, RoleGrant, principal_dependency
from shared.db import Database

REGION = r"^[a-z][a-z0-9-]{1,30}$"


class QuestionOut(BaseModel):
    population: str
    intervention: str
    comparison: str
    outcome: str


class KnowledgeNeedOut(BaseModel):
    """A knowledge need as anyone may see it: the question, never who asked it."""

    proposal_id: str
    reference: str
    region: str
    round: str
    municipality: str
    title: str
    question: QuestionOut
    status: str
    source: str
    recorded_at: datetime


class RoleOut(BaseModel):
    role: str
    region: str


class DemoUserOut(BaseModel):
    user: str
    description: str
    roles: list[RoleOut]


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    user: str = Field(min_length=1, max_length=80, description="A demo user's login name, like sekretariat-vest")


class LoginOut(BaseModel):
    token: str
    expires_in: int


class MeOut(BaseModel):
    subject: str
    roles: list[RoleOut]


def _roles(grants: tuple[RoleGrant, ...]) -> list[RoleOut]:
    return [RoleOut(role=g.role.value, region=g.region) for g in grants]


def _demo_user(user: DemoUser) -> DemoUserOut:
    return DemoUserOut(user=user.login, description=user.description, roles=_roles(user.grants))


def build_router(database: Database, settings: RegistrySettings) -> APIRouter:
    router = APIRouter(prefix="/api/registry/v1", tags=["registry"])
    current_principal = principal_dependency(settings.common.auth_secret)

    @router.get("/knowledge-needs", response_model=list[KnowledgeNeedOut])
    async def list_knowledge_needs(region: Annotated[str, Query(pattern=REGION)]) -> list[KnowledgeNeedOut]:
        """The region's knowledge needs, newest first."""
        async with database.reader() as session:
            found = await KnowledgeNeedRepository(session).for_region(region)
        return [
            KnowledgeNeedOut(
                proposal_id=n.proposal_id, reference=n.reference, region=n.region, round=n.round_id,
                municipality=n.municipality_number, title=n.title,
                question=QuestionOut(
                    population=n.population, intervention=n.intervention, comparison=n.comparison, outcome=n.outcome
                ),
                status=n.status.value, source=n.source.value, recorded_at=n.recorded_at,
            )
            for n in found
        ]

    @router.get("/dev/users", response_model=list[DemoUserOut])
    async def list_demo_users() -> list[DemoUserOut]:
        """The demo users of the dev login (only when the environment is dev)."""
        return [_demo_user(u) for u in use_cases.list_demo_users(settings.common.env)]

    @router.post("/dev/login", response_model=LoginOut)
    async def dev_login(body: LoginIn, response: Response) -> LoginOut:
        """Log in as a demo user: returns a session token and sets it as the session cookie (dev only)."""
        session = use_cases.dev_login(
            use_cases.DevLogin(
                login=body.user, env=settings.common.env, secret=settings.common.auth_secret,
                ttl_seconds=settings.common.auth_token_ttl_seconds,
            )
        )
        # Only ever issued in dev, which serves plain HTTP on localhost: a Secure cookie would not be sent back.
        response.set_cookie(
            SESSION_COOKIE, session.token, max_age=session.expires_in, path="/", httponly=True, samesite="lax",
        )
        response.headers["Cache-Control"] = "no-store"
        return LoginOut(token=session.token, expires_in=session.expires_in)

    # A default, not Annotated[...]: the dependency is local to build_router, where a postponed
    # annotation could not resolve it (FastAPI would take `principal` for a query parameter).
    @router.get("/me", response_model=MeOut)
    async def me(principal: Principal = Depends(current_principal)) -> MeOut:
        """The caller as their session token names them: an opaque subject and role grants."""
        return MeOut(subject=principal.subject, roles=_roles(principal.grants))

    return router
