"""Signed, short-lived session tokens with roles scoped to a region; verified by every service.

The registry issues them (from its directory; in dev, for the seeded demo users). Other services
only verify: they share the signing key, not the directory.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol

import jwt

from shared.errors import Forbidden, Unauthorized

ALGORITHM = "HS256"
ISSUER = "kp-registry"
SESSION_COOKIE = "kp_session"


class Role(StrEnum):
    SECRETARIAT = "secretariat"
    COMMITTEE_MEMBER = "committee_member"
    COMMITTEE_CHAIR = "committee_chair"
    STEERING_GROUP = "steering_group"
    PRODUCER = "producer"
    REGISTRY_EDITOR = "registry_editor"
    ADMIN = "admin"
    OPERATOR = "operator"


@dataclass(frozen=True)
class RoleGrant:
    """A role in a region; `scope` narrows it where that fits (a round for the committee, a producer's code)."""

    role: Role
    region: str
    scope: str | None = None


@dataclass(frozen=True)
class Principal:
    """Who is calling: an opaque user id and role grants. No name or e-mail address."""

    subject: str
    grants: tuple[RoleGrant, ...]

    def has(self, role: Role, region: str) -> bool:
        return any(g.region == region and g.role in (role, Role.ADMIN) for g in self.grants)

    def require(self, role: Role, region: str) -> None:
        """Refuse unless the caller has `role` (or admin) in `region`; a grant in another region does not count."""
        self.require_any((role,), region)

    def require_any(self, roles: tuple[Role, ...], region: str) -> None:
        if not any(self.has(role, region) for role in roles):
            names = " or ".join(role.value for role in roles)
            raise Forbidden(f"the {names} role for region {region} is required")

    def regions(self, *roles: Role) -> tuple[str, ...]:
        """The regions where the caller holds one of `roles` (or admin), in grant order."""
        wanted = (*roles, Role.ADMIN)
        return tuple(dict.fromkeys(g.region for g in self.grants if g.role in wanted))


def issue_token(secret: str, subject: str, grants: tuple[RoleGrant, ...], ttl_seconds: int) -> str:
    now = datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "sub": subject,
        "iat": now,
        "exp": now + timedelta(seconds=ttl_seconds),
        "roles": [{"role": g.role.value, "region": g.region} for g in grants],
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(secret: str, token: str) -> Principal:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], issuer=ISSUER, options={"require": ["exp", "sub"]})
    except jwt.PyJWTError as error:
        raise Unauthorized(f"invalid session token: {type(error).__name__}") from None
    try:
        grants = tuple(RoleGrant(Role(r["role"]), str(r["region"])) for r in claims.get("roles", []))
    except (KeyError, ValueError, TypeError):
        raise Unauthorized("invalid session token: malformed roles") from None
    return Principal(subject=str(claims["sub"]), grants=grants)


class CarriesSession(Protocol):
    """What `token_from_request` reads of a request (a Starlette `Request` is one). A Protocol rather than the
    web framework's class, so a domain model may use `Role` and `RoleGrant` without importing the web."""

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def cookies(self) -> Mapping[str, str]: ...


def token_from_request(request: CarriesSession) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.cookies.get(SESSION_COOKIE)


class SecretTokenVerifier:
    """Verifies session tokens for a service (the runtime's `tokens`)."""

    def __init__(self, secret: str) -> None:
        self._secret = secret

    async def verify(self, token: str) -> Principal:
        return verify_token(self._secret, token)


def require_role(principal: Principal, role: Role, region: str) -> None:
    """Enforce role and region on an endpoint; a grant in another region does not count."""
    principal.require(role, region)
