"""The secretariat's ingestion pages: upload a CSV or XLSX file and read its report per row
(/intake/{region}/import), and the region's quarantine with a form to correct and replay an entry
(/intake/{region}/quarantine…). Plain HTML forms on the staff page kit, every POST CSRF-guarded; the work is done by
the ingestion use cases, exactly as the JSON API does it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from intake.deps import PageLanguageDep, ReaderDep, Region, StaffPagesDep, UnitOfWorkDep, staff_header
from intake.ingestion import service
from intake.ingestion.api import MAX_FILE_BYTES
from intake.ingestion.model import OPEN, IngestFileUnreadable, Outcome, QuarantineEntryNotFound, QuarantineEntryResolved
from intake.ingestion.model import Reason as IngestReason
from intake.ingestion.validation import editable_submission
from shared.i18n import translate
from shared.web.access import Secretariat
from shared.web.csrf import CSRF_FIELD
from shared.web.pages import FieldError, Form, PageKit
from shared.web.staff import Pager

router = APIRouter(include_in_schema=False)

ENTRY_ID = r"^[A-Za-z0-9-]{1,64}$"
EntryId = Annotated[str, PathParam(pattern=ENTRY_ID)]
# Room for the CSRF token and the multipart framing around the file itself.
MAX_UPLOAD_BYTES = MAX_FILE_BYTES + 64 * 1024
FILE_TYPES = (".csv", ".xlsx")
OUTCOMES = ("accepted", "duplicate", "quarantined")
QUARANTINE_STATUSES = ("open", "resolved", "all")
PAGE_SIZE = 50
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


def _context(region: str) -> dict[str, Any]:
    return staff_header(region) | {
        "import_url": f"/intake/{region}/import", "quarantine_url": f"/intake/{region}/quarantine",
    }


REFUSAL_STATUS = {"not-found": 404, "rate-limited": 429, "too-large": 413, "csrf": 403}


def _refused(kit: PageKit, request: Request, region: str, language: str, name: str) -> HTMLResponse:
    return kit.error_page(
        request, language=language, status_code=REFUSAL_STATUS[name], title_key=f"page.error.{name}.title",
        message_key=f"page.error.{name}.message", **_context(region),
    )


# --- Import --------------------------------------------------------------------------------------------------------


def _render_import(
    kit: PageKit, request: Request, region: str, language: str, *, errors: Sequence[FieldError] = (),
    report: dict[str, Any] | None = None, status_code: int = 200,
) -> HTMLResponse:
    return kit.render(
        request, "intake/ingest_import.html", language=language, status_code=status_code,
        title=translate("intake.ingest.import.title", language), errors=list(errors),
        file_error=errors[0].message if errors else None, report=report, **_context(region),
    )


def _report(filename: str, outcomes: Sequence[Outcome], region: str, language: str) -> dict[str, Any]:
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
async def import_page(
    request: Request, region: Region, principal: Secretariat, kit: StaffPagesDep, language: PageLanguageDep,
) -> HTMLResponse:
    """The upload form for a CSV or XLSX file of submissions."""
    return _render_import(kit, request, region, language)


async def _upload(kit: PageKit, request: Request) -> tuple[str, bytes] | str:
    """The uploaded file's name and bytes, or the name of the refusal (rate-limited, too-large, csrf).

    The kit's guarded_form reads urlencoded bodies only: these are the same guards, for a multipart upload."""
    client = request.client.host if request.client else "unknown"
    if kit.limiter.hit(f"{kit.service}:{client}") is not None:
        return "rate-limited"
    declared = request.headers.get("content-length", "")
    if not declared.isdigit() or int(declared) > MAX_UPLOAD_BYTES:
        return "too-large"
    try:
        async with request.form(max_files=1, max_fields=10) as form:
            token = form.get(CSRF_FIELD)
            if not kit.csrf.verify(request, token if isinstance(token, str) else None):
                return "csrf"
            upload = form.get("file")
            if isinstance(upload, UploadFile):
                return upload.filename or "", await upload.read(MAX_FILE_BYTES + 1)
    except (MultiPartException, HTTPException):  # a malformed body (or too many parts) holds no file to read
        pass
    return "", b""


@router.post("/intake/{region}/import", response_class=HTMLResponse)
async def post_import(
    *, request: Request, region: Region, principal: Secretariat, kit: StaffPagesDep, uow: UnitOfWorkDep,
    reader: ReaderDep, language: PageLanguageDep,
) -> HTMLResponse:
    """Take every row of the uploaded file; the report per row, or the error summary naming the file field."""
    upload = await _upload(kit, request)
    if isinstance(upload, str):
        return _refused(kit, request, region, language, upload)
    filename, content = upload
    problem = None
    if not filename or not content:
        problem = translate("intake.ingest.import.missing", language)
    elif len(content) > MAX_FILE_BYTES:
        problem = translate("intake.ingest.import.too-large", language, megabytes=MAX_FILE_BYTES // 1_000_000)
    elif not filename.lower().endswith(FILE_TYPES):
        problem = translate("intake.ingest.import.type", language)
    else:
        command = service.ImportFile(region, filename, content, f"secretariat:{principal.subject}")
        try:
            outcomes = await service.import_file(command, uow, reader)
        except IngestFileUnreadable as error:
            problem = translate("intake.ingest.import.unreadable", language, detail=error.detail)
    if problem is not None:
        errors = [FieldError("file", translate("intake.ingest.field.file", language), problem)]
        return _render_import(kit, request, region, language, errors=errors, status_code=422)
    return _render_import(kit, request, region, language, report=_report(filename, outcomes, region, language))


# --- Quarantine ----------------------------------------------------------------------------------------------------


@router.get("/intake/{region}/quarantine", response_class=HTMLResponse)
async def quarantine_page(
    *, request: Request, region: Region, principal: Secretariat, kit: StaffPagesDep, reader: ReaderDep,
    language: PageLanguageDep,
) -> HTMLResponse:
    """The region's quarantined submissions, newest first in pages of 50: open ones unless asked for resolved
    ones or all."""
    status = request.query_params.get("status", OPEN)
    status = status if status in QUARANTINE_STATUSES else OPEN
    raw_page = request.query_params.get("page", "1")
    found = await service.quarantine(region, None if status == "all" else status, reader,
                                     page=int(raw_page) if raw_page.isdigit() else 1, size=PAGE_SIZE)
    items = [
        {"entry": e, "url": f"/intake/{region}/quarantine/{e.id}", "reasons": reason_rows(e.reasons, language),
         "status_label": translate(f"intake.ingest.status.{e.status}", language)}
        for e in found.entries
    ]
    statuses = [{"value": s, "label": translate(f"intake.ingest.quarantine.show.{s}", language)}
                for s in QUARANTINE_STATUSES]
    return kit.render(
        request, "intake/ingest_quarantine.html", language=language,
        title=translate("intake.ingest.quarantine.title", language), items=items, status=status,
        statuses=statuses, pager=Pager(found.total, found.page, found.size), query={"status": status},
        **_context(region),
    )


async def _render_entry(
    kit: PageKit, request: Request, region: str, entry_id: str, reader: service.IngestionReader, *, language: str,
    errors: Sequence[FieldError] = (), values: dict[str, str] | None = None, status_code: int = 200,
    done: str | None = None,
) -> HTMLResponse:
    try:
        found = await service.entry_detail(region, entry_id, reader)
    except QuarantineEntryNotFound:
        return _refused(kit, request, region, language, "not-found")
    entry = found.entry
    by_field: defaultdict[str, str | None] = defaultdict(lambda: None)
    if errors:
        by_field.update({e.name: e.message for e in errors})
    elif entry.status == OPEN:
        by_field.update({e.name: e.message for e in reason_errors(entry.reasons, language)})
    history_rows = [
        {"item": h, "action": translate(f"intake.ingest.action.{h.action}", language, default=h.action),
         "outcome": translate(f"intake.ingest.outcome.{h.outcome}", language, default=h.outcome),
         "reasons": reason_rows(h.reasons, language)}
        for h in found.history
    ]
    reference = found.proposal_reference
    return kit.render(
        request, "intake/ingest_entry.html", language=language, status_code=status_code,
        title=translate("intake.ingest.entry.title", language, id=entry.external_id or entry.id),
        entry=entry, reasons=reason_rows(entry.reasons, language), history=history_rows,
        status_label=translate(f"intake.ingest.status.{entry.status}", language), errors=list(errors),
        field_errors=by_field, values=defaultdict(str, values or form_values(editable_submission(entry))),
        proposal_reference=reference, status_url=f"/intake/p/{reference}" if reference else None, done=done,
        action=f"/intake/{region}/quarantine/{entry.id}", text_fields=TEXT_FIELDS, long_fields=LONG_FIELDS,
        optional_fields=OPTIONAL_FIELDS, field_label=lambda name: field_label(name, language), **_context(region),
    )


@router.get("/intake/{region}/quarantine/{entry_id}", response_class=HTMLResponse)
async def entry_page(
    *, request: Request, region: Region, entry_id: EntryId, principal: Secretariat, kit: StaffPagesDep,
    reader: ReaderDep, language: PageLanguageDep,
) -> HTMLResponse:
    """One entry: why it was quarantined, its history, and the form to correct and replay it."""
    done = request.query_params.get("done")
    return await _render_entry(kit, request, region, entry_id, reader, language=language,
                               done=done if done in ("saved", "replayed") else None)


async def _save_and_replay(
    replay: service.ReplayEntry, form: Form, uow: service.IngestionUnitOfWork, reader: service.IngestionReader,
) -> tuple[IngestReason, ...] | str:
    """Save the form over the entry's submission if it changed anything (or was asked to), then replay if asked:
    the reasons it still has, or where to go next ("saved", "replayed", or "" for the entry as it is)."""
    entry = await service.get_entry(replay.region, replay.entry_id, reader)
    if entry.status != OPEN:
        return ""
    base = editable_submission(entry)
    corrected = corrected_submission(base, form, replay.region)
    reasons: tuple[IngestReason, ...] = ()
    if form.get("action") == "save" or corrected != base:
        correction = service.CorrectEntry(replay.region, replay.entry_id, corrected, replay.actor)
        _, reasons = await service.correct_entry(correction, uow, reader)
    if form.get("action") == "replay":
        outcome = await service.replay_entry(replay, uow, reader)
        if outcome.status != "quarantined":
            return "replayed"
        reasons = outcome.reasons
    return reasons or "saved"


@router.post("/intake/{region}/quarantine/{entry_id}", response_class=HTMLResponse)
async def post_entry(
    *, request: Request, region: Region, entry_id: EntryId, principal: Secretariat, kit: StaffPagesDep,
    uow: UnitOfWorkDep, reader: ReaderDep, language: PageLanguageDep,
) -> Response:
    """Save the correction (action=save) or save it and replay the entry (action=replay)."""
    form = await kit.guarded_form(request, language, **_context(region))
    if not isinstance(form, Form):
        return form
    if form.get("action") not in ("save", "replay"):
        return _refused(kit, request, region, language, "not-found")
    here = f"/intake/{region}/quarantine/{entry_id}"
    try:
        replay = service.ReplayEntry(region, entry_id, f"secretariat:{principal.subject}")
        result = await _save_and_replay(replay, form, uow, reader)
    except QuarantineEntryNotFound:
        return _refused(kit, request, region, language, "not-found")
    except QuarantineEntryResolved:
        return RedirectResponse(here, status_code=303)
    if isinstance(result, str):
        return RedirectResponse(f"{here}?done={result}" if result else here, status_code=303)
    errors = reason_errors([r.as_dict() for r in result], language)
    values = {name: form.get(name) for name in (*TEXT_FIELDS, "consent")}
    return await _render_entry(kit, request, region, entry_id, reader, language=language, errors=errors, values=values,
                               status_code=422)
