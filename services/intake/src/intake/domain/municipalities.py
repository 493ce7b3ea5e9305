"""Municipalities by official number (SSB), with validity periods so reports across mergers stay right."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Municipality:
    number: str
    name: str
    valid_from: date
    valid_to: date | None
    successor: str | None

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@cache
def municipalities() -> dict[str, Municipality]:
    text = resources.files("intake.reference").joinpath("municipalities.csv").read_text(encoding="utf-8")
    result = {}
    for row in csv.DictReader(text.splitlines()):
        result[row["number"]] = Municipality(
            number=row["number"],
            name=row["name"],
            valid_from=date.fromisoformat(row["valid_from"]),
            valid_to=date.fromisoformat(row["valid_to"]) if row["valid_to"] else None,
            successor=row["successor"] or None,
        )
    return result


def municipality_valid_on(number: str, day: date) -> Municipality | None:
    found = municipalities().get(number)
    return found if found is not None and found.valid_on(day) else None
