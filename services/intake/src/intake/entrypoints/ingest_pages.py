"""The secretariat's ingestion pages: upload a CSV or XLSX file and read its report per row
(/intake/{region}/import), and the region's quarantine with a form to correct and replay an entry
(/intake/{region}/quarantine…). Plain HTML forms on the shared page kit, every POST CSRF-guarded; the work is
done by the ingestion use cases, exactly as the JSON API (ingest_http) does it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from intake.adapters.ingestion_repository import OPEN, IngestionRepository
from intake.adapters.repository import ProposalRepository
from intake.adapters.uow import IntakeUnitOfWork
from intake.entrypoints.ingest_http import MAX_FILE_BYTES
from intake.entrypoints.pages import REGION_NAMES
from intake.entrypoints.secretariat import refusal_page, staff_page_kit
from intake.service import ingestion
from intake.service.ingestion import IngestionContext, Outcome, Reason
from shared.auth import token_from_request, verify_token
from shared.db import Database
from shared.web.csrf import CSRF_FIELD
from shared.web.i18n import translate
from shared.web.pages import FieldError, Form, PageKit, choose_language

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
REGION = r"^[a-z][a-z0-9-]{1,30}$"
ENTRY_ID = r"^[A-Za-z0-9-]{1,64}$"
# Room for the CSRF token and the multipart framing around the file itself.
MAX_UPLOAD_BYTES = MAX_FILE_BYTES + 64 * 1024
FILE_TYPES = (".csv", ".xlsx")
OUTCOMES = ("accepted", "duplicate", "quarantined")
# The correction form's fields are the file format's columns, so a row's reasons land on them as they are.
TEXT_FIELDS = (
    "round", "municipality", "unit", "department", "service_area", "theme", "title", "population", "intervention",
    "comparison", "outcome", "background", "decision_text", "decision_date", "proposer_name", "proposer_email",
    "language",
)
LONG_FIELDS = ("population", "intervention", "comparison", "outcome", "background", "decision_text")
OPTIONAL_FIELDS = (
    "municipality", "unit", "department", "service_area", "theme", "comparison", "background", "decision_text",
    "decision_date", "language",
)
# A submission's (or a CloudEvent's data's) field path → the correction form's field.
FORM_FIELD_OF = {
    "question.population": "population", "question.intervention": "intervention",
    "question.comparison": "comparison", "question.outcome": "outcome", "question": "population",
    "proposer.name": "proposer_name", "proposer.email": "proposer_email", "proposer": "proposer_name",
    "decision.text": "decision_text", "decision.date": "decision_date", "decision": "decision_text",
    "round_id": "round", "municipality_number": "municipality", "unit_code": "unit", "decision_on": "decision_date",
}
FIELD_LABELS = {
    "title": "intake.field.title", "population": "intake.field.population",
    "intervention": "intake.field.intervention", "comparison": "intake.field.comparison",
    "outcome": "intake.field.outcome", "background": "intake.field.background",
    "department": "intake.field.department", "service_area": "intake.field.service_area",
    "theme": "intake.field.theme", "proposer_name": "intake.field.name", "proposer_email": "intake.field.email",
    "consent": "intake.field.consent",
}


def form_field(raw: str) -> str:
    """The correction form's field for a reason's field (a file column, a submission path or an event's)."""
    path = raw[len("data."):] if raw.startswith("data.") else raw
    return FORM_FIELD_OF.get(path, path)


def field_label(name: str, language: str) -> str:
    key = FIELD_LABELS.get(name, f"intake.ingest.field.{name}")
    return translate(key, language, default=name)


def reason_message(reason: Mapping[str, str], language: str) -> str:
    """The rule in the user's language when the catalog knows it without parameters; the reason's own otherwise."""
    translated = translate(f"rule.{reason['rule']}", language, default="")
    if translated and "{" not in translated:
        return translated
    return translate(f"problem.{reason['rule']}", language, default=reason["message"])


def reason_rows(reasons: Sequence[Mapping[str, str]], language: str) -> list[dict[str, str]]:
    return [{"field": field_label(form_field(r["field"]), language), "message": reason_message(r, language)}
            for r in reasons]


def reason_errors(reasons: Sequence[Mapping[str, str]], language: str) -> list[FieldError]:
    """The reasons as the error summary lists them: one per form field, first rule first."""
    found: dict[str, FieldError] = {}
    for reason in reasons:
        name = form_field(reason["field"])
        if name not in (*TEXT_FIELDS, "consent"):
            name = "title"  # a rule on the whole submission: the summary still links into the form
        found.setdefault(name, FieldError(name, field_label(form_field(reason["field"]), language),
                                          reason_message(reason, language)))
    return list(found.values())


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def form_values(submission: Any) -> dict[str, str]:
    """The correction form's values from the entry's editable submission (whatever shape it came in)."""
    s: dict[str, Any] = submission if isinstance(submission, dict) else {}

    def part(name: str) -> dict[str, Any]:
        found = s.get(name)
        return found if isinstance(found, dict) else {}

    question, proposer, decision = part("question"), part("proposer"), part("decision")
    values = {name: _text(s.get(name)) for name in (
        "round", "municipality", "unit", "department", "service_area", "theme", "title", "background", "language",
    )}
    values |= {name: _text(question.get(name)) for name in ("population", "intervention", "comparison", "outcome")}
    values |= {"proposer_name": _text(proposer.get("name")), "proposer_email": _text(proposer.get("email")),
               "decision_text": _text(decision.get("text")), "decision_date": _text(decision.get("date"))}
    consent = s.get("consent")
    values["consent"] = "yes" if consent is True or str(consent).lower() in ("true", "ja", "yes", "x") else ""
    return values


def corrected_submission(base: Any, form: Form, region: str) -> dict[str, Any]:
    """The stored submission with the form's fields over it; empty fields are left out, so a required one reads
    as missing and the contract names it. Other fields (external id, self-assessment, submitted at) stay."""
    submission: dict[str, Any] = dict(base) if isinstance(base, dict) else {}
    for name in ("question", "proposer", "decision"):
        submission.pop(name, None)

    def put(target: dict[str, Any], key: str, name: str) -> None:
        value = form.get(name)
        if value:
            target[key] = value
        else:
            target.pop(key, None)

    for name in ("round", "municipality", "unit", "department", "service_area", "theme", "title", "background",
                 "language"):
        put(submission, name, name)
    submission.setdefault("region", region)
    question: dict[str, Any] = {}
    for name in ("population", "intervention", "comparison", "outcome"):
        put(question, name, name)
    proposer: dict[str, Any] = {}
    put(proposer, "name", "proposer_name")
    put(proposer, "email", "proposer_email")
    decision: dict[str, Any] = {}
    put(decision, "text", "decision_text")
    put(decision, "date", "decision_date")
    submission |= {"question": question, "proposer": proposer, "consent": form.get("consent") == "yes"}
    if decision:
        submission["decision"] = decision
    return submission


def build_ingest_pages_router(
    database: Database, new_uow: Callable[[], IntakeUnitOfWork], secret: str, kit: PageKit | None = None,
) -> APIRouter:
    if kit is None:
        kit = staff_page_kit(secret)
    pages = kit
    router = APIRouter(include_in_schema=False)
    ctx = IngestionContext(database, new_uow)

    def page_context(region: str) -> dict[str, Any]:
        return {
            "region_name": REGION_NAMES.get(region, region.upper()), "home_url": f"/intake/{region}/screening",
            "import_url": f"/intake/{region}/import", "quarantine_url": f"/intake/{region}/quarantine",
            "screening_url": f"/intake/{region}/screening",
        }

    def denied(request: Request, region: str, language: str) -> HTMLResponse | None:
        """The same session token and role as the API's (the region's secretariat); a translated refusal otherwise."""
        return refusal_page(
            pages, request, secret, region, language=language, messages="intake.ingest", **page_context(region)
        )

    def actor(request: Request) -> str:
        token = token_from_request(request)
        assert token is not None
        return f"secretariat:{verify_token(secret, token).subject}"

    def refused(request: Request, region: str, language: str, status: int, name: str) -> HTMLResponse:
        return pages.error_page(
            request, language=language, status_code=status, title_key=f"page.error.{name}.title",
            message_key=f"page.error.{name}.message", **page_context(region),
        )

    def not_found(request: Request, region: str, language: str) -> HTMLResponse:
        return refused(request, region, language, 404, "not-found")

    # --- Import ----------------------------------------------------------------------------------------------------

    def render_import(
        request: Request, region: str, language: str, *, errors: Sequence[FieldError] = (),
        report: dict[str, Any] | None = None, status_code: int = 200,
    ) -> HTMLResponse:
        return pages.render(
            request, "intake/ingest_import.html", language=language, status_code=status_code,
            title=translate("intake.ingest.import.title", language), errors=list(errors),
            file_error=errors[0].message if errors else None, report=report, **page_context(region),
        )

    def report_of(filename: str, outcomes: Sequence[Outcome], region: str, language: str) -> dict[str, Any]:
        rows = [
            {
                "row": o.row, "external_id": o.external_id or "", "outcome": o.status,
                "outcome_label": translate(f"intake.ingest.outcome.{o.status}", language),
                "reference": o.reference, "status_url": f"/intake/p/{o.reference}" if o.reference else None,
                "entry_url": f"/intake/{region}/quarantine/{o.quarantine_id}" if o.quarantine_id else None,
                "reasons": reason_rows([r.as_dict() for r in o.reasons], language),
            }
            for o in outcomes
        ]
        counts = [{"code": s, "label": translate(f"intake.ingest.outcome.{s}", language),
                   "count": sum(o.status == s for o in outcomes)} for s in OUTCOMES]
        return {"file": filename, "rows": rows, "counts": counts}

    @router.get("/intake/{region}/import", response_class=HTMLResponse)
    async def import_page(request: Request, region: Annotated[str, PathParam(pattern=REGION)]) -> HTMLResponse:
        """The upload form for a CSV or XLSX file of submissions."""
        language = choose_language(request)
        return denied(request, region, language) or render_import(request, region, language)

    @router.post("/intake/{region}/import", response_class=HTMLResponse)
    async def post_import(request: Request, region: Annotated[str, PathParam(pattern=REGION)]) -> HTMLResponse:
        """Take every row of the uploaded file; the report per row, or the error summary naming the file field."""
        language = choose_language(request)
        refusal = denied(request, region, language)
        if refusal is not None:
            return refusal
        # The kit's guarded_form reads urlencoded bodies only: the same guards, for a multipart upload.
        client = request.client.host if request.client else "unknown"
        if pages.limiter.hit(f"{pages.service}:{client}") is not None:
            return refused(request, region, language, 429, "rate-limited")
        declared = request.headers.get("content-length", "")
        if not declared.isdigit() or int(declared) > MAX_UPLOAD_BYTES:
            return refused(request, region, language, 413, "too-large")
        try:
            async with request.form(max_files=1, max_fields=10) as form:
                token = form.get(CSRF_FIELD)
                if not pages.csrf.verify(request, token if isinstance(token, str) else None):
                    return refused(request, region, language, 403, "csrf")
                upload = form.get("file")
                filename, content = "", b""
                if isinstance(upload, UploadFile):
                    filename, content = upload.filename or "", await upload.read(MAX_FILE_BYTES + 1)
        except (MultiPartException, HTTPException):  # a malformed body (or too many parts) holds no file to read
            filename, content = "", b""
        problem = None
        if not filename or not content:
            problem = translate("intake.ingest.import.missing", language)
        elif len(content) > MAX_FILE_BYTES:
            problem = translate("intake.ingest.import.too-large", language, megabytes=MAX_FILE_BYTES // 1_000_000)
        elif not filename.lower().endswith(FILE_TYPES):
            problem = translate("intake.ingest.import.type", language)
        if problem is None:
            try:
                outcomes = await ingestion.import_file(region, filename, content, actor(request), ctx)
            except ingestion.IngestFileUnreadable as error:
                problem = translate("intake.ingest.import.unreadable", language, detail=error.detail)
        if problem is not None:
            label = translate("intake.ingest.field.file", language)
            return render_import(request, region, language, errors=[FieldError("file", label, problem)],
                                 status_code=422)
        return render_import(request, region, language, report=report_of(filename, outcomes, region, language))

    # --- Quarantine ------------------------------------------------------------------------------------------------

    @router.get("/intake/{region}/quarantine", response_class=HTMLResponse)
    async def quarantine_page(request: Request, region: Annotated[str, PathParam(pattern=REGION)]) -> HTMLResponse:
        """The region's quarantined submissions, newest first: open ones unless asked for resolved ones or all."""
        language = choose_language(request)
        refusal = denied(request, region, language)
        if refusal is not None:
            return refusal
        status = request.query_params.get("status", OPEN)
        status = status if status in ("open", "resolved", "all") else OPEN
        async with database.reader() as session:
            entries = await IngestionRepository(session).for_region(region, None if status == "all" else status)
        items = [
            {"entry": e, "url": f"/intake/{region}/quarantine/{e.id}", "reasons": reason_rows(e.reasons, language),
             "status_label": translate(f"intake.ingest.status.{e.status}", language)}
            for e in entries
        ]
        statuses = [
            {"value": s, "label": translate(f"intake.ingest.quarantine.show.{s}", language)}
            for s in ("open", "resolved", "all")
        ]
        return pages.render(
            request, "intake/ingest_quarantine.html", language=language,
            title=translate("intake.ingest.quarantine.title", language), items=items, status=status,
            statuses=statuses, **page_context(region),
        )

    async def render_entry(
        request: Request, region: str, entry_id: str, language: str, *, errors: Sequence[FieldError] = (),
        values: dict[str, str] | None = None, status_code: int = 200, done: str | None = None,
    ) -> HTMLResponse:
        try:
            entry = await ingestion.get_entry(region, entry_id, ctx)
        except ingestion.QuarantineEntryNotFound:
            return not_found(request, region, language)
        async with database.reader() as session:
            history = await IngestionRepository(session).history(entry.id)
            proposal = await ProposalRepository(session).get(entry.proposal_id) if entry.proposal_id else None
        by_field: defaultdict[str, str | None] = defaultdict(lambda: None)
        if errors:
            by_field.update({e.name: e.message for e in errors})
        elif entry.status == OPEN:
            by_field.update({e.name: e.message for e in reason_errors(entry.reasons, language)})
        history_rows = [
            {"item": h, "action": translate(f"intake.ingest.action.{h.action}", language, default=h.action),
             "outcome": translate(f"intake.ingest.outcome.{h.outcome}", language, default=h.outcome),
             "reasons": reason_rows(h.reasons, language)}
            for h in history
        ]
        return pages.render(
            request, "intake/ingest_entry.html", language=language, status_code=status_code,
            title=translate("intake.ingest.entry.title", language, id=entry.external_id or entry.id),
            entry=entry, reasons=reason_rows(entry.reasons, language), history=history_rows,
            status_label=translate(f"intake.ingest.status.{entry.status}", language), errors=list(errors),
            field_errors=by_field, values=defaultdict(str, values or form_values(ingestion.editable_submission(entry))),
            proposal=proposal, status_url=f"/intake/p/{proposal.reference}" if proposal else None, done=done,
            action=f"/intake/{region}/quarantine/{entry.id}", text_fields=TEXT_FIELDS, long_fields=LONG_FIELDS,
            optional_fields=OPTIONAL_FIELDS, field_label=lambda name: field_label(name, language),
            **page_context(region),
        )

    entry_path = "/intake/{region}/quarantine/{entry_id}"

    @router.get(entry_path, response_class=HTMLResponse)
    async def entry_page(
        request: Request, region: Annotated[str, PathParam(pattern=REGION)],
        entry_id: Annotated[str, PathParam(pattern=ENTRY_ID)],
    ) -> HTMLResponse:
        """One entry: why it was quarantined, its history, and the form to correct and replay it."""
        language = choose_language(request)
        refusal = denied(request, region, language)
        if refusal is not None:
            return refusal
        done = request.query_params.get("done")
        return await render_entry(request, region, entry_id, language,
                                  done=done if done in ("saved", "replayed") else None)

    @router.post(entry_path, response_class=HTMLResponse)
    async def post_entry(
        request: Request, region: Annotated[str, PathParam(pattern=REGION)],
        entry_id: Annotated[str, PathParam(pattern=ENTRY_ID)],
    ) -> Response:
        """Save the correction (action=save) or save it and replay the entry (action=replay)."""
        language = choose_language(request)
        refusal = denied(request, region, language)
        if refusal is not None:
            return refusal
        form = await pages.guarded_form(request, language, **page_context(region))
        if not isinstance(form, Form):
            return form
        action = form.get("action")
        if action not in ("save", "replay"):
            return not_found(request, region, language)
        here = f"/intake/{region}/quarantine/{entry_id}"
        values = {name: form.get(name) for name in (*TEXT_FIELDS, "consent")}
        try:
            entry = await ingestion.get_entry(region, entry_id, ctx)
            if entry.status != OPEN:
                return RedirectResponse(here, status_code=303)
            base = ingestion.editable_submission(entry)
            corrected = corrected_submission(base, form, region)
            reasons: tuple[Reason, ...] = ()
            if action == "save" or corrected != base:
                _, reasons = await ingestion.correct_entry(region, entry_id, corrected, actor=actor(request), ctx=ctx)
            if action == "replay":
                outcome = await ingestion.replay_entry(region, entry_id, actor(request), ctx)
                reasons = outcome.reasons if outcome.status == "quarantined" else ()
                if outcome.status != "quarantined":
                    return RedirectResponse(f"{here}?done=replayed", status_code=303)
        except ingestion.QuarantineEntryNotFound:
            return not_found(request, region, language)
        except ingestion.QuarantineEntryResolved:
            return RedirectResponse(here, status_code=303)
        if reasons:
            errors = reason_errors([r.as_dict() for r in reasons], language)
            return await render_entry(request, region, entry_id, language, errors=errors, values=values,
                                      status_code=422)
        return RedirectResponse(f"{here}?done=saved", status_code=303)

    return router
