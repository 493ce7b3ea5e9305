"""Reference data as committed files: municipalities, units, service areas, themes, criteria sets, delivered summaries.

Loaded once per process (the files ship with the code, in this package, and never change while it runs). Plain
Python: the proposals' rules (`proposals.model`) check their codes against these lists.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

LANGUAGES = ("nb", "nn", "en")

Labels = dict[str, str]


def label(labels: Labels, language: str) -> str:
    """The label in `language`, falling back to Bokmål (every label has one)."""
    return labels.get(language) or labels["nb"]


def _text(name: str) -> str:
    return resources.files("intake.reference").joinpath(name).read_text(encoding="utf-8")


def _rows(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(_text(name).splitlines()))


@dataclass(frozen=True)
class Municipality:
    """A municipality by its official number (SSB), with its validity period, so reports across mergers stay right."""

    number: str
    name: str
    valid_from: date
    valid_to: date | None
    successor: str | None

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True)
class Unit:
    """A non-municipal unit that may propose, such as USHT Hordaland; events name its host municipality."""

    code: str
    name: str
    kind: str
    valid_from: date
    valid_to: date | None
    host_municipality: str

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True)
class Labelled:
    """A classification code (service area, theme) with its nb/nn/en labels."""

    code: str
    labels: Labels

    def label(self, language: str) -> str:
        return label(self.labels, language)


@dataclass(frozen=True)
class Criterion:
    code: str
    labels: Labels
    help: Labels
    # True where priority rises as the score falls ("ressurser": the fewer resources, the better).
    inverse: bool


@dataclass(frozen=True)
class CriteriaSet:
    code: str
    labels: Labels
    minimum: int
    maximum: int
    criteria: tuple[Criterion, ...]

    def codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.criteria)


@dataclass(frozen=True)
class KnownSummary:
    """A knowledge summary already delivered: proposers see it before asking the same question again."""

    code: str
    title: str
    product: str
    delivered: str  # year-month, as the producer announces it ("i løpet av oktober")
    url: str
    keywords: str


@cache
def municipalities() -> dict[str, Municipality]:
    return {
        row["number"]: Municipality(
            number=row["number"], name=row["name"], valid_from=date.fromisoformat(row["valid_from"]),
            valid_to=date.fromisoformat(row["valid_to"]) if row["valid_to"] else None,
            successor=row["successor"] or None,
        )
        for row in _rows("municipalities.csv")
    }


def municipality_valid_on(number: str, day: date) -> Municipality | None:
    found = municipalities().get(number)
    return found if found is not None and found.valid_on(day) else None


def municipality_as_of(number: str, current: bool) -> Municipality | None:
    """The municipality a stored number names: as it was (a number is never reused), or its successor today."""
    known = municipalities()
    found = known.get(number)
    if current:
        seen = set()
        while found is not None and found.successor and found.successor in known and found.number not in seen:
            seen.add(found.number)
            found = known[found.successor]
    return found


def origin_name(municipality_number: str | None, unit_code: str | None) -> str:
    """Who proposed, as people read it: the unit's name, or the municipality's (the code when unknown)."""
    if unit_code:
        unit = units().get(unit_code)
        return unit.name if unit else unit_code
    if municipality_number:
        municipality = municipalities().get(municipality_number)
        return municipality.name if municipality else municipality_number
    return ""


def host_municipality(municipality_number: str | None, unit_code: str | None) -> str:
    """What v1 events carry as the municipality: a unit's host municipality when a unit proposed."""
    if municipality_number:
        return municipality_number
    unit = units().get(unit_code or "")
    return unit.host_municipality if unit else ""


@cache
def units() -> dict[str, Unit]:
    return {
        row["code"]: Unit(
            code=row["code"], name=row["name"], kind=row["kind"], valid_from=date.fromisoformat(row["valid_from"]),
            valid_to=date.fromisoformat(row["valid_to"]) if row["valid_to"] else None,
            host_municipality=row["host_municipality"],
        )
        for row in _rows("units.csv")
    }


def unit_valid_on(code: str, day: date) -> Unit | None:
    found = units().get(code)
    return found if found is not None and found.valid_on(day) else None


def units_valid_on(day: date) -> list[Unit]:
    return sorted((u for u in units().values() if u.valid_on(day)), key=lambda u: u.name)


def municipalities_valid_on(day: date) -> list[Municipality]:
    """The municipalities that existed on `day`, by name (reports across the 2020 mergers stay right)."""
    return sorted((m for m in municipalities().values() if m.valid_on(day)), key=lambda m: (m.name, m.number))


def labelled(items: dict[str, Labelled], code: str | None, language: str) -> str:
    """A code's label in `language`; '' for no code, the code itself when the list does not know it."""
    if not code:
        return ""
    found = items.get(code)
    return found.label(language) if found else code


def _labelled(name: str) -> dict[str, Labelled]:
    return {row["code"]: Labelled(row["code"], {lang: row[lang] for lang in LANGUAGES}) for row in _rows(name)}


@cache
def service_areas() -> dict[str, Labelled]:
    return _labelled("service_areas.csv")


@cache
def themes() -> dict[str, Labelled]:
    return _labelled("themes.csv")


def _criterion(raw: dict[str, Any]) -> Criterion:
    return Criterion(code=raw["code"], labels=raw["label"], help=raw["help"], inverse=bool(raw["inverse"]))


@cache
def criteria_sets() -> dict[str, CriteriaSet]:
    """Criteria sets are data, versioned by code: a round names the one it is scored against."""
    raw = json.loads(_text("criteria_sets.json"))
    return {
        code: CriteriaSet(
            code=code, labels=entry["label"], minimum=int(entry["scale"]["min"]), maximum=int(entry["scale"]["max"]),
            criteria=tuple(_criterion(c) for c in entry["criteria"]),
        )
        for code, entry in raw.items()
    }


def criteria_set(code: str | None) -> CriteriaSet | None:
    return criteria_sets().get(code) if code else None


@cache
def known_summaries() -> tuple[KnownSummary, ...]:
    return tuple(
        KnownSummary(
            code=row["code"], title=row["title"], product=row["product"], delivered=row["delivered"], url=row["url"],
            keywords=row["keywords"],
        )
        for row in _rows("known_summaries.csv")
    )


# Python compares code points, which puts Å before Æ and Ø; Norwegian sorts them Æ, Ø, Å after Z.
_NORWEGIAN_ORDER = str.maketrans({"æ": "{", "ø": "|", "å": "}", "ä": "{", "ö": "|"})


def sort_key(label: str) -> str:
    """A label's place in Norwegian alphabetical order."""
    return label.casefold().translate(_NORWEGIAN_ORDER)
