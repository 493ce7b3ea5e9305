"""CSRF protection for plain HTML forms: a signed double-submit token bound to a cookie.

The cookie holds a random value; every form carries that value signed with the service secret. A POST is
accepted only when the form's token verifies and carries the cookie's value, so another site can neither
read nor forge the pair (the cookie is HttpOnly and SameSite=Lax as well).
"""

from __future__ import annotations

import hmac
import secrets

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request

CSRF_COOKIE = "kp_csrf"
CSRF_FIELD = "csrf_token"
# Long enough for someone who writes a proposal slowly; the cookie lives for the browser session.
MAX_AGE_SECONDS = 12 * 3600


class CsrfProtection:
    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="kp-csrf-v1")

    def cookie_value(self, request: Request) -> tuple[str, bool]:
        """The browser's CSRF cookie value, or a new one (True: the response must set it)."""
        existing = request.cookies.get(CSRF_COOKIE, "")
        if 20 <= len(existing) <= 100:
            return existing, False
        return secrets.token_urlsafe(32), True

    def token_for(self, cookie_value: str) -> str:
        return str(self._serializer.dumps(cookie_value))

    def verify(self, request: Request, token: str | None) -> bool:
        cookie = request.cookies.get(CSRF_COOKIE)
        if not cookie or not token:
            return False
        try:
            signed = self._serializer.loads(token, max_age=MAX_AGE_SECONDS)
        except BadSignature:
            return False
        return isinstance(signed, str) and hmac.compare_digest(signed, cookie)
