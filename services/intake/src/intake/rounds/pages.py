"""The secretariat's round pages: the region's rounds (/intake/{region}/rounds) and a form to create or edit one
(…/rounds/new, …/rounds/{id}/edit). Plain HTML forms on the staff page kit, every POST CSRF-guarded; the rules are
the round use cases', exactly as the JSON API applies them. Opening and closing are entered as a date and a
wall-clock time in the round's time zone, as the API reads a timestamp without an offset."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from intake.deps import PageLanguageDep, ReaderDep, Region, StaffPagesDep, UnitOfWorkDep, staff_header
from intake.reference import model as reference
from intake.rounds import service
from intake.rounds.api import ROUND_ID, status_label
from intake.rounds.model import DEFAULT_TIME_ZONE, ROUND_LANGUAGES, Round, RoundExists, RoundNotFound
from shared.errors import FieldProblem, InvalidInput
from shared.i18n import translate
from shared.web.access import Secretariat
from shared.web.pages import FieldError, Form, PageKit

router = APIRouter(include_in_schema=False)

# The form's fields, in the order the error summary lists them.
FIELDS = (
    "id", "name", "opens_date", "opens_time", "closes_date", "closes_time", "time_zone", "default_language",
    "committee_meeting_on", "decision_on", "final_report_on", "criteria_set", "capacity_note",
)
DATE_FIELDS = ("committee_meeting_on", "decision_on", "final_report_on")
MAX_LENGTHS = {"name": 200, "time_zone": 64, "capacity_note": 5000}
MIN_NAME = 3
# A rule's field (the use case's, as the API names it) → the form field that shows it.
FORM_FIELD_OF = {"opens_at": "opens_date", "closes_at": "closes_date"}
FIELD_LABELS = {
    "id": "intake.rounds.field.id", "name": "intake.rounds.field.name",
    "opens_date": "intake.rounds.field.opens", "opens_time": "intake.rounds.field.opens",
    "closes_date": "intake.rounds.field.closes", "closes_time": "intake.rounds.field.closes",
    "time_zone": "intake.rounds.field.time_zone", "default_language": "intake.rounds.field.default_language",
    "committee_meeting_on": "intake.round.committee", "decision_on": "intake.round.decision",
    "final_report_on": "intake.round.final-report", "criteria_set": "intake.rounds.field.criteria_set",
    "capacity_note": "intake.rounds.field.capacity_note",
}
DONE = ("created", "saved")
# The form's own rules (the round's rules are the domain's, worded under rule.* beside the JSON API).
PAGE_RULES = ("required", "too-short", "too-long", "date", "time", "round-id", "round-id-taken")
RoundId = Annotated[str, PathParam(pattern=ROUND_ID)]


def field_label(name: str, language: str) -> str:
    return translate(FIELD_LABELS.get(name, name), language, default=name)


def problem_message(problem: FieldProblem, language: str) -> str:
    """The rule in the user's language; a milestone rule names the earlier milestone by its label."""
    params = dict(problem.params)
    if "previous" in params:
        params["previous"] = field_label(FORM_FIELD_OF.get(str(params["previous"]), str(params["previous"])),
                                         language).lower()
    key = f"intake.rounds.rule.{problem.rule}" if problem.rule in PAGE_RULES else f"rule.{problem.rule}"
    return translate(key, language, default=problem.message, **params)


@dataclass
class Parsed:
    """The form read as RoundFields, or the problems that kept it from being read."""

    fields: service.RoundFields | None
    problems: list[FieldProblem]


def _problem(name: str, rule: str, message: str, **params: Any) -> FieldProblem:
    return FieldProblem(name, rule, message, params)


def _date(text: str) -> date | None:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _time(text: str) -> time | None:
    if not re.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?", text):
        return None
    try:
        return time.fromisoformat(text.zfill(5) if len(text) == 4 else text)
    except ValueError:
        return None


def _moment(values: dict[str, str], prefix: str, problems: list[FieldProblem]) -> datetime | None:
    """The date and time fields `<prefix>_date` and `<prefix>_time` as one wall-clock time."""
    day_text, time_text = values[f"{prefix}_date"], values[f"{prefix}_time"]
    day = clock = None
    if not day_text:
        problems.append(_problem(f"{prefix}_date", "required", "required"))
    else:
        day = _date(day_text)
        if day is None:
            problems.append(_problem(f"{prefix}_date", "date", "must be a date (YYYY-MM-DD)"))
    if not time_text:
        problems.append(_problem(f"{prefix}_time", "required", "required"))
    else:
        clock = _time(time_text)
        if clock is None:
            problems.append(_problem(f"{prefix}_time", "time", "must be a time (HH:MM)"))
    return datetime.combine(day, clock) if day and clock else None


def _text_problems(values: dict[str, str], new: bool) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if new and values["id"] and not re.fullmatch(ROUND_ID, values["id"]):
        problems.append(_problem("id", "round-id", "lowercase letters, digits and hyphens, 3 to 80"))
    name = values["name"]
    if not name:
        problems.append(_problem("name", "required", "required"))
    elif len(name) < MIN_NAME:
        problems.append(_problem("name", "too-short", f"at least {MIN_NAME} characters", min=MIN_NAME))
    for field_name, limit in MAX_LENGTHS.items():
        if len(values[field_name]) > limit:
            problems.append(_problem(field_name, "too-long", f"at most {limit} characters", max=limit))
    return problems


def parse_form(values: dict[str, str], *, new: bool) -> Parsed:
    """Every field checked at once; the rules of rounds themselves are left to the use cases."""
    problems = _text_problems(values, new)
    opens_at, closes_at = _moment(values, "opens", problems), _moment(values, "closes", problems)
    days: dict[str, date | None] = {}
    for field_name in DATE_FIELDS:
        days[field_name] = _date(values[field_name]) if values[field_name] else None
        if values[field_name] and days[field_name] is None:
            problems.append(_problem(field_name, "date", "must be a date (YYYY-MM-DD)"))
    if opens_at is None or closes_at is None:
        return Parsed(None, problems)
    fields = service.RoundFields(
        name=values["name"], opens_at=opens_at, closes_at=closes_at,
        time_zone=values["time_zone"] or DEFAULT_TIME_ZONE, default_language=values["default_language"],
        committee_meeting_on=days["committee_meeting_on"], decision_on=days["decision_on"],
        final_report_on=days["final_report_on"], criteria_set=values["criteria_set"] or None,
        capacity_note=values["capacity_note"],
    )
    if problems:
        # The form's own problems and the round's rules together: one error summary, not two rounds of it.
        problems += fields.to_round("form", "form").problems()
    return Parsed(fields, problems)


def round_values(round_: Round) -> dict[str, str]:
    """An existing round as the form shows it: the window in the round's own zone."""
    opens, closes = round_.opens_at.astimezone(round_.zone()), round_.closes_at.astimezone(round_.zone())
    return {
        "id": round_.id, "name": round_.name, "opens_date": opens.date().isoformat(),
        "opens_time": opens.strftime("%H:%M"), "closes_date": closes.date().isoformat(),
        "closes_time": closes.strftime("%H:%M"), "time_zone": round_.time_zone,
        "default_language": round_.default_language,
        **{name: (day.isoformat() if (day := getattr(round_, name)) else "") for name in DATE_FIELDS},
        "criteria_set": round_.criteria_set or "", "capacity_note": round_.capacity_note,
    }


def new_values() -> dict[str, str]:
    return defaultdict(str, {"time_zone": DEFAULT_TIME_ZONE, "default_language": "nb", "opens_time": "08:00",
                             "closes_time": "23:59", "criteria_set": service.DEFAULT_CRITERIA_SET})


def field_errors(problems: Sequence[FieldProblem], language: str) -> list[FieldError]:
    """One error per form field, first rule first, in the form's order."""
    found: dict[str, FieldError] = {}
    for problem in problems:
        name = FORM_FIELD_OF.get(problem.field, problem.field)
        if name not in FIELDS:
            name = "name"
        found.setdefault(name, FieldError(name, field_label(name, language), problem_message(problem, language)))
    return sorted(found.values(), key=lambda e: FIELDS.index(e.name))


def _context(region: str) -> dict[str, Any]:
    return staff_header(region) | {"rounds_url": f"/intake/{region}/rounds", "new_url": f"/intake/{region}/rounds/new"}


def _not_found(kit: PageKit, request: Request, region: str, language: str) -> HTMLResponse:
    return kit.error_page(
        request, language=language, status_code=404, title_key="page.error.not-found.title",
        message_key="page.error.not-found.message", **_context(region),
    )


def _criteria_label(round_: Round, language: str) -> str:
    found = reference.criteria_set(round_.criteria_set)
    return reference.label(found.labels, language) if found else (round_.criteria_set or "")


@router.get("/intake/{region}/rounds", response_class=HTMLResponse)
async def rounds_page(
    *, request: Request, region: Region, principal: Secretariat, kit: StaffPagesDep, reader: ReaderDep,
    language: PageLanguageDep,
) -> HTMLResponse:
    """The region's rounds by opening time: status, window in Europe/Oslo, milestones and criteria set."""
    now = datetime.now(UTC)
    found = await service.list_rounds(region, reader, now=now)
    rows = [
        {"round": r, "status": r.status_at(now).value, "status_label": status_label(r.status_at(now), language),
         "criteria_label": _criteria_label(r, language), "edit_url": f"/intake/{region}/rounds/{r.id}/edit"}
        for r in found
    ]
    done = request.query_params.get("done")
    done_round = next((r for r in found if r.id == request.query_params.get("round")), None)
    confirmation = (translate(f"intake.rounds.done.{done}", language, name=done_round.name)
                    if done in DONE and done_round else None)
    return kit.render(
        request, "intake/rounds_list.html", language=language, title=translate("intake.rounds.title", language),
        rows=rows, confirmation=confirmation, **_context(region),
    )


def _render_form(
    kit: PageKit, request: Request, region: str, language: str, values: dict[str, str], *,
    round_: Round | None = None, errors: Sequence[FieldError] = (), status_code: int = 200,
) -> HTMLResponse:
    by_field: defaultdict[str, str | None] = defaultdict(lambda: None)
    by_field.update({e.name: e.message for e in errors})
    title = (translate("intake.rounds.edit.title", language, name=round_.name) if round_
             else translate("intake.rounds.new.title", language))
    return kit.render(
        request, "intake/rounds_form.html", language=language, status_code=status_code, title=title,
        new=round_ is None, values=defaultdict(str, values), errors=list(errors), field_errors=by_field,
        action=f"/intake/{region}/rounds/{round_.id}/edit" if round_ else f"/intake/{region}/rounds/new",
        criteria_options=[{"value": c.code, "label": reference.label(c.labels, language)}
                          for c in reference.criteria_sets().values()],
        language_options=[{"value": code, "label": translate(f"intake.rounds.language.{code}", language)}
                          for code in ROUND_LANGUAGES],
        **_context(region),
    )


def _invalid(
    kit: PageKit, request: Request, region: str, language: str, values: dict[str, str], *,
    problems: Sequence[FieldProblem], round_: Round | None = None,
) -> HTMLResponse:
    return _render_form(kit, request, region, language, values, round_=round_,
                        errors=field_errors(problems, language), status_code=422)


@router.get("/intake/{region}/rounds/new", response_class=HTMLResponse)
async def new_round_page(
    request: Request, region: Region, principal: Secretariat, kit: StaffPagesDep, language: PageLanguageDep,
) -> HTMLResponse:
    """The form for a new round: Oslo time, Bokmål and the default criteria set filled in."""
    return _render_form(kit, request, region, language, new_values())


@router.post("/intake/{region}/rounds/new", response_class=HTMLResponse)
async def post_new_round(
    *, request: Request, region: Region, principal: Secretariat, kit: StaffPagesDep, uow: UnitOfWorkDep,
    language: PageLanguageDep,
) -> Response:
    """Create the round through the use case; the list with a confirmation, or the form with its errors."""
    form = await kit.guarded_form(request, language, **_context(region))
    if not isinstance(form, Form):
        return form
    values = {name: form.get(name) for name in FIELDS}
    parsed = parse_form(values, new=True)
    if parsed.problems or parsed.fields is None:
        return _invalid(kit, request, region, language, values, problems=parsed.problems)
    try:
        created = await service.create_round(service.CreateRound(region, parsed.fields, values["id"] or None), uow)
    except InvalidInput as error:
        return _invalid(kit, request, region, language, values, problems=error.problems)
    except RoundExists:
        return _invalid(kit, request, region, language, values,
                        problems=[_problem("id", "round-id-taken", "a round with this id exists")])
    return RedirectResponse(f"/intake/{region}/rounds?done=created&round={created.id}", status_code=303)


@router.get("/intake/{region}/rounds/{round_id}/edit", response_class=HTMLResponse)
async def edit_round_page(
    *, request: Request, region: Region, round_id: RoundId, principal: Secretariat, kit: StaffPagesDep,
    reader: ReaderDep, language: PageLanguageDep,
) -> HTMLResponse:
    """The round's settings in the form, its window in its own time zone."""
    round_ = await service.round_in_region(round_id, region, reader)
    if round_ is None:
        return _not_found(kit, request, region, language)
    return _render_form(kit, request, region, language, round_values(round_), round_=round_)


@router.post("/intake/{region}/rounds/{round_id}/edit", response_class=HTMLResponse)
async def post_edit_round(
    *, request: Request, region: Region, round_id: RoundId, principal: Secretariat, kit: StaffPagesDep,
    reader: ReaderDep, uow: UnitOfWorkDep, language: PageLanguageDep,
) -> Response:
    """Save the round through the use case; its id and region stay."""
    form = await kit.guarded_form(request, language, **_context(region))
    if not isinstance(form, Form):
        return form
    round_ = await service.round_in_region(round_id, region, reader)
    if round_ is None:
        return _not_found(kit, request, region, language)
    values = {name: form.get(name) for name in FIELDS} | {"id": round_.id}
    parsed = parse_form(values, new=False)
    if parsed.problems or parsed.fields is None:
        return _invalid(kit, request, region, language, values, problems=parsed.problems, round_=round_)
    try:
        await service.update_round(service.UpdateRound(round_.id, parsed.fields), uow)
    except InvalidInput as error:
        return _invalid(kit, request, region, language, values, problems=error.problems, round_=round_)
    except RoundNotFound:
        return _not_found(kit, request, region, language)
    return RedirectResponse(f"/intake/{region}/rounds?done=saved&round={round_.id}", status_code=303)
