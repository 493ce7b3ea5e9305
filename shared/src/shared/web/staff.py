"""What every staff page shares: who is signed in, the navigation between staff pages, sorting and paging.

The secretariat's, the committee's, the steering group's and the producer's pages all render into the same
header (the signed-in person, their roles, sign-out) and the same navigation, built from the caller's roles:
each service owns its pages, but staff move between them as one application. Tables sort and page through
plain GET links and buttons, so everything works without JavaScript.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from math import ceil
from urllib.parse import urlencode

from shared.auth import Principal, Role
from shared.i18n import translate

# Each entry: the role that sees it, the message key of its label, the path (with {region}).
STAFF_PAGES: tuple[tuple[Role, str, str], ...] = (
    (Role.SECRETARIAT, "staff.nav.screening", "/intake/{region}/screening"),
    (Role.SECRETARIAT, "staff.nav.rounds", "/intake/{region}/rounds"),
    (Role.SECRETARIAT, "staff.nav.analysis", "/intake/{region}/analysis"),
    (Role.SECRETARIAT, "staff.nav.import", "/intake/{region}/import"),
    (Role.SECRETARIAT, "staff.nav.quarantine", "/intake/{region}/quarantine"),
    (Role.COMMITTEE_MEMBER, "staff.nav.scoring", "/scoring/{region}"),
    (Role.COMMITTEE_CHAIR, "staff.nav.scoring", "/scoring/{region}"),
    (Role.STEERING_GROUP, "staff.nav.decisions", "/ordering/{region}/decisions"),
    (Role.SECRETARIAT, "staff.nav.orders", "/ordering/{region}/orders"),
    (Role.PRODUCER, "staff.nav.producer", "/ordering/producer"),
    (Role.REGISTRY_EDITOR, "staff.nav.registry", "/registry/{region}/needs"),
    (Role.ADMIN, "staff.nav.directory", "/registry/{region}/directory"),
)

SIGN_OUT_URL = "/registry/sign-out"
SIGN_IN_URL = "/registry/sign-in"


@dataclass(frozen=True)
class NavLink:
    label: str
    href: str
    current: bool


def staff_navigation(principal: Principal | None, current_path: str, language: str) -> list[NavLink]:
    """The staff pages the caller may open, one link each (an admin sees every page of their regions)."""
    if principal is None:
        return []
    links: dict[str, NavLink] = {}
    for grant in principal.grants:
        for role, key, pattern in STAFF_PAGES:
            if grant.role not in (role, Role.ADMIN) or (grant.role == Role.ADMIN and role == Role.PRODUCER):
                continue
            href = pattern.format(region=grant.region)
            if href in links:
                continue
            label = translate(key, language)
            if len(principal.regions()) > 1 and "{region}" in pattern:
                label = f"{label} ({grant.region})"
            links[href] = NavLink(label, href, current_path == href or current_path.startswith(href + "/"))
    return list(links.values())


def role_labels(principal: Principal, language: str) -> list[str]:
    """The caller's roles as people read them: "Sekretariat (vest)"."""
    return [f"{translate(f'role.{g.role.value}', language)} ({g.region})" for g in principal.grants]


# --- Sorting and paging ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A table column; `key` names it in `?sort=key` (only sortable columns have one)."""

    label: str
    key: str | None = None
    numeric: bool = False


@dataclass(frozen=True)
class Sort:
    key: str
    descending: bool

    @property
    def value(self) -> str:
        return f"{self.key}:{'desc' if self.descending else 'asc'}"


def parse_sort(raw: str | None, allowed: Iterable[str], default: Sort) -> Sort:
    """`?sort=title:asc` → Sort; anything not allowed gives the default (never an error for a stale link)."""
    key, _, direction = (raw or "").partition(":")
    if key not in set(allowed):
        return default
    return Sort(key, direction == "desc")


@dataclass(frozen=True)
class SortHeader:
    """One header cell: aria-sort for the current column, and the value its button submits."""

    label: str
    key: str | None
    aria_sort: str | None
    next_value: str | None
    numeric: bool


def sort_headers(columns: Sequence[Column], current: Sort) -> list[SortHeader]:
    headers = []
    for column in columns:
        if column.key is None:
            headers.append(SortHeader(column.label, None, None, None, column.numeric))
            continue
        is_current = column.key == current.key
        aria = ("descending" if current.descending else "ascending") if is_current else "none"
        flip = Sort(column.key, not current.descending if is_current else column.numeric)
        headers.append(SortHeader(column.label, column.key, aria, flip.value, column.numeric))
    return headers


@dataclass(frozen=True)
class PageLink:
    number: int
    href: str
    current: bool


@dataclass(frozen=True)
class Pager:
    """Which slice of a list a page shows, and the links to the others."""

    total: int
    page: int
    size: int

    @staticmethod
    def of(total: int, raw_page: str | None, size: int = 50) -> Pager:
        pages = max(1, ceil(total / size))
        try:
            page = int(raw_page or "1")
        except ValueError:
            page = 1
        return Pager(total, min(max(page, 1), pages), size)

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.size))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    @property
    def first_shown(self) -> int:
        return 0 if self.total == 0 else self.offset + 1

    @property
    def last_shown(self) -> int:
        return min(self.total, self.offset + self.size)

    def links(self, path: str, query: Mapping[str, str], window: int = 2) -> list[PageLink | None]:
        """Links to the first, the last and the pages near the current one; None where pages are skipped."""
        wanted = {1, self.pages, *range(self.page - window, self.page + window + 1)}
        numbers = sorted(n for n in wanted if 1 <= n <= self.pages)
        result: list[PageLink | None] = []
        previous = 0
        for number in numbers:
            if number - previous > 1:
                result.append(None)
            result.append(PageLink(number, page_href(path, query, number), number == self.page))
            previous = number
        return result

    def previous_href(self, path: str, query: Mapping[str, str]) -> str | None:
        return page_href(path, query, self.page - 1) if self.page > 1 else None

    def next_href(self, path: str, query: Mapping[str, str]) -> str | None:
        return page_href(path, query, self.page + 1) if self.page < self.pages else None


def page_href(path: str, query: Mapping[str, str], page: int) -> str:
    values = {k: v for k, v in query.items() if k != "page" and v}
    if page > 1:
        values["page"] = str(page)
    return f"{path}?{urlencode(values)}" if values else path
