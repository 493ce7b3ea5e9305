"""The sessions' JSON API: the dev login that issues session tokens, and who the caller is."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from registry.deps import SettingsDep
from registry.sessions import service
from registry.sessions.model import DemoUser
from shared.auth import SESSION_COOKIE, RoleGrant
from shared.web.access import SignedIn, public

router = APIRouter(prefix="/api/registry/v1", tags=["sessions"])


class RoleOut(BaseModel):
    role: str
    region: str


def _roles(grants: tuple[RoleGrant, ...]) -> list[RoleOut]:
    return [RoleOut(role=g.role.value, region=g.region) for g in grants]


class DemoUserOut(BaseModel):
    user: str
    description: str
    roles: list[RoleOut]

    @staticmethod
    def of(user: DemoUser) -> DemoUserOut:
        return DemoUserOut(user=user.login, description=user.description, roles=_roles(user.grants))


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    user: str = Field(min_length=1, max_length=80, description="A demo user's login name, like sekretariat-vest")


class LoginOut(BaseModel):
    token: str
    expires_in: int


class MeOut(BaseModel):
    subject: str
    roles: list[RoleOut]


# Public, as the dev login is: outside an explicit dev environment the use case refuses it (403).
@router.get("/dev/users", response_model=list[DemoUserOut], dependencies=[public])
async def list_demo_users(settings: SettingsDep) -> list[DemoUserOut]:
    """The demo users of the dev login (only when the environment is dev)."""
    return [DemoUserOut.of(u) for u in service.list_demo_users(settings.common.env)]


@router.post("/dev/login", response_model=LoginOut, dependencies=[public])
async def dev_login(body: LoginIn, response: Response, settings: SettingsDep) -> LoginOut:
    """Log in as a demo user: returns a session token and sets it as the session cookie (dev only)."""
    session = service.dev_login(
        service.DevLogin(
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


@router.get("/me", response_model=MeOut)
async def me(principal: SignedIn) -> MeOut:
    """The caller as their session token names them: an opaque subject and role grants."""
    return MeOut(subject=principal.subject, roles=_roles(principal.grants))
