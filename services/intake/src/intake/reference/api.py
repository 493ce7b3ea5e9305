"""The reference lists' JSON API: what a proposal may name, labelled in the caller's language."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from pydantic import BaseModel

from intake.deps import ApiLanguageDep
from intake.reference import model
from intake.reference.service import reference_data
from shared.web.access import public

router = APIRouter(prefix="/api/intake/v1", tags=["intake"])
PUBLIC_ZONE = ZoneInfo("Europe/Oslo")


class CriterionOut(BaseModel):
    code: str
    label: str
    help: str
    inverse: bool


class MunicipalityOut(BaseModel):
    number: str
    name: str
    valid_from: date
    valid_to: date | None
    successor: str | None


class UnitOut(BaseModel):
    code: str
    name: str
    kind: str
    host_municipality: str


class LabelledOut(BaseModel):
    code: str
    label: str


class CriteriaSetOut(BaseModel):
    code: str
    label: str
    min: int
    max: int
    criteria: list[CriterionOut]


class ReferenceOut(BaseModel):
    date: date
    language: str
    municipalities: list[MunicipalityOut]
    units: list[UnitOut]
    service_areas: list[LabelledOut]
    themes: list[LabelledOut]
    criteria_sets: list[CriteriaSetOut]


def criteria_out(code: str | None, language: str) -> list[CriterionOut]:
    """A criteria set's criteria with their labels and help in `language` (none for an unknown set)."""
    found = model.criteria_set(code)
    if found is None:
        return []
    return [
        CriterionOut(code=c.code, label=model.label(c.labels, language), help=model.label(c.help, language),
                     inverse=c.inverse)
        for c in found.criteria
    ]


@router.get("/reference", response_model=ReferenceOut, dependencies=[public])
async def reference_lists(
    language: ApiLanguageDep,
    day: Annotated[date | None, Query(alias="date", description="YYYY-MM-DD; today")] = None,
) -> ReferenceOut:
    """Municipalities and units valid on the date, service areas, themes and criteria sets, labelled (?lang=)."""
    data = reference_data(day or datetime.now(UTC).astimezone(PUBLIC_ZONE).date())
    return ReferenceOut(
        date=data.day, language=language,
        municipalities=[
            MunicipalityOut(number=m.number, name=m.name, valid_from=m.valid_from, valid_to=m.valid_to,
                            successor=m.successor)
            for m in data.municipalities
        ],
        units=[UnitOut(code=u.code, name=u.name, kind=u.kind, host_municipality=u.host_municipality)
               for u in data.units],
        service_areas=[LabelledOut(code=a.code, label=a.label(language)) for a in data.service_areas],
        themes=[LabelledOut(code=t.code, label=t.label(language)) for t in data.themes],
        criteria_sets=[
            CriteriaSetOut(code=s.code, label=model.label(s.labels, language), min=s.minimum, max=s.maximum,
                           criteria=criteria_out(s.code, language))
            for s in data.criteria_sets
        ],
    )
