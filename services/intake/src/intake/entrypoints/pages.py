"""Intake's public pages: open rounds, the proposal form with its similar-proposals step, receipt and status.

Plain HTML forms and POSTs (no JavaScript), rendered into the shared layout by the page kit. Every POST is
guarded by the kit (rate limit, size limit, CSRF) and by the honeypot; the use cases decide everything else.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError

from intake.adapters.uow import IntakeReader, IntakeUnitOfWork
from intake.domain import reference
from intake.domain.model import (
    EffectQuestion,
    ProposalNotFound,
    Proposer,
    Round,
    RoundClosed,
    RoundNotFound,
    RoundStatus,
)
from intake.service import use_cases
from shared.db import Database
from shared.web.i18n import load_catalog, register_messages, translate
from shared.web.pages import FieldError, Form, PageKit, choose_language, honeypot_filled
from shared.web.problems import DomainError, field_errors

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
REGION = r"^[a-z][a-z0-9-]{1,30}$"
REFERENCE = r"^[A-Z0-9-]{6,40}$"
# The region's name in the header; a region without one shows its code.
REGION_NAMES = {"vest": "Kunnskapskommunen Helse Omsorg Vest"}
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

register_messages(load_catalog(TEMPLATES / "messages.toml"))


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


def _labels(language: str, criteria: list[dict[str, str]]) -> dict[str, str]:
    """Each field's label, in the order of the page (the assessment comes before the contact details)."""
    labels: dict[str, str] = {}
    for name in FIELD_ORDER:
        if name == "name":
            labels.update({f"assessment.{c['code']}": c["label"] for c in criteria})
        labels[name] = translate(f"intake.field.{name}", language)
    return labels


def _criteria(round_: Round, language: str) -> list[dict[str, str]]:
    found = reference.criteria_set(round_.criteria_set)
    if found is None:
        return []
    return [{"code": c.code, "label": reference.label(c.labels, language)} for c in found.criteria]


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


def _choices(items: dict[str, reference.Labelled], language: str) -> list[dict[str, str]]:
    return [{"value": code, "label": item.label(language)} for code, item in items.items()]


def _rule_message(name: str, rule: str, language: str, default: str, **params: Any) -> str:
    key = FIELD_RULE_MESSAGES.get((name, rule))
    if key:
        return translate(key, language)
    return translate(f"rule.{rule}", language, default=default, **params)


def _ordered(errors: dict[str, FieldError], labels: dict[str, str]) -> list[FieldError]:
    order = {name: position for position, name in enumerate(labels)}
    return sorted(errors.values(), key=lambda e: order.get(e.name, len(order)))


def build_pages_router(
    database: Database, new_uow: Callable[[], IntakeUnitOfWork], secret: str, kit: PageKit | None = None,
) -> APIRouter:
    kit = kit or PageKit("intake", TEMPLATES, secret)
    router = APIRouter(include_in_schema=False)
    router.include_router(kit.static_router())

    async def find_round(region: str, round_id: str) -> Round | None:
        try:
            found = await use_cases.get_round(round_id, IntakeReader(database))
        except RoundNotFound:
            return None
        return found if found.region == region else None

    def page_context(region: str) -> dict[str, Any]:
        return {"region_name": REGION_NAMES.get(region, region.upper()), "home_url": f"/intake/{region}"}

    def round_item(round_: Round, now: datetime) -> dict[str, Any]:
        return {
            "round": round_, "status": round_.status_at(now).value,
            "form_url": f"/intake/{round_.region}/rounds/{round_.id}/proposal",
            "committee_on": round_.committee_meeting_on, "decision_on": round_.decision_on,
            "final_report_on": round_.final_report_on,
        }

    def not_found(request: Request, language: str, **context: Any) -> HTMLResponse:
        return kit.error_page(
            request, language=language, status_code=404, title_key="page.error.not-found.title",
            message_key="page.error.not-found.message", **context,
        )

    @router.get("/intake/{region}", response_class=HTMLResponse)
    async def landing(request: Request, region: Annotated[str, PathParam(pattern=REGION)]) -> HTMLResponse:
        """The region's rounds: open ones first, with their windows and meeting dates in Europe/Oslo."""
        now = datetime.now(UTC)
        found = await use_cases.list_rounds(region, IntakeReader(database))
        # The region's default language is that of its newest round (rounds are configured per region).
        language = choose_language(request, found[-1].default_language if found else None)
        items = [round_item(r, now) for r in found]
        return kit.render(
            request, "intake/landing.html", language=language, title=translate("intake.landing.title", language),
            open_rounds=[i for i in items if i["status"] == RoundStatus.OPEN.value],
            other_rounds=[i for i in reversed(items) if i["status"] != RoundStatus.OPEN.value],
            **page_context(region),
        )

    def render_form(
        request: Request, round_: Round, language: str, values: dict[str, str], errors: list[FieldError], *,
        status_code: int = 200, notice: str | None = None,
    ) -> HTMLResponse:
        today = datetime.now(UTC).date()
        by_field: defaultdict[str, str | None] = defaultdict(lambda: None)
        by_field.update({e.name: e.message for e in errors})
        filled: defaultdict[str, str] = defaultdict(str, values)
        if not filled["submission_id"]:
            filled["submission_id"] = str(uuid.uuid4())
        return kit.render(
            request, "intake/form.html", language=language, status_code=status_code,
            title=translate("intake.form.title", language), item=round_item(round_, datetime.now(UTC)),
            action=f"/intake/{round_.region}/rounds/{round_.id}/proposal", values=filled, field_errors=by_field,
            errors=errors, notice=notice, organisations=_organisations(language, today),
            service_areas=_choices(reference.service_areas(), language),
            themes=_choices(reference.themes(), language), criteria=_criteria(round_, language),
            scale=[{"value": str(n), "label": str(n)} for n in range(1, 6)], **page_context(round_.region),
        )

    def render_closed(request: Request, round_: Round, language: str, status_code: int = 200) -> HTMLResponse:
        return kit.render(
            request, "intake/closed.html", language=language, status_code=status_code,
            title=translate("intake.round.closed.title", language), item=round_item(round_, datetime.now(UTC)),
            region_url=f"/intake/{round_.region}", **page_context(round_.region),
        )

    form_path = "/intake/{region}/rounds/{round_id}/proposal"

    @router.get(form_path, response_class=HTMLResponse)
    async def proposal_form(
        request: Request, region: Annotated[str, PathParam(pattern=REGION)], round_id: str,
    ) -> HTMLResponse:
        """The proposal form; a round outside its window shows its dates instead."""
        round_ = await find_round(region, round_id)
        if round_ is None:
            return not_found(request, choose_language(request), **page_context(region))
        language = choose_language(request, round_.default_language)
        if round_.status_at(datetime.now(UTC)) is not RoundStatus.OPEN:
            return render_closed(request, round_, language)
        return render_form(request, round_, language, {}, [])

    @router.post(form_path, response_class=HTMLResponse)
    async def post_proposal(
        request: Request, region: Annotated[str, PathParam(pattern=REGION)], round_id: str,
    ) -> Response:
        """Check the form, show similar proposals once, then submit; errors come back with the error summary."""
        round_ = await find_round(region, round_id)
        language = choose_language(request, round_.default_language if round_ else None)
        form = await kit.guarded_form(request, language, **page_context(region))
        if not isinstance(form, Form):
            return form
        if round_ is None:
            return not_found(request, language, **page_context(region))
        if round_.status_at(datetime.now(UTC)) is not RoundStatus.OPEN:
            return render_closed(request, round_, language, status_code=409)
        criteria = _criteria(round_, language)
        labels = _labels(language, criteria)
        values = {name: form.get(name) for name in (*FIELD_ORDER, "submission_id")}
        values.update({f"assessment.{c['code']}": form.get(f"assessment.{c['code']}") for c in criteria})
        if honeypot_filled(form):
            # A bot: store nothing, and say nothing that teaches it which field gave it away.
            return render_form(
                request, round_, language, values, [], status_code=422,
                notice=translate("form.honeypot.refused", language),
            )

        errors = validate(values, criteria, labels, language)
        step = form.get("step")
        if errors or step == "edit":
            return render_form(
                request, round_, language, values, _ordered(errors, labels), status_code=422 if errors else 200,
            )
        if step != "submit":
            similar = await find_similar(round_, values)
            if similar["proposals"] or similar["summaries"]:
                return kit.render(
                    request, "intake/similar.html", language=language,
                    title=translate("intake.similar.title", language),
                    similar=similar, action=f"/intake/{region}/rounds/{round_id}/proposal",
                    carried=[(name, value) for name, value in values.items() if value], **page_context(region),
                )
        try:
            result = await use_cases.submit_proposal(command(round_, values, criteria, language), new_uow())
        except RoundClosed:
            return render_closed(request, round_, language, status_code=409)
        except RoundNotFound:
            return not_found(request, language, **page_context(region))
        except DomainError as error:
            mapped = domain_errors(error, labels, language)
            return render_form(request, round_, language, values, _ordered(mapped, labels), status_code=422)
        return RedirectResponse(f"/intake/p/{result.reference}/receipt", status_code=303)

    def validate(
        values: dict[str, str], criteria: list[dict[str, str]], labels: dict[str, str], language: str,
    ) -> dict[str, FieldError]:
        # An empty field is a missing one, so the rule reads "required" rather than "too short".
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
        for name, choices in (("service_area", reference.service_areas()), ("theme", reference.themes())):
            if values.get(name) and name not in errors and values[name] not in choices:
                errors[name] = FieldError(name, labels[name], translate("intake.rule.choice", language))
        return errors

    def domain_errors(error: DomainError, labels: dict[str, str], language: str) -> dict[str, FieldError]:
        """The use case's broken rules, on the form's fields; a rule without a field goes on the first one."""
        found: dict[str, FieldError] = {}
        problems = getattr(error, "problems", None) or [error]
        for problem in problems:
            raw_field = str(getattr(problem, "field", None) or "title")
            name = USE_CASE_FIELDS.get(raw_field, raw_field.replace("self_assessment.", "assessment."))
            rule = str(getattr(problem, "rule", None) or getattr(problem, "code", "invalid"))
            detail = str(getattr(problem, "message", None) or getattr(problem, "detail", rule))
            message = _rule_message(name, rule, language, detail)
            found.setdefault(name, FieldError(name, labels.get(name, name), message))
        return found

    def command(
        round_: Round, values: dict[str, str], criteria: list[dict[str, str]], language: str,
    ) -> use_cases.SubmitProposal:
        kind, _, code = values["organisation"].partition(":")
        assessment = {
            c["code"]: int(values[f"assessment.{c['code']}"]) for c in criteria if values.get(f"assessment.{c['code']}")
        }
        candidates: dict[str, Any] = {
            "region": round_.region, "round_id": round_.id,
            "municipality_number": code if kind == "m" else None, "unit_code": code if kind == "u" else None,
            "title": values["title"],
            "question": EffectQuestion(values["population"], values["intervention"], values["comparison"],
                                       values["outcome"]),
            "background": values["background"], "proposer": Proposer(values["name"], values["email"]),
            "language": language if language in ("nb", "nn") else round_.default_language,
            "idempotency_key": f"page:{values['submission_id']}" if values.get("submission_id") else None,
            "department": values["department"], "service_area": values["service_area"] or None,
            "theme": values["theme"] or None, "decision_text": values["decision"],
            "decision_on": date.fromisoformat(values["decision_on"]) if values["decision_on"] else None,
            "self_assessment": assessment, "consent": values["consent"] == "yes",
        }
        return use_cases.SubmitProposal(**candidates)

    async def find_similar(round_: Round, values: dict[str, str]) -> dict[str, list[dict[str, str]]]:
        """Earlier proposals in the region and delivered summaries that share the question's words."""
        text = " ".join(values[name] for name in ("title", "population", "intervention", "comparison", "outcome"))
        found = await use_cases.find_similar(round_.region, text, IntakeReader(database))
        return {
            "proposals": [
                {"reference": r.item.reference, "title": r.item.title, "status": r.item.status,
                 "url": f"/intake/p/{r.item.reference}"}
                for r in found.proposals
            ],
            "summaries": [{"title": r.item.title, "url": r.item.url} for r in found.summaries],
        }

    async def public_status(reference_code: str) -> use_cases.PublicStatus | None:
        try:
            return await use_cases.get_public_status(reference_code, IntakeReader(database))
        except ProposalNotFound:
            return None

    def public_view(found: use_cases.PublicStatus) -> dict[str, Any]:
        # Only what anyone may see: never the proposer's name or address (the use case drops them too).
        proposal = found.proposal
        return {
            "reference": proposal.reference, "title": proposal.title, "status": proposal.status,
            "submitted_at": proposal.submitted_at, "question": proposal.question,
        }

    def state_labeller(language: str) -> Callable[[str], str]:
        return lambda code: translate(f"intake.state.{code}", language, default=code)

    @router.get("/intake/p/{reference_code}/receipt", response_class=HTMLResponse)
    async def receipt(request: Request, reference_code: Annotated[str, PathParam(pattern=REFERENCE)]) -> HTMLResponse:
        """After a submission: the reference, and the link to the status page."""
        found = await public_status(reference_code)
        if found is None:
            return not_found(request, choose_language(request))
        language = choose_language(request, found.proposal.language)
        return kit.render(
            request, "intake/receipt.html", language=language, title=translate("intake.receipt.title", language),
            proposal=public_view(found), status_url=f"/intake/p/{found.proposal.reference}",
            **page_context(found.proposal.region),
        )

    @router.get("/intake/p/{reference_code}", response_class=HTMLResponse)
    async def status(request: Request, reference_code: Annotated[str, PathParam(pattern=REFERENCE)]) -> HTMLResponse:
        """A proposal's public status and history, without personal data."""
        found = await public_status(reference_code)
        if found is None:
            return not_found(request, choose_language(request))
        proposal = found.proposal
        language = choose_language(request, proposal.language)
        # A merge or split names the other proposal by its public reference, so the trace can be followed.
        entries = [
            {"at": h.at, "status": h.status, "note": h.note, "related": h.related_reference} for h in found.history
        ] or [{"at": proposal.submitted_at, "status": proposal.status, "note": "", "related": None}]
        return kit.render(
            request, "intake/status.html", language=language,
            title=translate("intake.status.title", language, reference=proposal.reference),
            proposal=public_view(found), history=entries, round_name=found.round_name,
            state_label=state_labeller(language), **page_context(proposal.region),
        )

    return router
