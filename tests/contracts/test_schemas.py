"""The event contracts: committed schemas are current, models are tolerant readers, subjects are in order."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any, get_args, get_origin

import pytest
from pydantic import BaseModel, ValidationError

from shared.contracts import events
from shared.contracts.envelope import CloudEvent, envelope
from shared.contracts.schema_export import SCHEMA_DIR, rendered
from shared.contracts.streams import DLQ, INGEST, STREAMS, stream_for_subject
from shared.contracts.subjects import CONSUMERS, EVENT_SPECS, INGEST_PROPOSAL_SUBJECT, PROPOSAL_SUBMITTED

REGENERATE = ".venv/bin/python -m shared.contracts.schema_export"


def test_committed_schemas_equal_the_generated_ones() -> None:
    expected = rendered()
    committed = {path.name: path.read_text(encoding="utf-8") for path in SCHEMA_DIR.glob("*.json")}
    missing = sorted(set(expected) - set(committed))
    stale = sorted(name for name in set(expected) & set(committed) if committed[name] != expected[name])
    extra = sorted(set(committed) - set(expected))
    assert not (missing or stale or extra), (
        f"the committed schemas in {SCHEMA_DIR} are out of date (missing: {missing}, changed: {stale}, "
        f"no longer generated: {extra}). Regenerate them with `{REGENERATE}` (delete the ones no longer "
        "generated), check that a change within a version only adds optional fields, and commit them."
    )


def _models(model: type[BaseModel], seen: set[type[BaseModel]] | None = None) -> set[type[BaseModel]]:
    """The model and every model reachable through its fields."""
    seen = set() if seen is None else seen
    if model in seen:
        return seen
    seen.add(model)
    for field in model.model_fields.values():
        stack: list[Any] = [field.annotation]
        while stack:
            annotation = stack.pop()
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                _models(annotation, seen)
            elif get_origin(annotation) is not None:
                stack.extend(get_args(annotation))
    return seen


ALL_MODELS = sorted(
    set().union(*(_models(spec.model) for spec in EVENT_SPECS.values()), _models(CloudEvent)),
    key=lambda m: m.__name__,
)


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_every_event_model_is_frozen_and_ignores_unknown_fields(model: type[BaseModel]) -> None:
    assert model.model_config.get("frozen") is True, f"{model.__name__} must be frozen"
    assert model.model_config.get("extra") == "ignore", (
        f"{model.__name__} must ignore unknown fields: a producer may add optional fields within a version"
    )


def test_a_reader_tolerates_fields_added_by_a_newer_producer() -> None:
    data = events.ProposalSubmittedV1(
        proposal_id="p-1", reference="VEST-2026-0001", region="vest", round_id="vest-2026",
        municipality_number="4601", title="Fall prevention at home",
        question=events.EffectQuestion(population="Elderly", intervention="Training", outcome="Fewer falls"),
        submitted_at=datetime(2026, 3, 1, 12, tzinfo=UTC),
    )
    body = envelope(service="intake", event_type=PROPOSAL_SUBMITTED.type, subject="p-1", region="vest", data=data)
    body["newattribute"] = "from a newer producer"
    body["data"]["priority"] = "high"
    body["data"]["question"]["setting"] = "home care"

    event = CloudEvent[events.ProposalSubmittedV1].model_validate(body)

    assert event.data == data
    with pytest.raises(ValidationError):
        event.data.title = "changed"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        event.id = "changed"  # type: ignore[misc]


@pytest.mark.parametrize("spec", EVENT_SPECS.values(), ids=lambda s: s.type)
def test_each_event_is_published_under_its_service_or_the_contacts_stream(spec: Any) -> None:
    subject = spec.subject("vest")
    assert subject.startswith((f"kp.{spec.service}.", "kp.contacts.")), subject
    assert spec.type.startswith(f"kp.{spec.service}."), spec.type
    # kp.<service>.<aggregate>.<event>.v<N>  ↔  kp.<service|contacts>.<region>.<aggregate>.<event>.v<N>
    assert subject.split(".")[2] == "vest"
    assert subject.split(".")[3:] == spec.type.split(".")[2:]
    assert spec.stream == stream_for_subject(subject)
    [stream] = [s for s in STREAMS if s.name == spec.stream]
    assert any(_matches(pattern, subject) for pattern in stream.subjects)
    if spec.stream == "KP_CONTACTS":
        assert stream.max_age_seconds <= 30 * 24 * 3600, "contact details are kept for days, not a year"


def test_no_two_streams_share_subjects() -> None:
    names = [s.name for s in STREAMS]
    assert len(names) == len(set(names))
    for a, b in itertools.combinations(STREAMS, 2):
        shared = [(x, y) for x in a.subjects for y in b.subjects if _overlap(x, y)]
        assert not shared, f"{a.name} and {b.name} both capture {shared}"


def test_the_dead_letter_stream_captures_the_servers_advisories() -> None:
    [dlq] = [s for s in STREAMS if s.name == DLQ]
    for kind in ("MAX_DELIVERIES", "MSG_TERMINATED"):
        assert any(_matches(p, f"$JS.EVENT.ADVISORY.CONSUMER.{kind}.KP_INTAKE.some-durable") for p in dlq.subjects)


@pytest.mark.parametrize("consumer", CONSUMERS, ids=lambda c: c.durable)
def test_each_durable_reads_events_its_stream_holds(consumer: Any) -> None:
    [stream] = [s for s in STREAMS if s.name == consumer.stream]
    assert any(_overlap(consumer.filter_subject, pattern) for pattern in stream.subjects)
    published = [(s.stream, s.subject("vest")) for s in EVENT_SPECS.values()]
    # Other regions' systems publish to the ingest channel; its contract is not an internal event.
    published.append((INGEST, INGEST_PROPOSAL_SUBJECT.format(region="vest")))
    delivered = [subject for stream, subject in published
                 if stream == consumer.stream and _matches(consumer.filter_subject, subject)]
    assert delivered, f"{consumer.durable} filters on {consumer.filter_subject}, which no event is published to"
    assert consumer.max_deliver > 1 and consumer.ack_wait_seconds > 0


def _matches(pattern: str, subject: str) -> bool:
    """NATS wildcard matching of a literal subject."""
    p, s = pattern.split("."), subject.split(".")
    for i, token in enumerate(p):
        if token == ">":
            return len(s) > i
        if i >= len(s) or token not in ("*", s[i]):
            return False
    return len(p) == len(s)


def _overlap(a: str, b: str) -> bool:
    """Whether some subject matches both wildcard patterns."""
    x, y = a.split("."), b.split(".")
    for i in range(max(len(x), len(y))):
        if i >= len(x) or i >= len(y):
            return False
        if x[i] == ">" or y[i] == ">":
            return True
        if x[i] != y[i] and "*" not in (x[i], y[i]):
            return False
    return True


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("kp.intake.>", "kp.scoring.>", False),
        ("kp.intake.>", "kp.*.vest.proposal.submitted.v1", True),
        ("kp.>", "kp.intake.x", True),
        ("kp.intake", "kp.intake.>", False),
        ("kp.*.a", "kp.b.*", True),
        ("kp.a.b", "kp.a", False),
    ],
)
def test_the_overlap_check_itself(a: str, b: str, expected: bool) -> None:
    assert _overlap(a, b) is expected
    assert _overlap(b, a) is expected
