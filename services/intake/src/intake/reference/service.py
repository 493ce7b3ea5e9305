"""What the reference lists offer on a given day: plain reads of the committed files, no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from intake.reference import model


@dataclass(frozen=True)
class ReferenceData:
    """The lists a proposal form offers on a given day."""

    day: date
    municipalities: list[model.Municipality]
    units: list[model.Unit]
    service_areas: list[model.Labelled]
    themes: list[model.Labelled]
    criteria_sets: list[model.CriteriaSet]


def reference_data(day: date) -> ReferenceData:
    """Municipalities and units valid on `day`, service areas, themes and criteria sets."""
    return ReferenceData(
        day=day,
        municipalities=model.municipalities_valid_on(day),
        units=model.units_valid_on(day),
        service_areas=list(model.service_areas().values()),
        themes=list(model.themes().values()),
        criteria_sets=list(model.criteria_sets().values()),
    )
