"""Choosing the language of a request; the messages themselves come from `shared.i18n` (gettext catalogues)."""

from __future__ import annotations

from starlette.requests import Request

from shared.i18n import DEFAULT_LANGUAGE, LANGUAGES, translate, translate_plural

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "negotiate_language", "translate", "translate_plural"]


def negotiate_language(request: Request) -> str:
    """The user's choice (?lang=, then the kp_lang cookie), then Accept-Language, then Bokmål."""
    chosen = request.query_params.get("lang") or request.cookies.get("kp_lang")
    if chosen in LANGUAGES:
        return chosen
    header = request.headers.get("accept-language", "")
    for part in header.split(","):
        tag = part.split(";")[0].strip().lower()
        if tag in ("nn", "nn-no"):
            return "nn"
        if tag in ("nb", "nb-no", "no", "no-no"):
            return "nb"
        if tag.startswith("en"):
            return "en"
    return DEFAULT_LANGUAGE
