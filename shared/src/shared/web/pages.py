"""The page kit: one layout for every service's server-rendered pages, languages, forms and their guards.

A service builds one `PageKit` with its own template folder; templates extend `kp/layout.html` and import
`kp/forms.html`. Styles are Digdir's Designsystemet (from npm, see `shared.web.assets`), served by every
service under `/<service>/static/`, so the pages work behind the gateway and with `kp serve` alike.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

import jinja2
from babel.dates import format_date, format_datetime
from fastapi import APIRouter, FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.requests import Request

from shared.auth import Principal
from shared.errors import Forbidden, Unauthorized
from shared.web.access import public
from shared.web.csrf import CSRF_COOKIE, CSRF_FIELD, CsrfProtection
from shared.web.i18n import DEFAULT_LANGUAGE, LANGUAGES, translate, translate_plural
from shared.web.problems import domain_problem
from shared.web.ratelimit import SlidingWindowLimiter
from shared.web.staff import SIGN_IN_URL, SIGN_OUT_URL, role_labels, staff_navigation

HERE = Path(__file__).resolve().parent
SHARED_TEMPLATES = HERE / "templates"
STATIC_DIR = HERE / "static"
LANG_COOKIE = "kp_lang"
LANGUAGE_NAMES = {"nb": "Bokmål", "nn": "Nynorsk", "en": "English"}
TIME_ZONE = ZoneInfo("Europe/Oslo")
HONEYPOT_FIELD = "website"
# Set by the registry at sign-in beside the session: the person's display name for the staff header, so
# session tokens (which travel in Authorization headers and may be logged by proxies) carry no name.
DISPLAY_NAME_COOKIE = "kp_who"


class PageSettings(BaseSettings):
    """Limits of the public forms, read from KP_PAGES_* (the browser tests raise the rate limit)."""

    model_config = SettingsConfigDict(env_prefix="KP_PAGES_", extra="ignore")

    form_rate_limit: int = 10
    form_rate_window_seconds: float = 60.0
    max_form_bytes: int = 64 * 1024


@dataclass
class Form:
    """A posted urlencoded form: every value as text, stripped; missing fields read as ''."""

    values: dict[str, list[str]] = field(default_factory=dict)

    def get(self, name: str) -> str:
        found = self.values.get(name)
        return found[0].strip() if found else ""

    def getlist(self, name: str) -> list[str]:
        return [value.strip() for value in self.values.get(name, [])]

    def with_prefix(self, prefix: str) -> dict[str, str]:
        return {name[len(prefix):]: self.get(name) for name in self.values if name.startswith(prefix)}


class FormTooLarge(Exception):
    pass


async def read_form(request: Request, max_bytes: int) -> Form:
    """Read an urlencoded body up to `max_bytes` (also when no Content-Length is sent), without multipart."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise FormTooLarge
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > max_bytes:
            raise FormTooLarge
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return Form()
    values: dict[str, list[str]] = {}
    for name, value in parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True):
        values.setdefault(name, []).append(value)
    return Form(values)


@dataclass(frozen=True)
class FieldError:
    """One broken rule on one field, as the error summary lists it and the field shows it."""

    name: str
    label: str
    message: str

    @property
    def field_id(self) -> str:
        return field_id(self.name)


def field_id(name: str) -> str:
    """The HTML id of a field (the error summary links to it): `f-` and the name, with dots as dashes."""
    return "f-" + "".join(c if c.isalnum() or c in "-_" else "-" for c in name)


def create_environment(service_templates: Path | Iterable[Path]) -> jinja2.Environment:
    """Jinja2 with the service's templates first, then the shared layout and form macros."""
    folders = [service_templates] if isinstance(service_templates, Path) else list(service_templates)
    loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader([*folders]), jinja2.FileSystemLoader(SHARED_TEMPLATES)])
    environment = jinja2.Environment(
        loader=loader, autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined, extensions=["jinja2.ext.i18n"],
    )
    environment.globals["field_id"] = field_id
    environment.globals["HONEYPOT_FIELD"] = HONEYPOT_FIELD
    environment.globals["CSRF_FIELD"] = CSRF_FIELD
    return environment


def choose_language(request: Request, default: str | None = None) -> str:
    """?lang= (the switcher's links), then the kp_lang cookie, then the region's default, then Bokmål."""
    for chosen in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE), default):
        if chosen in LANGUAGES:
            return str(chosen)
    return DEFAULT_LANGUAGE


def formatters(language: str) -> dict[str, Callable[..., str]]:
    """Dates as Norwegians read them, always in Europe/Oslo (the server may run in UTC)."""
    pattern = "d MMMM y, HH:mm" if language == "en" else "d. MMMM y 'kl.' HH:mm"

    def fmt_datetime(value: datetime | None) -> str:
        return format_datetime(value, pattern, tzinfo=TIME_ZONE, locale=language) if value else ""

    def fmt_date(value: date | datetime | None) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = value.astimezone(TIME_ZONE).date()
        return format_date(value, "long", locale=language)

    def t(key: str, **params: Any) -> str:
        return translate(key, language, **params)

    def tn(key: str, count: int, **params: Any) -> str:
        return translate_plural(key, count, language, **params)

    # `gettext`/`ngettext` serve jinja2.ext.i18n's {% trans %} blocks; `t`/`tn` are the short forms templates use.
    return {
        "t": t, "tn": tn, "gettext": t, "ngettext": lambda key, _plural, count, **p: tn(key, count, **p),
        "fmt_datetime": fmt_datetime, "fmt_date": fmt_date,
    }


class PageKit:
    """One service's pages: rendering into the shared layout, language choice, CSRF, limits and static files."""

    def __init__(
        self, service: str, templates: Path | Iterable[Path], secret: str, *, settings: PageSettings | None = None,
        site_name: str = "Kunnskapsportalen", secure_cookies: bool = False,
    ) -> None:
        self.service = service
        self.settings = settings or PageSettings()
        self.environment = create_environment(templates)
        self.csrf = CsrfProtection(secret)
        self.limiter = SlidingWindowLimiter(self.settings.form_rate_limit, self.settings.form_rate_window_seconds)
        self.site_name = site_name
        self.secure_cookies = secure_cookies

    def static_url(self, path: str) -> str:
        return f"/{self.service}/static/{path}"

    def language_links(self, request: Request, current: str) -> list[dict[str, Any]]:
        """The switcher: the same page in each language, as plain links (no JavaScript)."""
        query = [(k, v) for k, v in parse_qsl(request.url.query, keep_blank_values=True) if k != "lang"]
        return [
            {
                "code": code, "name": LANGUAGE_NAMES[code], "current": code == current,
                "href": f"{request.url.path}?{urlencode([*query, ('lang', code)])}",
            }
            for code in LANGUAGES
        ]

    def render(
        self, request: Request, template: str, *, language: str, status_code: int = 200,
        headers: Mapping[str, str] | None = None, **context: Any,
    ) -> HTMLResponse:
        """Render a page in the user's language, with a fresh CSRF token for its forms."""
        cookie_value, new_cookie = self.csrf.cookie_value(request)
        values: dict[str, Any] = {
            "lang": language, "site_name": self.site_name, "static": self.static_url, "region_name": None,
            "home_url": None, "language_links": self.language_links(request, language),
            "csrf_token": self.csrf.token_for(cookie_value), "errors": [], "form_id": secrets.token_urlsafe(16),
            **self.staff_context(request, language), **formatters(language), **context,
        }
        html = self.environment.get_template(template).render(values)
        response = HTMLResponse(html, status_code=status_code, headers=dict(headers or {}))
        # Pages carry per-user tokens: never cache them in shared caches.
        response.headers.setdefault("Cache-Control", "no-store")
        if new_cookie:
            response.set_cookie(
                CSRF_COOKIE, cookie_value, httponly=True, samesite="lax", secure=self.secure_cookies, path="/",
            )
        chosen = request.query_params.get("lang")
        if chosen in LANGUAGES and request.cookies.get(LANG_COOKIE) != chosen:
            response.set_cookie(
                LANG_COOKIE, str(chosen), max_age=365 * 24 * 3600, samesite="lax", secure=self.secure_cookies,
                path="/",
            )
        return response

    def staff_context(self, request: Request, language: str) -> dict[str, Any]:
        """The staff header and navigation, when an access rule verified the caller on this request."""
        principal = getattr(request.state, "principal", None)
        if not isinstance(principal, Principal):
            return {"principal": None, "staff_nav": [], "roles": [], "display_name": None,
                    "sign_out_url": SIGN_OUT_URL}
        return {
            "principal": principal, "staff_nav": staff_navigation(principal, request.url.path, language),
            "roles": role_labels(principal, language), "sign_out_url": SIGN_OUT_URL,
            "display_name": (request.cookies.get(DISPLAY_NAME_COOKIE) or "")[:100] or None,
        }

    def error_page(
        self, request: Request, *, language: str, status_code: int, title_key: str, message_key: str,
        headers: Mapping[str, str] | None = None, **context: Any,
    ) -> HTMLResponse:
        """A page for a refused request (CSRF, too many posts, too large, not found) in the user's language."""
        return self.render(
            request, "kp/error.html", language=language, status_code=status_code, headers=headers,
            title_key=title_key, message_key=message_key, **context,
        )

    async def guarded_form(self, request: Request, language: str, **context: Any) -> Form | HTMLResponse:
        """Read a public POST: the rate limit per client, the size limit and the CSRF token; or the refusal page."""
        client = request.client.host if request.client else "unknown"
        retry_after = self.limiter.hit(f"{self.service}:{client}")
        if retry_after is not None:
            return self.error_page(
                request, language=language, status_code=429, title_key="page.error.rate-limited.title",
                message_key="page.error.rate-limited.message", headers={"Retry-After": str(int(retry_after) + 1)},
                **context,
            )
        try:
            form = await read_form(request, self.settings.max_form_bytes)
        except FormTooLarge:
            return self.error_page(
                request, language=language, status_code=413, title_key="page.error.too-large.title",
                message_key="page.error.too-large.message", **context,
            )
        if not self.csrf.verify(request, form.get(CSRF_FIELD)):
            return self.error_page(
                request, language=language, status_code=403, title_key="page.error.csrf.title",
                message_key="page.error.csrf.message", **context,
            )
        return form


# The shared CSS under each service's own first path segment (/intake/static/…, /scoring/static/…), so pages work
# behind the gateway and with `kp serve` alike. A module-level router: a service includes it when it has pages.
static_router = APIRouter(include_in_schema=False, dependencies=[public])


@static_router.get("/{service}/static/{path:path}")
async def static_file(service: str, path: str) -> FileResponse:
    """A file of the shared static folder; anything outside it, or not a file, is 404."""
    root = STATIC_DIR.resolve()
    try:
        target = (root / path).resolve()
    except (OSError, ValueError):  # a NUL or an over-long name is just another missing file
        raise HTTPException(404, "no such static file") from None
    if not target.is_relative_to(root) or not target.is_file():
        raise HTTPException(404, "no such static file")
    return FileResponse(target, headers={"Cache-Control": "public, max-age=3600"})


def honeypot_filled(form: Form) -> bool:
    """True when the field that people never see was filled: a bot, whose post must not be stored."""
    return bool(form.get(HONEYPOT_FIELD))


def install_refusal_pages(app: FastAPI, kit: PageKit) -> None:
    """One refusal page for every page route: 401 offers sign-in, 403 says which role is missing.

    The JSON API (`/api/…`) keeps its problem details; everything else is a page a person reads."""

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Unauthorized | Forbidden)
        if request.url.path.startswith("/api/"):
            response: JSONResponse = await domain_problem(request, exc)
            return response
        language = choose_language(request)
        reason = "unauthorized" if isinstance(exc, Unauthorized) else "forbidden"
        sign_in = f"{SIGN_IN_URL}?{urlencode({'next': str(request.url.path)})}" if reason == "unauthorized" else None
        return kit.error_page(
            request, language=language, status_code=exc.status, title_key=f"page.denied.{reason}.title",
            message_key=f"page.denied.{reason}.message", back_url=sign_in,
            back_label=translate("staff.sign-in", language) if sign_in else None,
        )

    app.add_exception_handler(Unauthorized, refused)
    app.add_exception_handler(Forbidden, refused)
