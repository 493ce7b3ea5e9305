"""The rounds' JSON API (/api/intake/v1): a region's rounds, one round, and the secretariat's changes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from intake.deps import ApiLanguageDep, LimitedBodyRoute, ReaderDep, Region, UnitOfWorkDep
from intake.reference.api import CriterionOut, criteria_out
from intake.rounds import service
from intake.rounds.model import Round, RoundStatus
from shared.auth import Role
from shared.i18n import translate
from shared.web.access import Secretariat, SecretariatForResource, public

ROUND_ID = r"^[a-z0-9][a-z0-9-]{2,79}$"

router = APIRouter(prefix="/api/intake/v1", tags=["intake"], route_class=LimitedBodyRoute)


class RoundIn(BaseModel):
    """A round as the secretariat sets it. Timestamps without an offset are wall-clock time in `time_zone`."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=3, max_length=200)
    opens_at: datetime
    closes_at: datetime
    time_zone: str = Field(default="Europe/Oslo", min_length=1, max_length=64)
    default_language: str = Field(default="nb", min_length=2, max_length=2)
    committee_meeting_on: date | None = None
    decision_on: date | None = None
    final_report_on: date | None = None
    criteria_set: str | None = Field(default=service.DEFAULT_CRITERIA_SET, max_length=80)
    capacity_note: str = Field(default="", max_length=5000)

    def fields(self) -> service.RoundFields:
        return service.RoundFields(**self.model_dump(exclude={"id"}))


class RoundCreateIn(RoundIn):
    id: str | None = Field(default=None, pattern=ROUND_ID, description="Generated when not given")


class RoundOut(BaseModel):
    id: str
    region: str
    name: str
    status: str
    status_label: str
    opens_at: datetime
    closes_at: datetime
    time_zone: str
    default_language: str
    committee_meeting_on: date | None
    decision_on: date | None
    final_report_on: date | None
    criteria_set: str | None
    capacity_note: str


class RoundDetailOut(RoundOut):
    criteria: list[CriterionOut]


def status_label(status: str, language: str) -> str:
    """A round status's label from the contracts' catalogue; an unknown code is shown as itself."""
    return translate(f"round.status.{status}", language, default=status)


def _round_out(round_: Round, now: datetime, language: str) -> dict[str, Any]:
    status = round_.status_at(now)
    return {
        "id": round_.id, "region": round_.region, "name": round_.name, "status": status.value,
        "status_label": status_label(status, language), "opens_at": round_.opens_at,
        "closes_at": round_.closes_at, "time_zone": round_.time_zone, "default_language": round_.default_language,
        "committee_meeting_on": round_.committee_meeting_on, "decision_on": round_.decision_on,
        "final_report_on": round_.final_report_on, "criteria_set": round_.criteria_set,
        "capacity_note": round_.capacity_note,
    }


def _round_detail(round_: Round, language: str) -> RoundDetailOut:
    return RoundDetailOut(
        **_round_out(round_, datetime.now(UTC), language), criteria=criteria_out(round_.criteria_set, language)
    )


@router.get("/regions/{region}/rounds", response_model=list[RoundOut], dependencies=[public])
async def list_rounds(
    region: Region,
    reader: ReaderDep,
    language: ApiLanguageDep,
    status: Annotated[Literal["planned", "open", "closed"] | None, Query()] = None,
) -> list[RoundOut]:
    """The region's rounds by opening time, optionally only those with the given status right now."""
    now = datetime.now(UTC)
    found = await service.list_rounds(region, reader, RoundStatus(status) if status else None, now)
    return [RoundOut(**_round_out(r, now, language)) for r in found]


@router.get("/rounds/{round_id}", response_model=RoundDetailOut, dependencies=[public])
async def get_round(round_id: str, reader: ReaderDep, language: ApiLanguageDep) -> RoundDetailOut:
    """One round with its timeline and its criteria (labels in the caller's language)."""
    return _round_detail(await service.get_round(round_id, reader), language)


@router.post("/regions/{region}/rounds", status_code=201, response_model=RoundDetailOut)
async def create_round(
    *, region: Region, body: RoundCreateIn, principal: Secretariat, response: Response, uow: UnitOfWorkDep,
    language: ApiLanguageDep,
) -> RoundDetailOut:
    """Create a round (the region's secretariat). Its opening and closing are announced by the clock."""
    round_ = await service.create_round(service.CreateRound(region, body.fields(), body.id), uow)
    response.headers["Location"] = f"/api/intake/v1/rounds/{round_.id}"
    return _round_detail(round_, language)


@router.put("/rounds/{round_id}", response_model=RoundDetailOut)
async def update_round(
    *, round_id: str, body: RoundIn, principal: SecretariatForResource, reader: ReaderDep, uow: UnitOfWorkDep,
    language: ApiLanguageDep,
) -> RoundDetailOut:
    """Replace a round's settings (the secretariat of its region). Moving a window re-arms its announcement."""
    existing = await service.get_round(round_id, reader)
    principal.require(Role.SECRETARIAT, existing.region)
    round_ = await service.update_round(service.UpdateRound(round_id, body.fields()), uow)
    return _round_detail(round_, language)
