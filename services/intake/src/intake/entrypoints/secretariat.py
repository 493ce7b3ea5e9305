"""What every secretariat page shares: a page kit with the staff form limit, and the session and role check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from shared.auth import Role, require_role, token_from_request, verify_token
from shared.web.pages import PageKit, PageSettings
from shared.web.problems import Forbidden, Unauthorized

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
# The public form's limit (a few posts a minute per address) would stop a secretariat working through a round.
STAFF_FORM_RATE_LIMIT = 300


def staff_page_kit(secret: str) -> PageKit:
    """Intake's page kit for the secretariat's pages: the public kit with a limit fit for a day's work."""
    settings = PageSettings()
    settings.form_rate_limit = max(settings.form_rate_limit, STAFF_FORM_RATE_LIMIT)
    return PageKit("intake", TEMPLATES, secret, settings=settings)


def secretariat_refusal(request: Request, secret: str, region: str) -> tuple[str, int] | None:
    """Why the caller may not use the region's secretariat pages (the API's token and role), or None if it may."""
    token = token_from_request(request)
    if not token:
        return "unauthorized", 401
    try:
        require_role(verify_token(secret, token), Role.SECRETARIAT, region)
    except Unauthorized:
        return "unauthorized", 401
    except Forbidden:
        return "forbidden", 403
    return None


def refusal_page(
    kit: PageKit, request: Request, secret: str, region: str, *, language: str, messages: str, **context: Any
) -> HTMLResponse | None:
    """A translated 401/403 page (`<messages>.denied.<reason>.title|message`) if the caller may not enter."""
    refusal = secretariat_refusal(request, secret, region)
    if refusal is None:
        return None
    key, status = refusal
    return kit.error_page(
        request, language=language, status_code=status, title_key=f"{messages}.denied.{key}.title",
        message_key=f"{messages}.denied.{key}.message", **context,
    )
