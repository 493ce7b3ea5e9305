"""The secretariat's screening pages (/intake/{region}/screening…) and the proposer's revise page
(/intake/p/{reference}/revise?token=…). Plain HTML forms on the page kits; every POST is CSRF-guarded and ends in a
redirect (or the same page with its error summary), and the queue sorts and pages through GET, so nothing needs
JavaScript."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from intake.deps import (
    LinksDep,
    PageLanguageDep,
    PagesDep,
    ReaderDep,
    Region,
    StaffPagesDep,
    UnitOfWorkDep,
    page_header,
    staff_header,
)
from intake.proposals.api import state_label
from intake.proposals.model import EffectQuestion, ProposalNotFound, ProposalState
from intake.proposals.pages import choices
from intake.proposals.service import get_public_status
from intake.reference import model as reference
from intake.rounds import service as rounds
from intake.rounds.model import Round
from intake.screening import service
from intake.screening.links import RevisionLinks
from intake.screening.model import (
    QUEUE_SORT_KEYS,
    SCREENING_DECISIONS,
    Part,
    QueueFilter,
    RevisionLinkExpired,
    RevisionLinkInvalid,
    RevisionLinkUsed,
    ScreeningDecision,
    allowed,
)
from intake.screening.service import ScreeningReader, ScreeningUnitOfWork
from shared.errors import DomainError, FieldProblem, InvalidInput
from shared.i18n import translate
from shared.web.access import Secretariat, public
from shared.web.pages import FieldError, Form, PageKit, choose_language, honeypot_filled
from shared.web.problems import field_errors
from shared.web.staff import Column, Pager, Sort, parse_sort, sort_headers

router = APIRouter(include_in_schema=False)

REFERENCE = r"^[A-Z0-9-]{6,40}$"
PROPOSAL_ID = r"^[A-Za-z0-9-]{1,40}$"
ProposalId = Annotated[str, PathParam(pattern=PROPOSAL_ID)]
Reference = Annotated[str, PathParam(pattern=REFERENCE)]
PAGE_SIZE = 50
# Merging offers the round's other proposals as checkboxes: a screen's worth, as the queue once showed them.
MERGE_CANDIDATES = 1000
FILTERS = ("round", "status", "service_area", "theme", "organisation", "q")
DEFAULT_SORT = Sort("submitted", False)
# Where a use case's field names differ from the form's on the detail page.
FORM_FIELDS = {
    "proposal_ids": "proposal_ids", "note": "note", "text": "note_text", "round": "to_round", "parts": "part1.title",
}
REVISION_FIELDS = ("title", "population", "intervention", "comparison", "outcome", "background")
PART_FIELDS = ("title", "population", "intervention", "comparison", "outcome")
LINK_REFUSALS = (RevisionLinkInvalid, RevisionLinkExpired, RevisionLinkUsed, ProposalNotFound)


class RevisionForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    title: str = Field(min_length=5, max_length=200)
    population: str = Field(min_length=3, max_length=2000)
    intervention: str = Field(min_length=3, max_length=2000)
    comparison: str = Field(default="", max_length=2000)
    outcome: str = Field(min_length=3, max_length=2000)
    background: str = Field(default="", max_length=10000)


def _organisations(language: str) -> list[dict[str, Any]]:
    """Every municipality and unit ever valid (old rounds have proposals from Meland and Os), as groups."""
    municipalities = sorted(reference.municipalities().values(), key=lambda m: (m.name, m.number))
    return [
        {"label": translate("intake.field.organisation.municipalities", language),
         "options": [{"value": f"m:{m.number}", "label": m.name} for m in municipalities]},
        {"label": translate("intake.field.organisation.units", language),
         "options": [{"value": f"u:{u.code}", "label": u.name} for u in reference.units().values()]},
    ]


def _state_labeller(language: str) -> Callable[[str], str]:
    return lambda code: state_label(code, language)


def _not_found(kit: PageKit, request: Request, language: str, region: str) -> HTMLResponse:
    return kit.error_page(
        request, language=language, status_code=404, title_key="page.error.not-found.title",
        message_key="page.error.not-found.message", **staff_header(region),
    )


def _status_of(error: DomainError) -> int:
    return error.status if 400 <= error.status < 500 else 422


def _default_round(found: list[Round]) -> Round | None:
    """The round screening is most likely about: the newest that has opened, or else the first."""
    now = datetime.now(UTC)
    opened = [r for r in found if r.opens_at <= now]
    return opened[-1] if opened else (found[0] if found else None)


# --- Queue ---------------------------------------------------------------------------------------------------------


def _queue_filter(round_id: str, values: dict[str, str]) -> QueueFilter:
    kind, _, code = values["organisation"].partition(":")
    status = values["status"] if values["status"] in {s.value for s in ProposalState} else None
    return QueueFilter(
        round_id, status, values["service_area"] or None, values["theme"] or None, code if kind == "m" else None,
        code if kind == "u" else None, values["q"][:200],
    )


def _columns(language: str) -> list[Column]:
    return [
        Column(translate("intake.screening.column.reference", language), "reference"),
        Column(translate("intake.field.title", language), "title"),
        Column(translate("intake.screening.field.status", language), "status"),
        Column(translate("intake.field.organisation", language), "organisation"),
        Column(translate("intake.field.service_area", language), "service_area"),
        Column(translate("intake.screening.column.submitted", language), "submitted"),
    ]


def _counts(region: str, found: service.Queue, query: dict[str, str], language: str) -> list[dict[str, Any]]:
    """One link per state with its count; each keeps the other filters and the order."""
    base = {k: v for k, v in query.items() if k != "status"}
    return [
        {"code": state.value, "label": state_label(state.value, language), "count": found.counts[state.value],
         "current": query.get("status") == state.value,
         "href": f"/intake/{region}/screening?{urlencode({**base, 'status': state.value})}"}
        for state in ProposalState
    ]


@router.get("/intake/{region}/screening", response_class=HTMLResponse)
async def queue_page(
    *, request: Request, region: Region, principal: Secretariat, kit: StaffPagesDep, reader: ReaderDep,
    language: PageLanguageDep,
) -> HTMLResponse:
    """A round's proposals: the filters in one row, the count in each state, a sortable table in pages of 50."""
    found_rounds = await rounds.list_rounds(region, reader)
    params = request.query_params
    values = {name: params.get(name, "").strip() for name in FILTERS}
    chosen = next((r for r in found_rounds if r.id == values["round"]), None) or _default_round(found_rounds)
    if chosen is None:
        return kit.render(request, "intake/screening_queue.html", language=language,
                          title=translate("intake.screening.title", language), round=None, **staff_header(region))
    values["round"] = chosen.id
    sort = parse_sort(params.get("sort"), QUEUE_SORT_KEYS, DEFAULT_SORT)
    found = await service.screening_queue(
        _queue_filter(chosen.id, values), reader, order=service.queue_order(sort.key, sort.descending, language),
        page=int(params.get("page", "1")) if params.get("page", "1").isdigit() else 1, size=PAGE_SIZE,
    )
    query = {k: v for k, v in values.items() if v} | ({"sort": sort.value} if sort != DEFAULT_SORT else {})
    items = [
        {"item": i, "url": f"/intake/{region}/screening/proposals/{i.id}",
         "origin": reference.origin_name(i.municipality_number, i.unit_code),
         "service_area": reference.labelled(reference.service_areas(), i.service_area, language)}
        for i in found.items
    ]
    return kit.render(
        request, "intake/screening_queue.html", language=language,
        title=translate("intake.screening.title", language), round=chosen, values=values, sort=sort,
        rounds=[{"value": r.id, "label": r.name} for r in reversed(found_rounds)],
        states=[{"value": s.value, "label": state_label(s.value, language)} for s in ProposalState],
        service_areas=choices(reference.service_areas(), language), themes=choices(reference.themes(), language),
        organisations=_organisations(language), counts=_counts(region, found, query, language),
        total=sum(found.counts.values()), items=items, state_label=_state_labeller(language),
        columns=sort_headers(_columns(language), sort), pager=Pager(found.total, found.page, found.size),
        path=f"/intake/{region}/screening", query=query,
        all_url=f"/intake/{region}/screening?{urlencode({k: v for k, v in query.items() if k != 'status'})}",
        **staff_header(region),
    )


# --- Detail --------------------------------------------------------------------------------------------------------


async def _merge_candidates(detail: service.Detail, reader: ScreeningReader, language: str) -> list[dict[str, str]]:
    """The round's other proposals this one can receive as duplicates."""
    p = detail.proposal
    if p.status not in (ProposalState.SUBMITTED, ProposalState.ACCEPTED, ProposalState.CARRIED_OVER):
        return []
    others = await service.screening_queue(QueueFilter(p.round_id), reader, size=MERGE_CANDIDATES)
    return [
        {"value": i.id, "label": f"{i.reference} – {i.title} ({state_label(i.status, language)})"}
        for i in others.items if i.id != p.id and allowed(i.status, ProposalState.MERGED)
    ]


async def _render_detail(
    kit: PageKit, request: Request, region: str, proposal_id: str, reader: ScreeningReader, *, language: str,
    errors: list[FieldError] | None = None, values: dict[str, str] | None = None, status_code: int = 200,
    done: str | None = None,
) -> HTMLResponse:
    try:
        detail = await service.screening_detail(proposal_id, reader)
    except ProposalNotFound:
        return _not_found(kit, request, language, region)
    p = detail.proposal
    if p.region != region:
        return _not_found(kit, request, language, region)
    errors = errors or []
    by_field: defaultdict[str, str | None] = defaultdict(lambda: None)
    by_field.update({e.name: e.message for e in errors})
    filled: defaultdict[str, str] = defaultdict(str, values or {})
    if "service_area" not in filled and "theme" not in filled:
        filled.update({"service_area": p.service_area or "", "theme": p.theme or ""})
    region_rounds = await rounds.list_rounds(region, reader)
    current = detail.round if allowed(p.status, ProposalState.CARRIED_OVER) else None
    later_rounds = [
        {"value": r.id, "label": r.name} for r in region_rounds if current is not None and r.opens_at > current.opens_at
    ]
    return kit.render(
        request, "intake/screening_detail.html", language=language, status_code=status_code,
        title=translate("intake.screening.detail.title", language, reference=p.reference), detail=detail,
        proposal=p, origin=reference.origin_name(p.municipality_number, p.unit_code),
        service_area_label=reference.labelled(reference.service_areas(), p.service_area, language),
        theme_label=reference.labelled(reference.themes(), p.theme, language),
        decisions=[{"value": d.value, "label": translate(f"intake.screening.decision.{d.value}", language)}
                   for d in SCREENING_DECISIONS if allowed(p.status, d)],
        candidates=await _merge_candidates(detail, reader, language), later_rounds=later_rounds,
        round_names={r.id: r.name for r in region_rounds},
        service_areas=choices(reference.service_areas(), language), themes=choices(reference.themes(), language),
        errors=errors, field_errors=by_field, values=filled, done=done,
        action=f"/intake/{region}/screening/proposals/{p.id}", state_label=_state_labeller(language),
        queue_url=f"/intake/{region}/screening?round={p.round_id}",
        detail_url=lambda pid: f"/intake/{region}/screening/proposals/{pid}", **staff_header(region),
    )


ACTIONS = ("screen", "classify", "merge", "split", "notes", "carry-over")


@router.get("/intake/{region}/screening/proposals/{proposal_id}", response_class=HTMLResponse)
async def detail_page(
    *, request: Request, region: Region, proposal_id: ProposalId, principal: Secretariat, kit: StaffPagesDep,
    reader: ReaderDep, language: PageLanguageDep,
) -> HTMLResponse:
    """One proposal: its text, contact, history, internal notes and the screening forms."""
    done = request.query_params.get("done")
    return await _render_detail(kit, request, region, proposal_id, reader, language=language,
                                done=done if done in ACTIONS else None)


# Each action turns the form into its use case's command; it returns the proposal to show afterwards, if not this one.
Action = Callable[[str, Form, str, ScreeningUnitOfWork, RevisionLinks], Awaitable[str | None]]


async def _screen(proposal_id: str, form: Form, actor: str, uow: ScreeningUnitOfWork, links: RevisionLinks) -> None:
    decision = ScreeningDecision(form.get("status"), form.get("note"), form.get("reason"), form.get("link"),
                                 form.get("request"))
    await service.screen_proposal(service.ScreenProposal(proposal_id, decision, actor), uow, links)


async def _classify(proposal_id: str, form: Form, actor: str, uow: ScreeningUnitOfWork, _: RevisionLinks) -> None:
    await service.classify_proposal(
        service.ClassifyProposal(proposal_id, form.get("service_area") or None, form.get("theme") or None, actor), uow,
    )


async def _merge(proposal_id: str, form: Form, actor: str, uow: ScreeningUnitOfWork, _: RevisionLinks) -> None:
    await service.merge_proposals(
        service.MergeProposals(proposal_id, tuple(form.getlist("proposal_ids")), actor, form.get("merge_note")), uow,
    )


async def _split(proposal_id: str, form: Form, actor: str, uow: ScreeningUnitOfWork, _: RevisionLinks) -> None:
    parts = []
    for index in (1, 2, 3):
        fields = {name: form.get(f"part{index}.{name}") for name in PART_FIELDS}
        if index > 1 and not any(fields.values()):
            continue  # an empty extra part is simply not used
        question = EffectQuestion(fields["population"], fields["intervention"], fields["comparison"], fields["outcome"])
        parts.append(Part(fields["title"], question))
    await service.split_proposal(service.SplitProposal(proposal_id, tuple(parts), actor, form.get("split_note")), uow)


async def _note(proposal_id: str, form: Form, actor: str, uow: ScreeningUnitOfWork, _: RevisionLinks) -> None:
    await service.add_internal_note(service.AddInternalNote(proposal_id, form.get("note_text"), actor), uow)


async def _carry_over(proposal_id: str, form: Form, actor: str, uow: ScreeningUnitOfWork, _: RevisionLinks) -> str:
    result = await service.carry_over(service.CarryOver(proposal_id, actor, form.get("to_round") or None), uow)
    return result.proposal_id


RUN: dict[str, Action] = {
    "screen": _screen, "classify": _classify, "merge": _merge, "split": _split, "notes": _note,
    "carry-over": _carry_over,
}


def _form_field(raw: str, action: str) -> str:
    """The detail page's form field for a use case's field name."""
    if action == "split" and raw.startswith("parts."):
        _, index, name = [*raw.split("."), "", ""][:3]
        return f"part{int(index) + 1 if index.isdigit() else 1}.{name or 'title'}"
    if action == "merge" and raw == "note":
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


def _action_errors(error: DomainError, action: str, language: str) -> list[FieldError]:
    """The use case's broken rules on the action's own fields, labelled in the user's language."""
    problems = error.problems if isinstance(error, InvalidInput) else (
        FieldProblem(error.field or "status", error.code, error.detail),
    )
    found: dict[str, FieldError] = {}
    for problem in problems:
        name = _form_field(problem.field, action)
        message = translate(f"rule.{problem.rule}", language, default="", **dict(problem.params)) or translate(
            f"problem.{problem.rule}", language, default=problem.message)
        if name.startswith("part"):
            number, _, part_field = name[4:].partition(".")
            label = (f"{translate('intake.screening.split.part', language, number=number)}: "
                     f"{translate(f'intake.field.{part_field}', language)}")
        else:
            label = translate(f"intake.screening.field.{name}", language, default=name)
        found.setdefault(name, FieldError(name, label, message))
    return list(found.values())


@router.post("/intake/{region}/screening/proposals/{proposal_id}/{action}", response_class=HTMLResponse)
async def post_action(
    *, request: Request, region: Region, proposal_id: ProposalId, action: str, principal: Secretariat,
    kit: StaffPagesDep, reader: ReaderDep, uow: UnitOfWorkDep, links: LinksDep, language: PageLanguageDep,
) -> Response:
    """Run one screening action; back to the detail page with a confirmation, or with the error summary."""
    if action not in RUN:
        return _not_found(kit, request, language, region)
    form = await kit.guarded_form(request, language, **staff_header(region))
    if not isinstance(form, Form):
        return form
    try:
        if await service.proposal_region(proposal_id, reader) != region:
            return _not_found(kit, request, language, region)
    except ProposalNotFound:
        return _not_found(kit, request, language, region)
    try:
        shown = await RUN[action](proposal_id, form, principal.subject, uow, links)
    except DomainError as error:
        values = {name: form.get(name) for name in form.values}
        return await _render_detail(kit, request, region, proposal_id, reader, language=language, values=values,
                                    errors=_action_errors(error, action, language), status_code=_status_of(error))
    return RedirectResponse(f"/intake/{region}/screening/proposals/{shown or proposal_id}?done={action}",
                            status_code=303)


# --- The proposer's revise page ------------------------------------------------------------------------------------


async def _proposal_language(request: Request, reference_code: str, reader: ScreeningReader) -> str:
    """The proposal's own language (its reference is public), so a refused link speaks as the form did."""
    try:
        found = await get_public_status(reference_code, reader)
    except ProposalNotFound:
        return choose_language(request)
    return choose_language(request, found.proposal.language)


def _link_refused(kit: PageKit, request: Request, error: DomainError, language: str) -> HTMLResponse:
    key = {"revise-link-expired": "expired", "revise-link-used": "used"}.get(error.code, "invalid")
    return kit.error_page(
        request, language=language, status_code=_status_of(error), title_key=f"intake.revise.{key}.title",
        message_key=f"intake.revise.{key}.message",
    )


def _render_revise(
    kit: PageKit, request: Request, revision: service.Revision, token: str, language: str, *,
    values: dict[str, str], errors: list[FieldError] | None = None, status_code: int = 200, notice: str | None = None,
) -> HTMLResponse:
    p = revision.proposal
    errors = errors or []
    by_field: defaultdict[str, str | None] = defaultdict(lambda: None)
    by_field.update({e.name: e.message for e in errors})
    return kit.render(
        request, "intake/screening_revise.html", language=language, status_code=status_code,
        title=translate("intake.revise.title", language, reference=p.reference), revision=revision,
        proposal=p, values=defaultdict(str, values), field_errors=by_field, errors=errors, notice=notice,
        action=f"/intake/p/{p.reference}/revise?{urlencode({'token': token})}", **page_header(p.region),
    )


@router.get("/intake/p/{reference_code}/revise", response_class=HTMLResponse, dependencies=[public])
async def revise_page(
    *, request: Request, reference_code: Reference, kit: PagesDep, reader: ReaderDep, links: LinksDep, token: str = "",
) -> HTMLResponse:
    """The proposer's form, filled with what they wrote, and what the secretariat asked them to change."""
    try:
        revision = await service.get_revision(reference_code, token, reader, links)
    except LINK_REFUSALS as error:
        return _link_refused(kit, request, error, await _proposal_language(request, reference_code, reader))
    p = revision.proposal
    values = {"title": p.title, "population": p.question.population, "intervention": p.question.intervention,
              "comparison": p.question.comparison, "outcome": p.question.outcome, "background": p.background}
    return _render_revise(kit, request, revision, token, choose_language(request, p.language), values=values)


@router.post("/intake/p/{reference_code}/revise", response_class=HTMLResponse, dependencies=[public])
async def post_revise(
    *, request: Request, reference_code: Reference, kit: PagesDep, reader: ReaderDep, uow: UnitOfWorkDep,
    links: LinksDep, token: str = "",
) -> Response:
    """Resubmit under the same reference; the status page shows it as submitted again."""
    language = await _proposal_language(request, reference_code, reader)
    form = await kit.guarded_form(request, language)
    if not isinstance(form, Form):
        return form
    try:
        revision = await service.get_revision(reference_code, token, reader, links)
    except LINK_REFUSALS as error:
        return _link_refused(kit, request, error, language)
    language = choose_language(request, revision.proposal.language)
    values = {name: form.get(name) for name in REVISION_FIELDS}
    if honeypot_filled(form):
        return _render_revise(kit, request, revision, token, language, values=values, status_code=422,
                              notice=translate("form.honeypot.refused", language))
    try:
        RevisionForm.model_validate({k: v for k, v in values.items() if v})
    except ValidationError as error:
        errors = [FieldError(e["field"], translate(f"intake.field.{e['field']}", language), e["message"])
                  for e in field_errors(list(error.errors()), language)]
        return _render_revise(kit, request, revision, token, language, values=values, errors=errors, status_code=422)
    question = EffectQuestion(values["population"], values["intervention"], values["comparison"], values["outcome"])
    command = service.ResubmitProposal(reference_code, token, values["title"], question, values["background"])
    try:
        result = await service.resubmit_proposal(command, uow, links)
    except (RevisionLinkInvalid, RevisionLinkExpired, RevisionLinkUsed) as error:
        return _link_refused(kit, request, error, language)
    return RedirectResponse(f"/intake/p/{result.reference}", status_code=303)
