"""Whether a submission can be taken, before any database: the ingest contract, the channel's region and the
proposals' own rules that need no round. Pure; shared by every way in and by `kp intake validate`."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError

from intake.ingestion.model import IngestBodyUnreadable, Kind, QuarantineEntry, Reason, content_hash
from intake.proposals.model import check_classification, check_consent, check_decision, check_origin
from shared.contracts.ingest import ProposalSubmissionEventV1, ProposalSubmissionV1
from shared.errors import FieldProblem

# Spreadsheet habits for yes and no; anything else is left for the contract to refuse by name.
_CONSENT = {"ja": "true", "yes": "true", "x": "true", "nei": "false", "no": "false"}
# A submission's field path → the file column it comes from, so a row's reasons name the column.
_COLUMN_OF = {
    "question.population": "population", "question.intervention": "intervention",
    "question.comparison": "comparison", "question.outcome": "outcome", "proposer.name": "proposer_name",
    "proposer.email": "proposer_email", "decision.text": "decision_text", "decision.date": "decision_date",
    "decision": "decision_text", "question": "population", "proposer": "proposer_name",
}


@dataclass(frozen=True)
class Checked:
    submission: ProposalSubmissionV1 | None
    external_id: str | None
    event_id: str | None
    reasons: tuple[Reason, ...] = field(default=())


def submission_hash(submission: ProposalSubmissionV1) -> str:
    return content_hash(submission.model_dump(mode="json"))


def _pydantic_reasons(error: ValidationError, column_names: bool = False) -> list[Reason]:
    """One reason per broken rule, without echoing the values (they may be personal data)."""
    reasons = []
    for e in error.errors(include_input=False, include_url=False):
        loc = [str(part) for part in e["loc"]]
        if e["type"] == "municipality-or-unit":
            loc.append("municipality")
        path = ".".join(loc) or "<root>"
        if column_names:
            path = _COLUMN_OF.get(path, path)
        reasons.append(Reason(path, str(e["type"]), str(e["msg"])))
    return reasons


def problem_reasons(problems: Sequence[FieldProblem], prefix: str = "", column_names: bool = False) -> list[Reason]:
    """The proposals' broken rules as reasons, named as the submission (or the file's column) names the field."""
    return [
        Reason(_COLUMN_OF.get(p.field, p.field) if column_names else f"{prefix}{p.field}", p.rule, p.message)
        for p in problems
    ]


def _reference_reasons(submission: ProposalSubmissionV1, today: date, prefix: str, column_names: bool) -> list[Reason]:
    """The proposal's own rules that need no database (reference lists, consent); rounds are checked later."""
    _, problems = check_origin(submission.municipality, submission.unit, today)
    problems += check_classification(submission.service_area, submission.theme)
    decision = submission.decision
    problems += check_decision(decision.text if decision else "", decision.date if decision else None)
    problems += check_consent(submission.consent)
    return problem_reasons(problems, prefix, column_names)


def _mismatch(field_name: str, given: str | None, region: str) -> list[Reason]:
    if given is None or given == region:
        return []
    return [Reason(field_name, "region_mismatch", f"names region {given!r}, but the submission is for {region!r}")]


def check_event(raw: Any, region: str | None, today: date) -> Checked:
    """Validate a CloudEvent against the ingest contract and the channel's region (None: only self-consistency)."""
    if not isinstance(raw, dict):
        return Checked(None, None, None, (Reason("<event>", "model_type", "a CloudEvent must be a JSON object"),))
    data = raw.get("data")
    external_id = data.get("external_id") if isinstance(data, dict) else None
    event_id = raw.get("id")
    found = Checked(
        None, external_id if isinstance(external_id, str) and external_id else None,
        event_id if isinstance(event_id, str) else None,
    )
    try:
        event = ProposalSubmissionEventV1.model_validate(raw)
    except ValidationError as error:
        return Checked(None, found.external_id, found.event_id, tuple(_pydantic_reasons(error)))
    region = region or event.data.region
    reasons = [
        *_mismatch("source", event.source_region(), region),
        *_mismatch("region", event.region, region),
        *_mismatch("data.region", event.data.region, region),
        *_reference_reasons(event.data, today, "data.", False),
    ]
    return Checked(event.data if not reasons else None, event.data.external_id, event.id, tuple(reasons))


def check_submission(raw: Any, region: str | None, today: date, *, column_names: bool = False) -> Checked:
    """Validate a bare submission (a corrected payload, or a file row already shaped as one)."""
    if not isinstance(raw, dict):
        return Checked(None, None, None, (Reason("<submission>", "model_type", "a submission must be a JSON object"),))
    external_id = raw.get("external_id")
    external_id = external_id if isinstance(external_id, str) and external_id else None
    try:
        submission = ProposalSubmissionV1.model_validate(raw)
    except ValidationError as error:
        return Checked(None, external_id, None, tuple(_pydantic_reasons(error, column_names)))
    reasons = [
        *_mismatch("region", submission.region, region or submission.region),
        *_reference_reasons(submission, today, "", column_names),
    ]
    return Checked(submission if not reasons else None, submission.external_id, None, tuple(reasons))


def row_to_submission(row: Mapping[str, str], region: str | None) -> dict[str, Any]:
    """A file row in the submission's shape; empty cells are left out, so a required one reads as missing."""

    def cell(name: str) -> str | None:
        value = (row.get(name) or "").strip()
        return value or None

    def some(**values: str | None) -> dict[str, str]:
        return {k: v for k, v in values.items() if v is not None}

    submission: dict[str, Any] = some(
        external_id=cell("external_id"), region=cell("region") or region, round=cell("round"),
        municipality=cell("municipality"), unit=cell("unit"), department=cell("department"),
        service_area=cell("service_area"), theme=cell("theme"), title=cell("title"), background=cell("background"),
        language=cell("language"), submitted_at=cell("submitted_at"),
    )
    consent = cell("consent")
    if consent is not None:
        submission["consent"] = _CONSENT.get(consent.lower(), consent)
    submission["question"] = some(
        population=cell("population"), intervention=cell("intervention"), comparison=cell("comparison"),
        outcome=cell("outcome"),
    )
    submission["proposer"] = some(name=cell("proposer_name"), email=cell("proposer_email"))
    decision = some(text=cell("decision_text"), date=cell("decision_date"))
    if decision:
        submission["decision"] = decision
    return submission


def check(kind: Kind, payload: Any, region: str | None, today: date) -> Checked:
    """Validate one arrival of any kind."""
    if kind == "event":
        return check_event(payload, region, today)
    if kind == "submission":
        return check_submission(payload, region, today)
    if kind == "row":
        return check_submission(row_to_submission(payload, region), region, today, column_names=True)
    return Checked(None, None, None, (Reason("<body>", "json_invalid", "the message is not a JSON document"),))


def editable_submission(entry: QuarantineEntry) -> Any:
    """The entry's submission as the secretariat corrects it (PUT takes this shape, or a whole CloudEvent)."""
    if entry.kind == "event" and isinstance(entry.payload, dict):
        return entry.payload.get("data")
    if entry.kind == "row" and isinstance(entry.payload, dict):
        return row_to_submission(entry.payload, entry.region)
    if entry.kind == "submission":
        return entry.payload
    return None


def parse_json_items(content: bytes) -> tuple[list[Any], bool]:
    """A JSON CloudEvent (or bare submission) or a batch (JSON array) of them; (items, is_batch)."""
    try:
        raw = json.loads(content)
    except ValueError:
        raise IngestBodyUnreadable("the body is not JSON") from None
    return (raw, True) if isinstance(raw, list) else ([raw], False)


def json_kind(item: Any) -> Kind:
    return "event" if not isinstance(item, dict) or "specversion" in item else "submission"
