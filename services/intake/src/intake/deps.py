"""What intake's routes and subscribers get: the runtime, a unit of work, a reader, the page kits, the language.

The runtime (database, broker, relay, clock, signed links, page kits) lives on `app.state.runtime`; routes reach
it only through the `Annotated` dependencies below, never through a function that builds their router.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi import Path as PathParam
from fastapi.routing import APIRoute
from faststream.nats import NatsBroker

from intake.rounds.clock import RoundClock
from intake.screening.links import RevisionLinks
from intake.settings import IntakeSettings
from intake.tables import inbox, outbox
from intake.uow import IntakeReader, IntakeUnitOfWork
from shared.errors import PayloadTooLarge
from shared.runtime import ServiceRuntime
from shared.web.i18n import negotiate_language
from shared.web.pages import PageKit, PageSettings, choose_language

TEMPLATES = Path(__file__).resolve().parent / "templates"
REGION_PATTERN = r"^[a-z][a-z0-9-]{1,30}$"
# The region's name in the pages' header; a region without one shows its code.
REGION_NAMES = {"vest": "Kunnskapskommunen Helse Omsorg Vest"}
# The public form's limit (a few posts a minute per address) would stop a secretariat working through a round.
STAFF_FORM_RATE_LIMIT = 300
# Larger than any valid proposal (the longest texts add up to about 30 KB of UTF-8); refusing before parsing
# keeps a flood of huge bodies from costing memory and JSON parsing.
MAX_BODY_BYTES = 64 * 1024


class IntakeRuntime(ServiceRuntime):
    """Intake's long-lived parts; subscribers get it as their context, routes through the dependencies below."""

    settings: IntakeSettings

    def __init__(self, settings: IntakeSettings, broker: NatsBroker | None = None) -> None:
        super().__init__(settings, outbox, inbox, broker)
        secret = settings.common.auth_secret
        self.links = RevisionLinks(secret, settings.public_url, settings.revise_link_days)
        self.pages = PageKit("intake", TEMPLATES, secret)
        staff_settings = PageSettings()
        staff_settings.form_rate_limit = max(staff_settings.form_rate_limit, STAFF_FORM_RATE_LIMIT)
        self.staff_pages = PageKit("intake", TEMPLATES, secret, settings=staff_settings)
        self.clock = RoundClock(self.unit_of_work, settings.clock_seconds)

    def unit_of_work(self) -> IntakeUnitOfWork:
        return IntakeUnitOfWork(self.database, outbox, inbox, on_commit=self.relay.wake)

    def reader(self) -> IntakeReader:
        return IntakeReader(self.database)

    async def start(self) -> None:
        # The clock starts after the database and the broker, and stops before them.
        await super().start()
        self.clock.start()

    async def stop(self) -> None:
        await self.clock.stop()
        await super().stop()


async def runtime(request: Request) -> IntakeRuntime:
    found: IntakeRuntime = request.app.state.runtime
    return found


RuntimeDep = Annotated[IntakeRuntime, Depends(runtime)]


async def unit_of_work(runtime: RuntimeDep) -> IntakeUnitOfWork:
    return runtime.unit_of_work()


async def reader(runtime: RuntimeDep) -> IntakeReader:
    return runtime.reader()


async def settings(runtime: RuntimeDep) -> IntakeSettings:
    return runtime.settings


async def links(runtime: RuntimeDep) -> RevisionLinks:
    return runtime.links


async def pages(runtime: RuntimeDep) -> PageKit:
    assert runtime.pages is not None
    return runtime.pages


async def staff_pages(runtime: RuntimeDep) -> PageKit:
    return runtime.staff_pages


async def page_language(request: Request) -> str:
    """The pages' language: ?lang=, the kp_lang cookie, then Bokmål (a page with a default of its own asks
    `choose_language` itself)."""
    return choose_language(request)


async def api_language(request: Request) -> str:
    """The API's language: ?lang=, the kp_lang cookie, then Accept-Language, then Bokmål."""
    return negotiate_language(request)


UnitOfWorkDep = Annotated[IntakeUnitOfWork, Depends(unit_of_work)]
ReaderDep = Annotated[IntakeReader, Depends(reader)]
SettingsDep = Annotated[IntakeSettings, Depends(settings)]
LinksDep = Annotated[RevisionLinks, Depends(links)]
PagesDep = Annotated[PageKit, Depends(pages)]
StaffPagesDep = Annotated[PageKit, Depends(staff_pages)]
ApiLanguageDep = Annotated[str, Depends(api_language)]
PageLanguageDep = Annotated[str, Depends(page_language)]
Region = Annotated[str, PathParam(pattern=REGION_PATTERN)]


def page_header(region: str, home_url: str | None = None) -> dict[str, Any]:
    """The header of intake's pages for a region: its name, and where its name links to."""
    return {"region_name": REGION_NAMES.get(region, region.upper()), "home_url": home_url or f"/intake/{region}"}


def staff_header(region: str) -> dict[str, Any]:
    """The header of the secretariat's pages: the region's name linking to its screening."""
    return page_header(region, f"/intake/{region}/screening")


class LimitedBodyRoute(APIRoute):
    """Refuses bodies over MAX_BODY_BYTES before they are parsed (413, problem details)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def limited(request: Request) -> Response:
            if request.method in ("POST", "PUT", "PATCH"):
                await _read_limited_body(request)
            return await handler(request)

        return limited


async def _read_limited_body(request: Request) -> None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body has {declared} bytes; at most {MAX_BODY_BYTES} are accepted")
    body = bytearray()
    async for chunk in request.stream():  # a chunked body has no length: count as it arrives
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"the body is larger than {MAX_BODY_BYTES} bytes")
    # FastAPI reads the body from this cache; the stream itself can be read only once.
    request._body = bytes(body)
