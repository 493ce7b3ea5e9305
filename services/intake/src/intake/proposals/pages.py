"""The proposer's pages: the region's rounds, the proposal form with its similar-proposals step, receipt and status.

Plain HTML forms and POSTs (no JavaScript), rendered into the shared layout by the page kit. Every POST is
guarded by the kit (rate limit, size limit, CSRF) and by the honeypot; the use cases decide everything else.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError

from intake.deps import PagesDep, ReaderDep, Region, UnitOfWorkDep, page_header
from intake.proposals import service
from intake.proposals.api import state_label
from intake.proposals.model import EffectQuestion, ProposalNotFound, Proposer
from intake.reference import model as reference
from intake.rounds import service as rounds
from intake.rounds.model import Round, RoundClosed, RoundNotFound, RoundStatus
from shared.errors import DomainError, FieldProblem, InvalidInput
from shared.i18n import translate
from shared.web.access import public
from shared.web.pages import FieldError, Form, PageKit, choose_language, honeypot_filled
from shared.web.problems import field_errors

router = APIRouter(include_in_schema=False, dependencies=[public])

REFERENCE = r"^[A-Z0-9-]{6,40}$"
Reference = Annotated[str, PathParam(pattern=REFERENCE)]
# The form's fields in their order on the page: the error summary lists errors in this order.
FIELD_ORDER = (
    "title", "population", "intervention", "comparison", "outcome", "background", "organisation", "department",
    "service_area", "theme", "decision", "decision_on", "name", "email", "consent",
)
# Where the use case's field names differ from the form's (it speaks the JSON API's names).
USE_CASE_FIELDS = {
    "municipality": "organisation", "unit": "organisation", "decision.text": "decision", "decision.date": "decision_on",
    "proposer.name": "name", "proposer.email": "email", "question.population": "population",
    "question.intervention": "intervention", "question.comparison": "comparison", "question.outcome": "outcome",
}
# Messages that say more than the generic rule for a field (a pattern mismatch on `email` is a bad address).
FIELD_RULE_MESSAGES = {
    ("email", "value_error"): "intake.rule.email",
    ("consent", "missing"): "intake.rule.consent",
    ("consent", "string_pattern_mismatch"): "intake.rule.consent",
    ("decision_on", "date_from_datetime_parsing"): "intake.rule.date",
    ("decision_on", "date_parsing"): "intake.rule.date",
    ("organisation", "string_pattern_mismatch"): "intake.rule.organisation",
    ("organisation", "unknown-municipality"): "intake.rule.organisation",
    ("organisation", "unknown-unit"): "intake.rule.organisation",
    ("organisation", "municipality-or-unit"): "intake.rule.organisation",
    ("consent", "consent-required"): "intake.rule.consent",
}
QUESTION_FIELDS = ("title", "population", "intervention", "comparison", "outcome")


class ProposalForm(BaseModel):
    """The form's own rules (lengths, required fields, formats); the use case checks the domain's rules."""

    model_config = ConfigDict(str_strip_whitespace=True)

    title: str = Field(min_length=5, max_length=200)
    population: str = Field(min_length=3, max_length=2000)
    intervention: str = Field(min_length=3, max_length=2000)
    comparison: str = Field(default="", max_length=2000)
    outcome: str = Field(min_length=3, max_length=2000)
    background: str = Field(default="", max_length=10000)
    organisation: str = Field(pattern=r"^(m:[0-9]{4}|u:[a-z0-9-]{2,40})$")
    department: str = Field(default="", max_length=200)
    service_area: str = Field(min_length=1, max_length=60)
    theme: str = Field(default="", max_length=60)
    decision: str = Field(default="", max_length=2000)
    decision_on: date | None = None
    name: str = Field(min_length=2, max_length=200)
    email: EmailStr
    consent: str = Field(pattern=r"^yes$")


def _criteria(round_: Round, language: str) -> list[dict[str, str]]:
    found = reference.criteria_set(round_.criteria_set)
    if found is None:
        return []
    return [{"code": c.code, "label": reference.label(c.labels, language)} for c in found.criteria]


def _labels(language: str, criteria: list[dict[str, str]]) -> dict[str, str]:
    """Each field's label, in the order of the page (the assessment comes before the contact details)."""
    labels: dict[str, str] = {}
    for name in FIELD_ORDER:
        if name == "name":
            labels.update({f"assessment.{c['code']}": c["label"] for c in criteria})
        labels[name] = translate(f"intake.field.{name}", language)
    return labels


def _organisations(language: str, today: date) -> list[dict[str, Any]]:
    """Municipalities and units valid today, as option groups of one select."""
    return [
        {
            "label": translate("intake.field.organisation.municipalities", language),
            "options": [{"value": f"m:{m.number}", "label": m.name} for m in reference.municipalities_valid_on(today)],
        },
        {
            "label": translate("intake.field.organisation.units", language),
            "options": [{"value": f"u:{u.code}", "label": u.name} for u in reference.units_valid_on(today)],
        },
    ]


def choices(items: dict[str, reference.Labelled], language: str) -> list[dict[str, str]]:
    return [{"value": code, "label": item.label(language)} for code, item in items.items()]


def _rule_message(name: str, rule: str, language: str, default: str, **params: Any) -> str:
    key = FIELD_RULE_MESSAGES.get((name, rule))
    if key:
        return translate(key, language)
    return translate(f"rule.{rule}", language, default=default, **params)


def _ordered(errors: dict[str, FieldError], labels: dict[str, str]) -> list[FieldError]:
    order = {name: position for position, name in enumerate(labels)}
    return sorted(errors.values(), key=lambda e: order.get(e.name, len(order)))


def _round_item(round_: Round, now: datetime) -> dict[str, Any]:
    return {
        "round": round_, "status": round_.status_at(now).value,
        "form_url": f"/intake/{round_.region}/rounds/{round_.id}/proposal",
        "committee_on": round_.committee_meeting_on, "decision_on": round_.decision_on,
        "final_report_on": round_.final_report_on,
    }


def _not_found(kit: PageKit, request: Request, language: str, **context: Any) -> HTMLResponse:
    return kit.error_page(
        request, language=language, status_code=404, title_key="page.error.not-found.title",
        message_key="page.error.not-found.message", **context,
    )


# Where developers and other regions' systems start: each service's OpenAPI document and the event contracts.
DEVELOPER_LINKS = (
    ("intake", "/api/intake/docs"), ("scoring", "/api/scoring/docs"), ("ordering", "/api/ordering/docs"),
    ("registry", "/api/registry/docs"), ("notify", "/api/notify/docs"),
)


@router.get("/", response_class=HTMLResponse)
async def start_page(request: Request, kit: PagesDep, reader: ReaderDep) -> HTMLResponse:
    """The front door: every region's open rounds and how to propose, sign-in for staff, the APIs for developers."""
    now = datetime.now(UTC)
    found = await rounds.open_rounds(reader, now)
    language = choose_language(request, found[0].default_language if found else None)
    by_region: dict[str, list[dict[str, Any]]] = {}
    for round_ in found:
        by_region.setdefault(round_.region, []).append(_round_item(round_, now))
    regions = [{"code": code, **page_header(code), "rounds": items} for code, items in by_region.items()]
    return kit.render(
        request, "intake/start.html", language=language, title=translate("intake.start.title", language),
        regions=regions, developer_links=DEVELOPER_LINKS, sign_in_url="/registry/sign-in",
    )


@router.get("/intake/{region}", response_class=HTMLResponse)
async def landing(request: Request, region: Region, kit: PagesDep, reader: ReaderDep) -> HTMLResponse:
    """The region's rounds: open ones first, with their windows and meeting dates in Europe/Oslo."""
    now = datetime.now(UTC)
    found = await rounds.list_rounds(region, reader)
    # The region's default language is that of its newest round (rounds are configured per region).
    language = choose_language(request, found[-1].default_language if found else None)
    items = [_round_item(r, now) for r in found]
    return kit.render(
        request, "intake/landing.html", language=language, title=translate("intake.landing.title", language),
        open_rounds=[i for i in items if i["status"] == RoundStatus.OPEN.value],
        other_rounds=[i for i in reversed(items) if i["status"] != RoundStatus.OPEN.value],
        **page_header(region),
    )


def _render_form(
    kit: PageKit, request: Request, round_: Round, language: str, values: dict[str, str], *,
    errors: list[FieldError] | None = None, status_code: int = 200, notice: str | None = None,
) -> HTMLResponse:
    by_field: defaultdict[str, str | None] = defaultdict(lambda: None)
    errors = errors or []
    by_field.update({e.name: e.message for e in errors})
    filled: defaultdict[str, str] = defaultdict(str, values)
    if not filled["submission_id"]:
        filled["submission_id"] = str(uuid.uuid4())
    return kit.render(
        request, "intake/form.html", language=language, status_code=status_code,
        title=translate("intake.form.title", language), item=_round_item(round_, datetime.now(UTC)),
        action=f"/intake/{round_.region}/rounds/{round_.id}/proposal", values=filled, field_errors=by_field,
        errors=errors, notice=notice, organisations=_organisations(language, datetime.now(UTC).date()),
        service_areas=choices(reference.service_areas(), language),
        themes=choices(reference.themes(), language), criteria=_criteria(round_, language),
        scale=[{"value": str(n), "label": str(n)} for n in range(1, 6)], **page_header(round_.region),
    )


def _render_closed(
    kit: PageKit, request: Request, round_: Round, language: str, status_code: int = 200
) -> HTMLResponse:
    return kit.render(
        request, "intake/closed.html", language=language, status_code=status_code,
        title=translate("intake.round.closed.title", language), item=_round_item(round_, datetime.now(UTC)),
        region_url=f"/intake/{round_.region}", **page_header(round_.region),
    )


@router.get("/intake/{region}/rounds/{round_id}/proposal", response_class=HTMLResponse)
async def proposal_form(
    request: Request, region: Region, round_id: str, kit: PagesDep, reader: ReaderDep,
) -> HTMLResponse:
    """The proposal form; a round outside its window shows its dates instead."""
    round_ = await rounds.round_in_region(round_id, region, reader)
    if round_ is None:
        return _not_found(kit, request, choose_language(request), **page_header(region))
    language = choose_language(request, round_.default_language)
    if round_.status_at(datetime.now(UTC)) is not RoundStatus.OPEN:
        return _render_closed(kit, request, round_, language)
    return _render_form(kit, request, round_, language, {})


def _validate(
    values: dict[str, str], criteria: list[dict[str, str]], labels: dict[str, str], language: str,
) -> dict[str, FieldError]:
    """The form's own rules: an empty field is a missing one, so the rule reads "required", not "too short"."""
    data = {name: values[name] for name in FIELD_ORDER if values.get(name)}
    errors: dict[str, FieldError] = {}
    try:
        ProposalForm.model_validate(data)
    except ValidationError as error:
        raw: dict[str, Any] = {str(e["loc"][0]): e for e in error.errors()}
        for entry in field_errors(list(error.errors()), language):
            name = entry["field"]
            context = (raw[name].get("ctx") or {}) if name in raw else {}
            message = _rule_message(name, entry["rule"], language, entry["message"], **context)
            errors.setdefault(name, FieldError(name, labels.get(name, name), message))
    for criterion in criteria:
        name = f"assessment.{criterion['code']}"
        if values.get(name) and values[name] not in {"1", "2", "3", "4", "5"}:
            errors[name] = FieldError(name, labels[name], translate("intake.rule.choice", language))
    for name, known in (("service_area", reference.service_areas()), ("theme", reference.themes())):
        if values.get(name) and name not in errors and values[name] not in known:
            errors[name] = FieldError(name, labels[name], translate("intake.rule.choice", language))
    return errors


def _domain_errors(error: DomainError, labels: dict[str, str], language: str) -> dict[str, FieldError]:
    """The use case's broken rules on the form's fields; a rule without a field goes on the first one."""
    problems = error.problems if isinstance(error, InvalidInput) else (
        FieldProblem(error.field or "title", error.code, error.detail),
    )
    found: dict[str, FieldError] = {}
    for problem in problems:
        name = USE_CASE_FIELDS.get(problem.field, problem.field.replace("self_assessment.", "assessment."))
        message = _rule_message(name, problem.rule, language, problem.message)
        found.setdefault(name, FieldError(name, labels.get(name, name), message))
    return found


def _command(
    round_: Round, values: dict[str, str], criteria: list[dict[str, str]], language: str,
) -> service.SubmitProposal:
    kind, _, code = values["organisation"].partition(":")
    assessment = {
        c["code"]: int(values[f"assessment.{c['code']}"]) for c in criteria if values.get(f"assessment.{c['code']}")
    }
    return service.SubmitProposal(
        region=round_.region, round_id=round_.id, municipality_number=code if kind == "m" else None,
        unit_code=code if kind == "u" else None, title=values["title"],
        question=EffectQuestion(values["population"], values["intervention"], values["comparison"],
                                values["outcome"]),
        background=values["background"], proposer=Proposer(values["name"], values["email"]),
        language=language if language in ("nb", "nn") else round_.default_language,
        idempotency_key=f"page:{values['submission_id']}" if values.get("submission_id") else None,
        department=values["department"], service_area=values["service_area"] or None,
        theme=values["theme"] or None, decision_text=values["decision"],
        decision_on=date.fromisoformat(values["decision_on"]) if values["decision_on"] else None,
        self_assessment=assessment, consent=values["consent"] == "yes",
    )


async def _similar(round_: Round, values: dict[str, str], reader: service.ProposalsReader) -> dict[str, Any]:
    """Earlier proposals in the region and delivered summaries that share the question's words."""
    text = " ".join(values[name] for name in QUESTION_FIELDS)
    found = await service.find_similar(round_.region, text, reader)
    return {
        "proposals": [
            {"reference": r.item.reference, "title": r.item.title, "status": r.item.status,
             "url": f"/intake/p/{r.item.reference}"}
            for r in found.proposals
        ],
        "summaries": [{"title": r.item.title, "url": r.item.url} for r in found.summaries],
    }


@router.post("/intake/{region}/rounds/{round_id}/proposal", response_class=HTMLResponse)
async def post_proposal(
    *, request: Request, region: Region, round_id: str, kit: PagesDep, reader: ReaderDep, uow: UnitOfWorkDep,
) -> Response:
    """Check the form, show similar proposals once, then submit; errors come back with the error summary."""
    round_ = await rounds.round_in_region(round_id, region, reader)
    language = choose_language(request, round_.default_language if round_ else None)
    form = await kit.guarded_form(request, language, **page_header(region))
    if not isinstance(form, Form):
        return form
    if round_ is None:
        return _not_found(kit, request, language, **page_header(region))
    if round_.status_at(datetime.now(UTC)) is not RoundStatus.OPEN:
        return _render_closed(kit, request, round_, language, status_code=409)
    criteria = _criteria(round_, language)
    labels = _labels(language, criteria)
    values = {name: form.get(name) for name in (*FIELD_ORDER, "submission_id")}
    values.update({f"assessment.{c['code']}": form.get(f"assessment.{c['code']}") for c in criteria})
    if honeypot_filled(form):
        # A bot: store nothing, and say nothing that teaches it which field gave it away.
        return _render_form(kit, request, round_, language, values, status_code=422,
                            notice=translate("form.honeypot.refused", language))
    errors = _validate(values, criteria, labels, language)
    step = form.get("step")
    if errors or step == "edit":
        return _render_form(kit, request, round_, language, values, errors=_ordered(errors, labels),
                            status_code=422 if errors else 200)
    if step != "submit":
        similar = await _similar(round_, values, reader)
        if similar["proposals"] or similar["summaries"]:
            return kit.render(
                request, "intake/similar.html", language=language, title=translate("intake.similar.title", language),
                similar=similar, action=f"/intake/{region}/rounds/{round_id}/proposal",
                carried=[(name, value) for name, value in values.items() if value],
                state_label=_state_labeller(language), **page_header(region),
            )
    try:
        result = await service.submit_proposal(_command(round_, values, criteria, language), uow)
    except RoundClosed:
        return _render_closed(kit, request, round_, language, status_code=409)
    except RoundNotFound:
        return _not_found(kit, request, language, **page_header(region))
    except DomainError as error:
        mapped = _domain_errors(error, labels, language)
        return _render_form(kit, request, round_, language, values, errors=_ordered(mapped, labels), status_code=422)
    return RedirectResponse(f"/intake/p/{result.reference}/receipt", status_code=303)


async def _public_status(reference_code: str, reader: service.ProposalsReader) -> service.PublicStatus | None:
    try:
        return await service.get_public_status(reference_code, reader)
    except ProposalNotFound:
        return None


def _public_view(found: service.PublicStatus) -> dict[str, Any]:
    # Only what anyone may see: never the proposer's name or address (the use case drops them too).
    proposal = found.proposal
    return {
        "reference": proposal.reference, "title": proposal.title, "status": proposal.status,
        "submitted_at": proposal.submitted_at, "question": proposal.question,
    }


def _state_labeller(language: str) -> Callable[[str], str]:
    return lambda code: state_label(code, language)


@router.get("/intake/p/{reference_code}/receipt", response_class=HTMLResponse)
async def receipt(request: Request, reference_code: Reference, kit: PagesDep, reader: ReaderDep) -> HTMLResponse:
    """After a submission: the reference, and the link to the status page."""
    found = await _public_status(reference_code, reader)
    if found is None:
        return _not_found(kit, request, choose_language(request))
    language = choose_language(request, found.proposal.language)
    return kit.render(
        request, "intake/receipt.html", language=language, title=translate("intake.receipt.title", language),
        proposal=_public_view(found), status_url=f"/intake/p/{found.proposal.reference}",
        **page_header(found.proposal.region),
    )


@router.get("/intake/p/{reference_code}", response_class=HTMLResponse)
async def status(request: Request, reference_code: Reference, kit: PagesDep, reader: ReaderDep) -> HTMLResponse:
    """A proposal's public status and history, without personal data."""
    found = await _public_status(reference_code, reader)
    if found is None:
        return _not_found(kit, request, choose_language(request))
    proposal = found.proposal
    language = choose_language(request, proposal.language)
    # A merge or split names the other proposal by its public reference, so the trace can be followed.
    entries = [
        {"at": h.at, "status": h.status, "note": h.note, "related": h.related_reference} for h in found.history
    ] or [{"at": proposal.submitted_at, "status": proposal.status, "note": "", "related": None}]
    return kit.render(
        request, "intake/status.html", language=language,
        title=translate("intake.status.title", language, reference=proposal.reference),
        proposal=_public_view(found), history=entries, round_name=found.round_name,
        state_label=_state_labeller(language), **page_header(proposal.region),
    )
