"""The secretariat's screening pages (/intake/{region}/screening…) and the proposer's revise page
(/intake/p/{reference}/revise?token=…). Plain HTML forms on the shared page kit; every POST is CSRF-guarded and
ends in a redirect (or the same page with its error summary), so nothing needs JavaScript."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from intake.adapters.screening_repository import QueueFilter
from intake.adapters.uow import IntakeReader, IntakeUnitOfWork
from intake.domain import reference
from intake.domain.model import EffectQuestion, ProposalNotFound, ProposalState, Round
from intake.domain.screening import SCREENING_DECISIONS, ScreeningDecision, allowed
from intake.entrypoints.pages import REGION_NAMES
from intake.entrypoints.secretariat import refusal_page, staff_page_kit
from intake.service import screening, use_cases
from shared.auth import token_from_request, verify_token
from shared.db import Database
from shared.web.i18n import translate
from shared.web.pages import FieldError, Form, PageKit, choose_language, honeypot_filled
from shared.web.problems import DomainError, field_errors

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
REGION = r"^[a-z][a-z0-9-]{1,30}$"
REFERENCE = r"^[A-Z0-9-]{6,40}$"
PROPOSAL_ID = r"^[A-Za-z0-9-]{1,40}$"
ACTIONS = ("screen", "classify", "merge", "split", "notes", "carry-over")
# Where a use case's field names differ from the form's on the detail page.
FORM_FIELDS = {
    "proposal_ids": "proposal_ids", "note": "note", "text": "note_text", "round": "to_round", "parts": "part1.title",
}


class RevisionForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    title: str = Field(min_length=5, max_length=200)
    population: str = Field(min_length=3, max_length=2000)
    intervention: str = Field(min_length=3, max_length=2000)
    comparison: str = Field(default="", max_length=2000)
    outcome: str = Field(min_length=3, max_length=2000)
    background: str = Field(default="", max_length=10000)


REVISION_FIELDS = ("title", "population", "intervention", "comparison", "outcome", "background")
PART_FIELDS = ("title", "population", "intervention", "comparison", "outcome")


def _choices(items: dict[str, reference.Labelled], language: str) -> list[dict[str, str]]:
    return [{"value": code, "label": item.label(language)} for code, item in items.items()]


def _organisations(language: str) -> list[dict[str, Any]]:
    """Every municipality and unit ever valid (old rounds have proposals from Meland and Os), as groups."""
    municipalities = sorted(reference.municipalities().values(), key=lambda m: (m.name, m.number))
    return [
        {"label": translate("intake.field.organisation.municipalities", language),
         "options": [{"value": f"m:{m.number}", "label": m.name} for m in municipalities]},
        {"label": translate("intake.field.organisation.units", language),
         "options": [{"value": f"u:{u.code}", "label": u.name} for u in reference.units().values()]},
    ]


def _origin_label(municipality: str | None, unit: str | None) -> str:
    if unit:
        found = reference.units().get(unit)
        return found.name if found else unit
    if municipality:
        found_municipality = reference.municipalities().get(municipality)
        return found_municipality.name if found_municipality else municipality
    return ""


def _labelled(items: dict[str, reference.Labelled], code: str | None, language: str) -> str:
    if not code:
        return ""
    found = items.get(code)
    return found.label(language) if found else code


def build_screening_pages_router(
    database: Database, new_uow: Callable[[], IntakeUnitOfWork], secret: str, links: screening.RevisionLinks,
    kit: PageKit | None = None,
) -> APIRouter:
    if kit is None:
        kit = staff_page_kit(secret)
    public_kit = PageKit("intake", TEMPLATES, secret)
    router = APIRouter(include_in_schema=False)

    def reader() -> IntakeReader:
        return IntakeReader(database)

    def page_context(region: str) -> dict[str, Any]:
        return {"region_name": REGION_NAMES.get(region, region.upper()), "home_url": f"/intake/{region}/screening"}

    def denied(request: Request, region: str, language: str) -> HTMLResponse | None:
        """The same session token and role as the API's; a translated refusal page otherwise."""
        return refusal_page(
            kit, request, secret, region, language=language, messages="intake.screening", **page_context(region)
        )

    def subject(request: Request) -> str:
        token = token_from_request(request)
        assert token is not None
        return verify_token(secret, token).subject

    def state_labeller(language: str) -> Callable[[str], str]:
        return lambda code: translate(f"intake.state.{code}", language, default=code)

    # --- Queue -----------------------------------------------------------------------------------------------------

    @router.get("/intake/{region}/screening", response_class=HTMLResponse)
    async def queue_page(request: Request, region: Annotated[str, PathParam(pattern=REGION)]) -> HTMLResponse:
        """A round's proposals with filters and the count in each state."""
        language = choose_language(request)
        refused = denied(request, region, language)
        if refused is not None:
            return refused
        rounds = await use_cases.list_rounds(region, reader())
        params = request.query_params
        values = {name: params.get(name, "").strip() for name in
                  ("round", "status", "service_area", "theme", "organisation", "q")}
        chosen = next((r for r in rounds if r.id == values["round"]), None) or _default_round(rounds)
        if chosen is None:
            return kit.render(request, "intake/screening_queue.html", language=language,
                              title=translate("intake.screening.title", language), round=None, rounds=[],
                              **page_context(region))
        kind, _, code = values["organisation"].partition(":")
        where = QueueFilter(
            chosen.id, values["status"] if values["status"] in {s.value for s in ProposalState} else None,
            values["service_area"] or None, values["theme"] or None, code if kind == "m" else None,
            code if kind == "u" else None, values["q"][:200],
        )
        found = await screening.screening_queue(where, reader())
        values["round"] = chosen.id
        base = {k: v for k, v in values.items() if v and k != "status"}
        counts = [
            {"code": state.value, "label": translate(f"intake.state.{state.value}", language),
             "count": found.counts[state.value], "current": values["status"] == state.value,
             "href": f"/intake/{region}/screening?{urlencode({**base, 'status': state.value})}"}
            for state in ProposalState
        ]
        items = [
            {"item": i, "url": f"/intake/{region}/screening/proposals/{i.id}",
             "origin": _origin_label(i.municipality_number, i.unit_code),
             "service_area": _labelled(reference.service_areas(), i.service_area, language)}
            for i in found.items
        ]
        return kit.render(
            request, "intake/screening_queue.html", language=language,
            title=translate("intake.screening.title", language), round=chosen, values=values,
            rounds=[{"value": r.id, "label": r.name} for r in reversed(rounds)],
            states=[{"value": s.value, "label": translate(f"intake.state.{s.value}", language)} for s in ProposalState],
            service_areas=_choices(reference.service_areas(), language),
            themes=_choices(reference.themes(), language), organisations=_organisations(language),
            counts=counts, total=sum(found.counts.values()), items=items, state_label=state_labeller(language),
            all_url=f"/intake/{region}/screening?{urlencode(base)}", **page_context(region),
        )

    # --- Detail ----------------------------------------------------------------------------------------------------

    async def render_detail(
        request: Request, region: str, proposal_id: str, language: str, *, errors: list[FieldError] | None = None,
        values: dict[str, str] | None = None, status_code: int = 200, done: str | None = None,
    ) -> HTMLResponse:
        try:
            detail = await screening.screening_detail(proposal_id, reader())
        except ProposalNotFound:
            return not_found(request, language, region)
        if detail.proposal.region != region:
            return not_found(request, language, region)
        p = detail.proposal
        errors = errors or []
        by_field: defaultdict[str, str | None] = defaultdict(lambda: None)
        by_field.update({e.name: e.message for e in errors})
        filled: defaultdict[str, str] = defaultdict(str, values or {})
        if "service_area" not in filled and "theme" not in filled:
            filled.update({"service_area": p.service_area or "", "theme": p.theme or ""})
        candidates = []
        if p.status in (ProposalState.SUBMITTED, ProposalState.ACCEPTED, ProposalState.CARRIED_OVER):
            others = await screening.screening_queue(QueueFilter(p.round_id), reader())
            candidates = [
                {"value": i.id,
                 "label": f"{i.reference} – {i.title} ({translate(f'intake.state.{i.status}', language)})"}
                for i in others.items if i.id != p.id and allowed(i.status, ProposalState.MERGED)
            ]
        later_rounds: list[dict[str, str]] = []
        if allowed(p.status, ProposalState.CARRIED_OVER) and detail.round is not None:
            later_rounds = [
                {"value": r.id, "label": r.name} for r in await use_cases.list_rounds(region, reader())
                if r.opens_at > detail.round.opens_at
            ]
        decisions = [
            {"value": d.value, "label": translate(f"intake.screening.decision.{d.value}", language)}
            for d in SCREENING_DECISIONS if allowed(p.status, d)
        ]
        round_names = {r.id: r.name for r in await use_cases.list_rounds(region, reader())}
        action = f"/intake/{region}/screening/proposals/{p.id}"
        return kit.render(
            request, "intake/screening_detail.html", language=language, status_code=status_code,
            title=translate("intake.screening.detail.title", language, reference=p.reference), detail=detail,
            proposal=p, origin=_origin_label(p.municipality_number, p.unit_code),
            service_area_label=_labelled(reference.service_areas(), p.service_area, language),
            theme_label=_labelled(reference.themes(), p.theme, language), decisions=decisions,
            candidates=candidates, later_rounds=later_rounds, round_names=round_names,
            service_areas=_choices(reference.service_areas(), language), themes=_choices(reference.themes(), language),
            errors=errors, field_errors=by_field, values=filled, done=done, action=action,
            state_label=state_labeller(language), queue_url=f"/intake/{region}/screening?round={p.round_id}",
            detail_url=lambda pid: f"/intake/{region}/screening/proposals/{pid}", **page_context(region),
        )

    def not_found(request: Request, language: str, region: str) -> HTMLResponse:
        return kit.error_page(
            request, language=language, status_code=404, title_key="page.error.not-found.title",
            message_key="page.error.not-found.message", **page_context(region),
        )

    detail_path = "/intake/{region}/screening/proposals/{proposal_id}"

    @router.get(detail_path, response_class=HTMLResponse)
    async def detail_page(
        request: Request, region: Annotated[str, PathParam(pattern=REGION)],
        proposal_id: Annotated[str, PathParam(pattern=PROPOSAL_ID)],
    ) -> HTMLResponse:
        """One proposal: its text, contact, history, internal notes and the screening forms."""
        language = choose_language(request)
        refused = denied(request, region, language)
        if refused is not None:
            return refused
        done = request.query_params.get("done")
        return await render_detail(request, region, proposal_id, language,
                                   done=done if done in ACTIONS else None)

    @router.post(detail_path + "/{action}", response_class=HTMLResponse)
    async def post_action(
        request: Request, region: Annotated[str, PathParam(pattern=REGION)],
        proposal_id: Annotated[str, PathParam(pattern=PROPOSAL_ID)], action: str,
    ) -> Response:
        """Run one screening action; back to the detail page with a confirmation, or with the error summary."""
        language = choose_language(request)
        refused = denied(request, region, language)
        if refused is not None:
            return refused
        if action not in ACTIONS:
            return not_found(request, language, region)
        form = await kit.guarded_form(request, language, **page_context(region))
        if not isinstance(form, Form):
            return form
        try:
            if await screening.proposal_region(proposal_id, reader()) != region:
                return not_found(request, language, region)
        except ProposalNotFound:
            return not_found(request, language, region)
        values = {name: form.get(name) for name in form.values}
        try:
            redirect_to = await run_action(action, proposal_id, form, subject(request))
        except DomainError as error:
            mapped = _domain_errors(error, action, language)
            return await render_detail(request, region, proposal_id, language, errors=mapped, values=values,
                                       status_code=_status_of(error))
        target = redirect_to or proposal_id
        return RedirectResponse(f"/intake/{region}/screening/proposals/{target}?done={action}", status_code=303)

    async def run_action(action: str, proposal_id: str, form: Form, actor: str) -> str | None:
        """Turn the form into the use case's command; returns the proposal to show afterwards, if not this one."""
        if action == "screen":
            await screening.screen_proposal(
                screening.ScreenProposal(proposal_id, ScreeningDecision(
                    form.get("status"), form.get("note"), form.get("reason"), form.get("link"), form.get("request"),
                ), actor),
                new_uow(), links,
            )
        elif action == "classify":
            await screening.classify_proposal(
                screening.ClassifyProposal(proposal_id, form.get("service_area") or None, form.get("theme") or None,
                                           actor),
                new_uow(),
            )
        elif action == "merge":
            await screening.merge_proposals(
                screening.MergeProposals(proposal_id, tuple(form.getlist("proposal_ids")), actor,
                                         form.get("merge_note")),
                new_uow(),
            )
        elif action == "split":
            parts = []
            for index in (1, 2, 3):
                fields = {name: form.get(f"part{index}.{name}") for name in PART_FIELDS}
                if index > 1 and not any(fields.values()):
                    continue  # an empty extra part is simply not used
                parts.append(screening.Part(fields["title"], EffectQuestion(
                    fields["population"], fields["intervention"], fields["comparison"], fields["outcome"],
                )))
            await screening.split_proposal(
                screening.SplitProposal(proposal_id, tuple(parts), actor, form.get("split_note")), new_uow()
            )
        elif action == "notes":
            await screening.add_internal_note(
                screening.AddInternalNote(proposal_id, form.get("note_text"), actor), new_uow()
            )
        elif action == "carry-over":
            result = await screening.carry_over(
                screening.CarryOver(proposal_id, actor, form.get("to_round") or None), new_uow()
            )
            return result.proposal_id
        return None

    def _domain_errors(error: DomainError, action: str, language: str) -> list[FieldError]:
        """The use case's broken rules on the action's own fields, labelled in the user's language."""
        problems = getattr(error, "problems", None) or [error]
        found: dict[str, FieldError] = {}
        for problem in problems:
            raw = str(getattr(problem, "field", None) or "status")
            name = _form_field(raw, action)
            rule = str(getattr(problem, "rule", None) or getattr(problem, "code", "invalid"))
            params = dict(getattr(problem, "params", {}) or {})
            detail = str(getattr(problem, "message", None) or getattr(problem, "detail", rule))
            message = translate(f"rule.{rule}", language, default="", **params) or translate(
                f"problem.{rule}", language, default=detail)
            if name.startswith("part"):
                number, _, part_field = name[4:].partition(".")
                label = (f"{translate('intake.screening.split.part', language, number=number)}: "
                         f"{translate(f'intake.field.{part_field}', language)}")
            else:
                label = translate(f"intake.screening.field.{name}", language, default=name)
            found.setdefault(name, FieldError(name, label, message))
        return list(found.values())

    # --- The proposer's revise page --------------------------------------------------------------------------------

    revise_path = "/intake/p/{reference_code}/revise"

    async def refusal_language(request: Request, reference_code: str) -> str:
        """The proposal's own language (its reference is public), so a refused link speaks as the form did."""
        try:
            found = await use_cases.get_public_status(reference_code, reader())
        except ProposalNotFound:
            return choose_language(request)
        return choose_language(request, found.proposal.language)

    def link_refused(request: Request, error: DomainError, language: str) -> HTMLResponse:
        key = {"revise-link-expired": "expired", "revise-link-used": "used"}.get(error.code, "invalid")
        return public_kit.error_page(
            request, language=language, status_code=_status_of(error),
            title_key=f"intake.revise.{key}.title", message_key=f"intake.revise.{key}.message",
        )

    def render_revise(
        *,
        request: Request, revision: screening.Revision, token: str, language: str, values: dict[str, str],
        errors: list[FieldError], status_code: int = 200, notice: str | None = None,
    ) -> HTMLResponse:
        p = revision.proposal
        by_field: defaultdict[str, str | None] = defaultdict(lambda: None)
        by_field.update({e.name: e.message for e in errors})
        return public_kit.render(
            request, "intake/screening_revise.html", language=language, status_code=status_code,
            title=translate("intake.revise.title", language, reference=p.reference), revision=revision,
            proposal=p, values=defaultdict(str, values), field_errors=by_field, errors=errors, notice=notice,
            action=f"/intake/p/{p.reference}/revise?{urlencode({'token': token})}",
            **page_context(p.region) | {"home_url": f"/intake/{p.region}"},
        )

    @router.get(revise_path, response_class=HTMLResponse)
    async def revise_page(
        request: Request, reference_code: Annotated[str, PathParam(pattern=REFERENCE)], token: str = "",
    ) -> HTMLResponse:
        """The proposer's form, filled with what they wrote, and what the secretariat asked them to change."""
        try:
            revision = await screening.get_revision(reference_code, token, reader(), links)
        except (screening.RevisionLinkInvalid, screening.RevisionLinkExpired, screening.RevisionLinkUsed,
                ProposalNotFound) as error:
            return link_refused(request, error, await refusal_language(request, reference_code))
        language = choose_language(request, revision.proposal.language)
        p = revision.proposal
        values = {"title": p.title, "population": p.question.population, "intervention": p.question.intervention,
                  "comparison": p.question.comparison, "outcome": p.question.outcome, "background": p.background}
        return render_revise(request=request, revision=revision, token=token, language=language, values=values,
                             errors=[])

    @router.post(revise_path, response_class=HTMLResponse)
    async def post_revise(
        request: Request, reference_code: Annotated[str, PathParam(pattern=REFERENCE)], token: str = "",
    ) -> Response:
        """Resubmit under the same reference; the status page shows it as submitted again."""
        language = await refusal_language(request, reference_code)
        form = await public_kit.guarded_form(request, language)
        if not isinstance(form, Form):
            return form
        try:
            revision = await screening.get_revision(reference_code, token, reader(), links)
        except (screening.RevisionLinkInvalid, screening.RevisionLinkExpired, screening.RevisionLinkUsed,
                ProposalNotFound) as error:
            return link_refused(request, error, language)
        language = choose_language(request, revision.proposal.language)
        values = {name: form.get(name) for name in REVISION_FIELDS}
        if honeypot_filled(form):
            return render_revise(request=request, revision=revision, token=token, language=language, values=values,
                                 errors=[], status_code=422, notice=translate("form.honeypot.refused", language))
        try:
            RevisionForm.model_validate({k: v for k, v in values.items() if v})
        except ValidationError as error:
            errors = [
                FieldError(e["field"], translate(f"intake.field.{e['field']}", language), e["message"])
                for e in field_errors(list(error.errors()), language)
            ]
            return render_revise(request=request, revision=revision, token=token, language=language, values=values,
                                 errors=errors, status_code=422)
        try:
            result = await screening.resubmit_proposal(
                screening.ResubmitProposal(
                    reference_code, token, values["title"],
                    EffectQuestion(values["population"], values["intervention"], values["comparison"],
                                   values["outcome"]),
                    values["background"],
                ),
                new_uow(), links,
            )
        except (screening.RevisionLinkInvalid, screening.RevisionLinkExpired, screening.RevisionLinkUsed) as error:
            return link_refused(request, error, language)
        return RedirectResponse(f"/intake/p/{result.reference}", status_code=303)

    return router


def _form_field(raw: str, action: str) -> str:
    if action == "split" and raw.startswith("parts."):
        _, index, name = [*raw.split("."), "", ""][:3]
        return f"part{int(index) + 1 if index.isdigit() else 1}.{name or 'title'}"
    if action == "merge" and raw in ("note",):
        return "merge_note"
    if action == "split" and raw == "note":
        return "split_note"
    if action == "notes" and raw == "text":
        return "note_text"
    if action == "carry-over":
        return "to_round"
    if action == "merge" and raw in ("target", "status"):
        return "proposal_ids"
    return FORM_FIELDS.get(raw, raw) if action != "screen" else raw


def _status_of(error: DomainError) -> int:
    return error.status if 400 <= error.status < 500 else 422


def _default_round(rounds: list[Round]) -> Round | None:
    """The round screening is most likely about: the newest that has opened, or else the first."""
    now = datetime.now(UTC)
    opened = [r for r in rounds if r.opens_at <= now]
    return opened[-1] if opened else (rounds[0] if rounds else None)

