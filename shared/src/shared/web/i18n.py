"""Messages in Bokmål, Nynorsk and English, and choosing among them per request."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from starlette.requests import Request

LANGUAGES = ("nb", "nn", "en")
DEFAULT_LANGUAGE = "nb"

MESSAGES: dict[str, dict[str, str]] = {
    "problem.validation": {"nb": "Ugyldige opplysninger", "nn": "Ugyldige opplysningar", "en": "Invalid input"},
    "problem.not-found": {"nb": "Finnes ikke", "nn": "Finst ikkje", "en": "Not found"},
    "problem.conflict": {"nb": "Konflikt", "nn": "Konflikt", "en": "Conflict"},
    "problem.forbidden": {"nb": "Ingen tilgang", "nn": "Inga tilgang", "en": "Forbidden"},
    "problem.unauthorized": {"nb": "Du må logge inn", "nn": "Du må logge inn", "en": "Login required"},
    "problem.round-closed": {"nb": "Runden er stengt", "nn": "Runden er stengd", "en": "The round is closed"},
    "problem.round-not-found": {"nb": "Runden finnes ikke", "nn": "Runden finst ikkje", "en": "Unknown round"},
    "problem.proposal-not-found": {
        "nb": "Forslaget finnes ikke", "nn": "Forslaget finst ikkje", "en": "Unknown proposal",
    },
    "problem.idempotency-key-reused": {
        "nb": "Idempotency-Key er brukt for et annet forslag",
        "nn": "Idempotency-Key er brukt for eit anna forslag",
        "en": "Idempotency-Key was used for a different request",
    },
    "problem.unknown-municipality": {
        "nb": "Ukjent kommunenummer", "nn": "Ukjent kommunenummer", "en": "Unknown municipality number",
    },
    "problem.dev-login-refused": {
        "nb": "Utviklerinnlogging er avslått", "nn": "Utviklarinnlogging er slått av", "en": "Dev login is disabled",
    },
    "problem.unknown-demo-user": {
        "nb": "Ukjent demobruker", "nn": "Ukjend demobrukar", "en": "Unknown demo user",
    },
    "problem.decision-not-found": {
        "nb": "Vedtaket finnes ikke", "nn": "Vedtaket finst ikkje", "en": "Unknown decision",
    },
    "rule.missing": {"nb": "Feltet må fylles ut", "nn": "Feltet må fyllast ut", "en": "This field is required"},
    "rule.string_too_short": {
        "nb": "Må ha minst {min_length} tegn", "nn": "Må ha minst {min_length} teikn",
        "en": "Must have at least {min_length} characters",
    },
    "rule.string_too_long": {
        "nb": "Kan ha høyst {max_length} tegn", "nn": "Kan ha høgst {max_length} teikn",
        "en": "Must have at most {max_length} characters",
    },
    "rule.string_pattern_mismatch": {
        "nb": "Har feil format", "nn": "Har feil format", "en": "Has the wrong format",
    },
    "rule.value_error": {"nb": "Ugyldig verdi", "nn": "Ugyldig verdi", "en": "Invalid value"},
    "rule.string_type": {"nb": "Må være tekst", "nn": "Må vere tekst", "en": "Must be text"},
    "rule.model_type": {"nb": "Må være et objekt", "nn": "Må vere eit objekt", "en": "Must be an object"},
    "rule.json_invalid": {"nb": "Ugyldig JSON", "nn": "Ugyldig JSON", "en": "Invalid JSON"},
    "rule.extra_forbidden": {"nb": "Ukjent felt", "nn": "Ukjent felt", "en": "Unknown field"},
    "rule.literal_error": {
        "nb": "Må være en av: {expected}", "nn": "Må vere ein av: {expected}", "en": "Must be one of: {expected}",
    },
}


def register_messages(catalog: Mapping[str, Mapping[str, str]]) -> None:
    """Add a service's or the page kit's messages; a key defined twice must mean the same, so the last one wins."""
    for key, texts in catalog.items():
        MESSAGES[key] = dict(texts)


def load_catalog(path: Path) -> dict[str, dict[str, str]]:
    """A TOML catalog (`["key"]` tables with nb, nn and en) as flat keys; translators edit it without Python."""
    catalog: dict[str, dict[str, str]] = {}

    def walk(prefix: str, table: Mapping[str, Any]) -> None:
        if all(isinstance(value, str) for value in table.values()) and set(table) <= set(LANGUAGES):
            catalog[prefix] = {language: str(text) for language, text in table.items()}
            return
        for name, value in table.items():
            if isinstance(value, Mapping):
                walk(f"{prefix}.{name}" if prefix else name, value)

    walk("", tomllib.loads(path.read_text(encoding="utf-8")))
    return catalog


def translate(key: str, language: str, default: str | None = None, **params: Any) -> str:
    entry = MESSAGES.get(key)
    text = (entry.get(language) or entry.get(DEFAULT_LANGUAGE)) if entry else None
    if text is None:
        return default if default is not None else key
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        return text


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
