"""Who may call a route, declared on the route itself as a dependency.

Every route declares exactly one access rule, so a reader (and the authorization test, which walks every
route of every service) sees who may call it without reading its body:

- `Public`: anyone, no session (the proposal form, public status, open data);
- `SignedIn`: any verified session (the caller's own things);
- `RoleInRegion(Role.SECRETARIAT, ...)`: one of the roles, granted for the region named by the route's
  `{region}` path parameter;
- `RoleForResource(Role.SECRETARIAT, ...)`: one of the roles in the region of the resource the route loads
  (a proposal by id): the route checks it with `principal.require(role, resource.region)` once it knows it.

The rule is a FastAPI dependency; the caller's `Principal` comes from the session token, which is verified
with the runtime's `TokenVerifier` (never a key that can sign). A refusal raises `Unauthorized` or
`Forbidden`, which the JSON API answers as RFC 9457 and pages as the shared refusal page.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from shared.auth import Principal, Role, token_from_request
from shared.errors import Forbidden, Unauthorized


class AccessRule:
    """Base of the access dependencies; `describe()` names the rule in docs and the authorization test."""

    roles: tuple[Role, ...] = ()
    needs_session: bool = True

    def describe(self) -> str:
        raise NotImplementedError


async def _principal(request: Request) -> Principal:
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    token = token_from_request(request)
    if not token:
        raise Unauthorized("a session token is required")
    principal: Principal = await request.app.state.runtime.tokens.verify(token)
    request.state.principal = principal
    return principal


async def optional_principal(request: Request) -> Principal | None:
    """The caller, if the request carries a valid session; None otherwise (for public pages that greet staff)."""
    if not token_from_request(request):
        return None
    try:
        return await _principal(request)
    except Unauthorized:
        return None


class PublicRule(AccessRule):
    needs_session = False

    async def __call__(self) -> None:
        return None

    def describe(self) -> str:
        return "public"


class SignedInRule(AccessRule):
    async def __call__(self, request: Request) -> Principal:
        return await _principal(request)

    def describe(self) -> str:
        return "signed-in"


class RoleInRegion(AccessRule):
    """One of `roles` in the region of the path parameter `region_param`."""

    def __init__(self, *roles: Role, region_param: str = "region") -> None:
        self.roles = roles
        self.region_param = region_param

    async def __call__(self, request: Request) -> Principal:
        principal = await _principal(request)
        region = str(request.path_params.get(self.region_param, ""))
        principal.require_any(self.roles, region)
        return principal

    def describe(self) -> str:
        return f"role in {{{self.region_param}}}: " + "|".join(r.value for r in self.roles)


class RoleForResource(AccessRule):
    """A signed-in caller; the route checks one of `roles` in the loaded resource's region."""

    def __init__(self, *roles: Role) -> None:
        self.roles = roles

    async def __call__(self, request: Request) -> Principal:
        principal = await _principal(request)
        if not any(grant.role in (*self.roles, Role.ADMIN) for grant in principal.grants):
            # No grant of these roles anywhere: refuse before loading anything.
            raise Forbidden("the " + " or ".join(r.value for r in self.roles) + " role is required")
        return principal

    def describe(self) -> str:
        return "role in the resource's region: " + "|".join(r.value for r in self.roles)


def rule_of(dependency: Any) -> AccessRule | None:
    """The access rule a dependency callable is, if any (used by the authorization test)."""
    return dependency if isinstance(dependency, AccessRule) else None


PUBLIC = PublicRule()
public = Depends(PUBLIC)
"""For `dependencies=[public]` on routes anyone may call."""

SignedIn = Annotated[Principal, Depends(SignedInRule())]
OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]
Secretariat = Annotated[Principal, Depends(RoleInRegion(Role.SECRETARIAT))]
"""The secretariat role in the path's `{region}`."""
SecretariatForResource = Annotated[Principal, Depends(RoleForResource(Role.SECRETARIAT))]
