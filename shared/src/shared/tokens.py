"""Session tokens that no service but the registry can sign: ES256 JWTs, verified from the registry's JWKS.

The registry holds the private keys (it alone signs, see `registry.sessions`). Every service verifies with the
public keys only, fetched from the registry's JWKS endpoint (or a file, or inline JSON in tests) and cached.
A token names a key by `kid`; a token signed with a key the cache does not know makes the verifier fetch the
JWKS again (at most every few seconds), so a rotated key is picked up without signing anyone out, and the old
key stays published until the tokens it signed have expired.

Refused, each with its own reason: no or malformed token, another algorithm (`none`, HS256 with the public key
as secret: only ES256 is accepted), an unknown key, a bad signature, another issuer or audience, an expired or
not-yet-valid token, malformed roles.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet
from joserfc.jws import extract_compact

from shared.auth import Principal, Role, RoleGrant
from shared.errors import Unauthorized

ALGORITHM = "ES256"
ISSUER = "kp-registry"
AUDIENCE = "kp"
LEEWAY_SECONDS = 30
# How often an unknown `kid` may trigger a new fetch of the JWKS (a flood of forged kids must not become a flood
# of requests to the registry).
REFRESH_AFTER_SECONDS = 5.0
CACHE_SECONDS = 300.0


class InvalidToken(Unauthorized):
    code = "invalid-token"


@dataclass(frozen=True)
class JwksSource:
    """Where the public keys come from: a URL (the registry's endpoint), a file, or inline JSON."""

    url: str = ""
    file: Path | None = None
    inline: str = ""

    async def load(self) -> KeySet:
        if self.inline:
            return KeySet.import_key_set(json.loads(self.inline))
        if self.file is not None:
            return KeySet.import_key_set(json.loads(self.file.read_text(encoding="utf-8")))
        if self.url:
            import httpx

            async with httpx.AsyncClient(timeout=5.0) as client:
                response = await client.get(self.url)
                response.raise_for_status()
                return KeySet.import_key_set(response.json())
        raise InvalidToken("no JWKS is configured: set KP_AUTH_JWKS_URL (or KP_AUTH_JWKS_FILE)")


class TokenVerifier:
    """Verifies session tokens with the registry's public keys; holds nothing that can sign."""

    def __init__(self, source: JwksSource, *, issuer: str = ISSUER, audience: str = AUDIENCE) -> None:
        self._source = source
        self._issuer = issuer
        self._audience = audience
        self._keys: KeySet | None = None
        self._loaded_at = 0.0
        self._lock = asyncio.Lock()

    async def _key_set(self, kid: str) -> KeySet:
        now = time.monotonic()
        fresh = self._keys is not None and now - self._loaded_at < CACHE_SECONDS
        if fresh and self._keys is not None and _has_kid(self._keys, kid):
            return self._keys
        async with self._lock:
            stale = self._keys is None or time.monotonic() - self._loaded_at >= REFRESH_AFTER_SECONDS
            if stale or not fresh:
                try:
                    self._keys = await self._source.load()
                    self._loaded_at = time.monotonic()
                except InvalidToken:
                    raise
                except Exception as error:
                    if self._keys is None:
                        raise InvalidToken(f"the signing keys could not be loaded: {type(error).__name__}") from None
            assert self._keys is not None
            return self._keys

    async def verify(self, token: str) -> Principal:
        header = _header(token)
        if header.get("alg") != ALGORITHM:
            raise InvalidToken(f"tokens must be signed with {ALGORITHM}")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("the token names no signing key")
        keys = await self._key_set(kid)
        if not _has_kid(keys, kid):
            raise InvalidToken("the token was signed with an unknown key")
        try:
            decoded = jwt.decode(token, keys, algorithms=[ALGORITHM])
        except JoseError:
            raise InvalidToken("the token's signature is not valid") from None
        return principal_from_claims(decoded.claims, issuer=self._issuer, audience=self._audience)


def _has_kid(keys: KeySet, kid: str) -> bool:
    return any(key.kid == kid for key in keys.keys)


def _header(token: str) -> dict[str, Any]:
    if token.count(".") != 2 or len(token) > 8192:
        raise InvalidToken("the token is malformed")
    try:
        return dict(extract_compact(token.encode("ascii")).protected)
    except (JoseError, ValueError, UnicodeError):
        raise InvalidToken("the token is malformed") from None


def principal_from_claims(claims: Mapping[str, Any], *, issuer: str = ISSUER, audience: str = AUDIENCE) -> Principal:
    """The caller, once the registered claims hold: issuer, audience, expiry, not-before, subject, roles."""
    now = time.time()
    if claims.get("iss") != issuer:
        raise InvalidToken("the token was issued by someone else")
    aud = claims.get("aud")
    if aud != audience and not (isinstance(aud, list) and audience in aud):
        raise InvalidToken("the token is meant for another audience")
    expires = claims.get("exp")
    if not isinstance(expires, int | float) or expires + LEEWAY_SECONDS < now:
        raise InvalidToken("the token has expired")
    not_before = claims.get("nbf", 0)
    if not isinstance(not_before, int | float) or not_before - LEEWAY_SECONDS > now:
        raise InvalidToken("the token is not valid yet")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise InvalidToken("the token names no subject")
    try:
        grants = tuple(
            RoleGrant(Role(r["role"]), str(r["region"]), str(r["scope"]) if r.get("scope") else None)
            for r in claims.get("roles", [])
        )
    except (KeyError, ValueError, TypeError):
        raise InvalidToken("the token's roles are malformed") from None
    return Principal(subject=subject, grants=grants)


def session_claims(
    subject: str, grants: tuple[RoleGrant, ...], ttl_seconds: int, *, issuer: str = ISSUER,
    audience: str = AUDIENCE, now: datetime | None = None,
) -> dict[str, Any]:
    """The claims of a session token: ids and roles only, never a name or an address."""
    issued = now or datetime.now(UTC)
    return {
        "iss": issuer, "aud": audience, "sub": subject,
        "iat": int(issued.timestamp()), "nbf": int(issued.timestamp()),
        "exp": int((issued + timedelta(seconds=ttl_seconds)).timestamp()),
        "roles": [{"role": g.role.value, "region": g.region, **({"scope": g.scope} if g.scope else {})}
                  for g in grants],
    }


def sign(claims: Mapping[str, Any], key: ECKey) -> str:
    """Sign claims with a private ES256 key (only the registry has one; tests make their own)."""
    return jwt.encode({"alg": ALGORITHM, "kid": key.kid, "typ": "JWT"}, dict(claims), key)


def new_signing_key(kid: str | None = None) -> ECKey:
    """A fresh P-256 key for ES256, named by `kid` (its thumbprint when not given)."""
    key = ECKey.generate_key("P-256", private=True)
    return ECKey.import_key({**key.as_dict(private=True), "kid": kid or key.thumbprint()})


def public_jwks(keys: list[ECKey]) -> dict[str, Any]:
    """The JWKS document: public halves only, with use and alg."""
    return {"keys": [{**key.as_dict(private=False), "use": "sig", "alg": ALGORITHM} for key in keys]}
