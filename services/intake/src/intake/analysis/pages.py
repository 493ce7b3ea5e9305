"""The analysis page for a region's secretariat (/intake/{region}/analysis): a selection, the three tables each with
its chart, and the downloads."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from babel.numbers import format_decimal
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from intake.analysis.exports import chart, export_table
from intake.analysis.model import TABLES, Analysis, AnalysisQuery, AnalysisRoundNotFound, Basis
from intake.analysis.service import analyse
from intake.deps import PageLanguageDep, ReaderDep, Region, StaffPagesDep, staff_header
from shared.i18n import translate
from shared.web.access import Secretariat
from shared.web.pages import FieldError

router = APIRouter(include_in_schema=False)


def _parse_date(text: str, name: str, language: str, errors: list[FieldError]) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.append(FieldError(name, translate(f"analysis.filter.{name}", language),
                                 translate("analysis.filter.invalid-date", language)))
        return None


def _sections(analysis: Analysis, language: str) -> list[dict[str, Any]]:
    return [
        {
            "id": table.name.replace("_", "-"), "table": table, "headings": export_table(table, language),
            "chart": Markup(chart(table, language)),  # built by bar_chart_svg, which escapes every text it writes
        }
        for table in analysis.tables()
    ]


def _downloads(query: AnalysisQuery, language: str) -> list[dict[str, str]]:
    params = {"region": query.region, "round": query.round_id or "", "from": query.date_from or "",
              "to": query.date_to or "", "basis": query.basis, "lang": language}
    common = urlencode({k: str(v) for k, v in params.items() if v})
    links = [{"href": f"/api/intake/v1/analysis.xlsx?{common}", "label": translate("analysis.download.xlsx", language)}]
    for table in TABLES:
        title = translate(f"analysis.{table}.heading", language)
        links.append({"href": f"/api/intake/v1/analysis.csv?{common}&table={table}",
                      "label": translate("analysis.download.csv", language, title=title)})
    return links


@router.get("/intake/{region}/analysis", response_class=HTMLResponse)
async def analysis_page(
    *, request: Request, region: Region, principal: Secretariat, kit: StaffPagesDep, reader: ReaderDep,
    language: PageLanguageDep,
) -> HTMLResponse:
    """The page: a selection form, the three tables each with its chart, and the downloads."""
    params = request.query_params
    errors: list[FieldError] = []
    dates = {name: _parse_date(params.get(name, ""), name, language, errors) for name in ("from", "to")}
    basis: Basis = "current" if params.get("basis") == "current" else "submitted"
    query = AnalysisQuery(region, params.get("round", "").strip() or None, dates["from"], dates["to"], language, basis)
    try:
        analysis = await analyse(query, reader, with_rounds=True)
    except AnalysisRoundNotFound:
        errors.append(FieldError("round", translate("analysis.filter.round", language),
                                 translate("analysis.filter.unknown-round", language)))
        query = AnalysisQuery(region, None, query.date_from, query.date_to, language, basis)
        analysis = await analyse(query, reader, with_rounds=True)
    return kit.render(
        request, "analysis.html", language=language, title=translate("analysis.title", language),
        analysis=analysis, query=query, errors=errors, values={k: params.get(k, "") for k in ("from", "to")},
        sections=_sections(analysis, language), downloads=_downloads(query, language),
        number=lambda n: format_decimal(n, locale=language), **staff_header(region),
    )
