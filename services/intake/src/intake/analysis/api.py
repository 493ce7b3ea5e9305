"""The analysis for a region's secretariat as JSON, XLSX, CSV and SVG under /api/intake/v1."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from intake.analysis.exports import (
    CSV_MEDIA_TYPE,
    SVG_MEDIA_TYPE,
    XLSX_MEDIA_TYPE,
    chart,
    csv_bytes,
    export_table,
    file_stem,
    xlsx_bytes,
)
from intake.analysis.model import Analysis, AnalysisQuery, Basis, CountTable, TableName
from intake.analysis.service import analyse
from intake.deps import REGION_PATTERN, ReaderDep
from shared.auth import Role
from shared.web.access import SecretariatForResource
from shared.web.i18n import negotiate_language

router = APIRouter(prefix="/api/intake/v1", tags=["analysis"])
_FILE_SLUG = {"by_unit": "enhet", "by_service_area": "etat", "by_theme": "tema"}


class CountRowOut(BaseModel):
    code: str
    label: str
    count: int


class AnalysisOut(BaseModel):
    """Counts of proposals three ways; `total` is the number of proposals, and every table's rows add up to it."""

    region: str
    round: str | None
    date_from: date | None
    date_to: date | None
    basis: Basis
    language: str
    by_unit: list[CountRowOut]
    by_service_area: list[CountRowOut]
    by_theme: list[CountRowOut]
    total: int


def _rows(table: CountTable) -> list[CountRowOut]:
    return [CountRowOut(code=r.code, label=r.label, count=r.count) for r in table.rows]


def analysis_out(analysis: Analysis) -> AnalysisOut:
    query = analysis.query
    return AnalysisOut(
        region=query.region, round=query.round_id, date_from=query.date_from, date_to=query.date_to,
        basis=query.basis, language=query.language, by_unit=_rows(analysis.by_unit),
        by_service_area=_rows(analysis.by_service_area), by_theme=_rows(analysis.by_theme), total=analysis.total,
    )


async def _query(
    request: Request,
    *,
    region: Annotated[str, Query(pattern=REGION_PATTERN)],
    round_id: Annotated[str | None, Query(alias="round", max_length=80)] = None,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
    basis: Annotated[Basis, Query()] = "submitted",
    lang: Annotated[Literal["nb", "nn", "en"] | None, Query()] = None,
) -> AnalysisQuery:
    return AnalysisQuery(
        region=region, round_id=round_id or None, date_from=date_from, date_to=date_to,
        language=lang or negotiate_language(request), basis=basis,
    )


QueryDep = Annotated[AnalysisQuery, Depends(_query)]


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}


@router.get("/analysis", response_model=AnalysisOut)
async def get_analysis(principal: SecretariatForResource, query: QueryDep, reader: ReaderDep) -> AnalysisOut:
    """Proposals counted by unit, service area and theme, for one round or across the region's rounds."""
    principal.require(Role.SECRETARIAT, query.region)
    return analysis_out(await analyse(query, reader))


@router.get("/analysis.xlsx", responses={200: {"content": {XLSX_MEDIA_TYPE: {}}}})
async def get_analysis_xlsx(principal: SecretariatForResource, query: QueryDep, reader: ReaderDep) -> Response:
    """The three tables as a spreadsheet: one sheet each, numbers as numbers, a bold total row."""
    principal.require(Role.SECRETARIAT, query.region)
    analysis = await analyse(query, reader)
    content = xlsx_bytes([export_table(t, query.language) for t in analysis.tables()])
    return Response(content, media_type=XLSX_MEDIA_TYPE, headers=_attachment(f"{file_stem(query)}.xlsx"))


@router.get("/analysis.csv", responses={200: {"content": {"text/csv": {}}}})
async def get_analysis_csv(
    principal: SecretariatForResource, table: Annotated[TableName, Query()], query: QueryDep, reader: ReaderDep,
) -> Response:
    """One table as CSV for Norwegian Excel: `;`, UTF-8 with a BOM, CRLF, a header row."""
    principal.require(Role.SECRETARIAT, query.region)
    analysis = await analyse(query, reader)
    content = csv_bytes(export_table(analysis.table(table), query.language))
    name = f"{file_stem(query)}-{_FILE_SLUG[table]}.csv"
    return Response(content, media_type=CSV_MEDIA_TYPE, headers=_attachment(name))


@router.get("/analysis/{table}.svg", responses={200: {"content": {SVG_MEDIA_TYPE: {}}}})
async def get_analysis_chart(
    principal: SecretariatForResource, table: TableName, query: QueryDep, reader: ReaderDep,
) -> Response:
    """One table as a horizontal bar chart (SVG with a title and a description)."""
    principal.require(Role.SECRETARIAT, query.region)
    analysis = await analyse(query, reader)
    return Response(chart(analysis.table(table), query.language), media_type=SVG_MEDIA_TYPE,
                    headers={"Cache-Control": "no-store"})
