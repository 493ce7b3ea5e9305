"""The analysis for a region's secretariat: JSON, XLSX, CSV and SVG under /api/intake/v1, and a page."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from babel.numbers import format_decimal
from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from pydantic import BaseModel

from intake.adapters.exports import (
    CSV_MEDIA_TYPE,
    SVG_MEDIA_TYPE,
    XLSX_MEDIA_TYPE,
    ExportTable,
    bar_chart_svg,
    csv_bytes,
    xlsx_bytes,
)
from intake.service.analysis import (
    TABLES,
    Analysis,
    AnalysisQuery,
    AnalysisRoundNotFound,
    Basis,
    CountTable,
    TableName,
    analyse,
)
from shared.auth import Principal, Role, principal_dependency, require_role, verify_token
from shared.auth import token_from_request as session_token
from shared.db import Database
from shared.web.i18n import negotiate_language, register_messages, translate
from shared.web.pages import FieldError, PageKit, choose_language
from shared.web.problems import Forbidden, Unauthorized

REGION = r"^[a-z][a-z0-9-]{1,30}$"
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"

# The seed's own headings ("Enhet", "Etat / forvaltningsområde", "Tema / formål", "Antall forslag", "Totalsum").
MESSAGES: dict[str, dict[str, str]] = {
    "analysis.title": {"nb": "Analyse av forslag", "nn": "Analyse av forslag", "en": "Analysis of proposals"},
    "analysis.by_unit.title": {
        "nb": "Forslag fra kommunene", "nn": "Forslag frå kommunane", "en": "Proposals by municipality or unit",
    },
    "analysis.by_unit.heading": {"nb": "Enhet", "nn": "Eining", "en": "Unit"},
    "analysis.by_unit.sheet": {"nb": "Enhet", "nn": "Eining", "en": "Unit"},
    "analysis.by_service_area.title": {
        "nb": "Forslag etter etat / forvaltningsområde", "nn": "Forslag etter etat / forvaltingsområde",
        "en": "Proposals by service area",
    },
    "analysis.by_service_area.heading": {
        "nb": "Etat / forvaltningsområde", "nn": "Etat / forvaltingsområde", "en": "Service area",
    },
    "analysis.by_service_area.sheet": {"nb": "Etat", "nn": "Etat", "en": "Service area"},
    "analysis.by_theme.title": {
        "nb": "Forslag etter tema / formål", "nn": "Forslag etter tema / føremål", "en": "Proposals by theme / purpose",
    },
    "analysis.by_theme.heading": {"nb": "Tema / formål", "nn": "Tema / føremål", "en": "Theme / purpose"},
    "analysis.by_theme.sheet": {"nb": "Tema", "nn": "Tema", "en": "Theme"},
    "analysis.count": {"nb": "Antall forslag", "nn": "Tal på forslag", "en": "Proposals"},
    "analysis.total": {"nb": "Totalsum", "nn": "Totalsum", "en": "Total"},
    "analysis.code": {"nb": "Kode", "nn": "Kode", "en": "Code"},
    "analysis.chart.description": {
        "nb": "Liggende stolpediagram: antall forslag per rad, totalsum {total}. Tallene står i tabellen.",
        "nn": "Liggjande stolpediagram: tal på forslag per rad, totalsum {total}. Tala står i tabellen.",
        "en": "Horizontal bar chart: proposals per row, total {total}. The figures are in the table.",
    },
    "analysis.chart.description.capped": {
        "nb": "Liggende stolpediagram: antall forslag for de {shown} største radene, de andre {rest} samlet i én "
              "stolpe; totalsum {total}. Alle tallene står i tabellen.",
        "nn": "Liggjande stolpediagram: tal på forslag for dei {shown} største radene, dei andre {rest} samla i éin "
              "stolpe; totalsum {total}. Alle tala står i tabellen.",
        "en": "Horizontal bar chart: proposals for the {shown} largest rows, the other {rest} as one bar; total "
              "{total}. All figures are in the table.",
    },
    "analysis.chart.rest": {"nb": "Andre ({rows} rader)", "nn": "Andre ({rows} rader)", "en": "Others ({rows} rows)"},
    "analysis.filter.heading": {"nb": "Utvalg", "nn": "Utval", "en": "Selection"},
    "analysis.filter.round": {"nb": "Runde", "nn": "Runde", "en": "Round"},
    "analysis.filter.all-rounds": {"nb": "Alle runder", "nn": "Alle rundar", "en": "All rounds"},
    "analysis.filter.from": {"nb": "Fra dato", "nn": "Frå dato", "en": "From date"},
    "analysis.filter.to": {"nb": "Til dato", "nn": "Til dato", "en": "To date"},
    "analysis.filter.date-example": {"nb": "For eksempel 2019-08-15", "nn": "Til dømes 2019-08-15",
                                     "en": "For example 2019-08-15"},
    "analysis.filter.basis": {"nb": "Kommuner", "nn": "Kommunar", "en": "Municipalities"},
    "analysis.filter.basis.submitted": {
        "nb": "Slik de var da forslaget kom inn", "nn": "Slik dei var då forslaget kom inn",
        "en": "As they were when the proposal came in",
    },
    "analysis.filter.basis.current": {
        "nb": "Dagens kommuner (etter sammenslåinger)", "nn": "Dagens kommunar (etter samanslåingar)",
        "en": "Today's municipalities (after mergers)",
    },
    "analysis.filter.show": {"nb": "Vis analysen", "nn": "Vis analysen", "en": "Show the analysis"},
    "analysis.filter.invalid-date": {
        "nb": "Skriv datoen som ÅÅÅÅ-MM-DD", "nn": "Skriv datoen som ÅÅÅÅ-MM-DD", "en": "Write the date as YYYY-MM-DD",
    },
    "analysis.filter.unknown-round": {
        "nb": "Runden finnes ikke i regionen", "nn": "Runden finst ikkje i regionen",
        "en": "The round does not exist in this region",
    },
    "analysis.scope.round": {"nb": "Runde: {name}", "nn": "Runde: {name}", "en": "Round: {name}"},
    "analysis.scope.all": {
        "nb": "Alle runder i regionen {region}", "nn": "Alle rundar i regionen {region}",
        "en": "All rounds in region {region}",
    },
    "analysis.scope.total": {
        "nb": "{total} forslag i utvalget.", "nn": "{total} forslag i utvalet.", "en": "{total} proposals selected.",
    },
    "analysis.downloads": {"nb": "Last ned", "nn": "Last ned", "en": "Download"},
    "analysis.download.xlsx": {
        "nb": "Regneark (XLSX) med alle tabellene", "nn": "Rekneark (XLSX) med alle tabellane",
        "en": "Spreadsheet (XLSX) with all tables",
    },
    "analysis.download.csv": {"nb": "CSV: {title}", "nn": "CSV: {title}", "en": "CSV: {title}"},
    "analysis.empty": {
        "nb": "Ingen forslag i utvalget.", "nn": "Ingen forslag i utvalet.", "en": "No proposals selected.",
    },
    "analysis.denied.unauthorized.title": {"nb": "Du må logge inn", "nn": "Du må logge inn", "en": "Login required"},
    "analysis.denied.unauthorized.message": {
        "nb": "Analysen er for sekretariatet i regionen. Logg inn og prøv igjen.",
        "nn": "Analysen er for sekretariatet i regionen. Logg inn og prøv igjen.",
        "en": "The analysis is for the region's secretariat. Log in and try again.",
    },
    "analysis.denied.forbidden.title": {"nb": "Ingen tilgang", "nn": "Inga tilgang", "en": "Forbidden"},
    "analysis.denied.forbidden.message": {
        "nb": "Analysen er bare for sekretariatet i denne regionen.",
        "nn": "Analysen er berre for sekretariatet i denne regionen.",
        "en": "The analysis is only for this region's secretariat.",
    },
}
register_messages(MESSAGES)

MAX_BARS = 25
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


def export_table(table: CountTable, language: str) -> ExportTable:
    """A table with its headings in the user's language."""
    return ExportTable(
        sheet_name=translate(f"analysis.{table.name}.sheet", language),
        title=translate(f"analysis.{table.name}.title", language),
        label_heading=translate(f"analysis.{table.name}.heading", language),
        count_heading=translate("analysis.count", language),
        total_label=translate("analysis.total", language),
        code_heading=translate("analysis.code", language),
        rows=table.rows,
    )


def chart(table: CountTable, language: str) -> str:
    """The table's bar chart, described in the user's language."""
    shown = MAX_BARS - 1
    rest = len(table.rows) - shown
    if len(table.rows) > MAX_BARS:
        description = translate("analysis.chart.description.capped", language, shown=shown, rest=rest,
                                total=table.total)
    else:
        description = translate("analysis.chart.description", language, total=table.total)
    return bar_chart_svg(
        export_table(table, language), f"chart-{table.name.replace('_', '-')}", description, max_bars=MAX_BARS,
        rest_label=translate("analysis.chart.rest", language, rows=rest),
    )


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def file_stem(query: AnalysisQuery) -> str:
    """`analyse-vest-vest-2019-haust` or `analyse-vest-alle-runder[-2019-01-01-2019-12-31]`."""
    parts = ["analyse", query.region, query.round_id or "alle-runder"]
    parts += [day.isoformat() for day in (query.date_from, query.date_to) if day is not None]
    if query.basis == "current":
        parts.append("dagens-kommuner")
    return "-".join(_slug(p) for p in parts if p)


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}


def build_analysis_router(database: Database, auth_secret: str, kit: PageKit | None = None) -> APIRouter:
    """The analysis API (/api/intake/v1/analysis…) and page (/intake/{region}/analysis), secretariat only."""
    router = APIRouter()
    current_principal = principal_dependency(auth_secret)
    kit = kit or PageKit("intake", TEMPLATES, auth_secret)

    async def query_for(
        request: Request,
        *,
        region: Annotated[str, Query(pattern=REGION)],
        round_id: Annotated[str | None, Query(alias="round", max_length=80)] = None,
        date_from: Annotated[date | None, Query(alias="from")] = None,
        date_to: Annotated[date | None, Query(alias="to")] = None,
        basis: Annotated[Basis, Query()] = "submitted",
        lang: Annotated[Literal["nb", "nn", "en"] | None, Query()] = None,
        principal: Principal = Depends(current_principal),
    ) -> AnalysisQuery:
        require_role(principal, Role.SECRETARIAT, region)
        return AnalysisQuery(
            region=region, round_id=round_id or None, date_from=date_from, date_to=date_to,
            language=lang or negotiate_language(request), basis=basis,
        )

    @router.get("/api/intake/v1/analysis", response_model=AnalysisOut, tags=["analysis"])
    async def get_analysis(query: AnalysisQuery = Depends(query_for)) -> AnalysisOut:
        """Proposals counted by unit, service area and theme, for one round or across the region's rounds."""
        return analysis_out(await analyse(query, database.reader))

    @router.get("/api/intake/v1/analysis.xlsx", tags=["analysis"],
                responses={200: {"content": {XLSX_MEDIA_TYPE: {}}}})
    async def get_analysis_xlsx(query: AnalysisQuery = Depends(query_for)) -> Response:
        """The three tables as a spreadsheet: one sheet each, numbers as numbers, a bold total row."""
        analysis = await analyse(query, database.reader)
        content = xlsx_bytes([export_table(t, query.language) for t in analysis.tables()])
        return Response(content, media_type=XLSX_MEDIA_TYPE, headers=_attachment(f"{file_stem(query)}.xlsx"))

    @router.get("/api/intake/v1/analysis.csv", tags=["analysis"], responses={200: {"content": {"text/csv": {}}}})
    async def get_analysis_csv(
        table: Annotated[TableName, Query()], query: AnalysisQuery = Depends(query_for)
    ) -> Response:
        """One table as CSV for Norwegian Excel: `;`, UTF-8 with a BOM, CRLF, a header row."""
        analysis = await analyse(query, database.reader)
        content = csv_bytes(export_table(analysis.table(table), query.language))
        name = f"{file_stem(query)}-{_FILE_SLUG[table]}.csv"
        return Response(content, media_type=CSV_MEDIA_TYPE, headers=_attachment(name))

    @router.get("/api/intake/v1/analysis/{table}.svg", tags=["analysis"],
                responses={200: {"content": {SVG_MEDIA_TYPE: {}}}})
    async def get_analysis_chart(table: TableName, query: AnalysisQuery = Depends(query_for)) -> Response:
        """One table as a horizontal bar chart (SVG with a title and a description)."""
        analysis = await analyse(query, database.reader)
        return Response(chart(analysis.table(table), query.language), media_type=SVG_MEDIA_TYPE,
                        headers={"Cache-Control": "no-store"})

    @router.get("/intake/{region}/analysis", response_class=HTMLResponse, include_in_schema=False)
    async def analysis_page(request: Request, region: Annotated[str, PathParam(pattern=REGION)]) -> HTMLResponse:
        """The page: a selection form, the three tables each with its chart, and the downloads."""
        language = choose_language(request)
        denied = _denied(request, auth_secret, region)
        if denied is not None:
            status, key = denied
            return kit.error_page(
                request, language=language, status_code=status, title_key=f"analysis.denied.{key}.title",
                message_key=f"analysis.denied.{key}.message",
            )
        params = request.query_params
        errors: list[FieldError] = []
        dates: dict[str, date | None] = {}
        for name in ("from", "to"):
            dates[name] = _parse_date(params.get(name, ""), name, language, errors)
        basis: Basis = "current" if params.get("basis") == "current" else "submitted"
        round_id = params.get("round", "").strip() or None
        query = AnalysisQuery(region, round_id, dates["from"], dates["to"], language, basis)
        try:
            analysis = await analyse(query, database.reader, with_rounds=True)
        except AnalysisRoundNotFound:
            errors.append(FieldError("round", translate("analysis.filter.round", language),
                                     translate("analysis.filter.unknown-round", language)))
            query = AnalysisQuery(region, None, query.date_from, query.date_to, language, basis)
            analysis = await analyse(query, database.reader, with_rounds=True)
        return kit.render(
            request, "analysis.html", language=language, title=translate("analysis.title", language),
            analysis=analysis, query=query, errors=errors, values={k: params.get(k, "") for k in ("from", "to")},
            sections=_sections(analysis, language), downloads=_downloads(query, language),
            number=lambda n: format_decimal(n, locale=language),
        )

    return router


def _denied(request: Request, secret: str, region: str) -> tuple[int, str] | None:
    """The page's check: the same session token (the kp_session cookie) and role as the API's."""
    token = session_token(request)
    if not token:
        return 401, "unauthorized"
    try:
        require_role(verify_token(secret, token), Role.SECRETARIAT, region)
    except Unauthorized:
        return 401, "unauthorized"
    except Forbidden:
        return 403, "forbidden"
    return None


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
