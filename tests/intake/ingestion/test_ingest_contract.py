"""The public ingest contract: tolerant, frozen models; committed schema and AsyncAPI; documented columns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from intake.ingestion.model import COLUMNS, REQUIRED_COLUMNS
from shared.contracts import ingest
from shared.contracts.schema_export import SCHEMA_DIR
from shared.contracts.subjects import CONSUMERS, INTAKE_INGEST_PROPOSAL
from tests.intake.ingestion.conftest import EXAMPLE_EVENT

DOC = Path(__file__).resolve().parents[3] / "docs" / "plug-in-your-region.md"
MODELS = (
    ingest.ProposalSubmissionEventV1, ingest.ProposalSubmissionV1, ingest.SubmissionQuestion,
    ingest.SubmissionDecision, ingest.SubmissionProposer,
)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_ingest_model_is_frozen_and_ignores_unknown_fields(model: type[BaseModel]) -> None:
    assert model.model_config.get("frozen") is True
    assert model.model_config.get("extra") == "ignore"


def test_the_example_event_follows_the_contract_and_a_newer_sender_is_tolerated() -> None:
    raw = json.loads(EXAMPLE_EVENT.read_text(encoding="utf-8"))
    raw["newattribute"] = "x"
    raw["data"]["priority"] = "high"
    event = ingest.ProposalSubmissionEventV1.model_validate(raw)
    assert event.type == ingest.INGEST_PROPOSAL_TYPE and event.source_region() == "vest"
    with pytest.raises(ValidationError):
        event.data.title = "changed"  # type: ignore[misc]


def test_exactly_one_of_municipality_and_unit() -> None:
    data = json.loads(EXAMPLE_EVENT.read_text(encoding="utf-8"))["data"]
    for changes in ({"unit": "usht-hordaland"}, {"municipality": None}):
        with pytest.raises(ValidationError) as error:
            ingest.ProposalSubmissionV1.model_validate(data | changes)
        assert error.value.errors()[0]["type"] == "municipality-or-unit"


def test_the_internal_envelope_is_not_loosened() -> None:
    from shared.contracts.envelope import CloudEvent

    raw = json.loads(EXAMPLE_EVENT.read_text(encoding="utf-8"))
    with pytest.raises(ValidationError):
        CloudEvent[ingest.ProposalSubmissionV1].model_validate(raw)


def test_the_committed_documents_describe_the_ingest_channel() -> None:
    schema = json.loads((SCHEMA_DIR / f"{ingest.INGEST_PROPOSAL_TYPE}.json").read_text(encoding="utf-8"))
    assert schema["$id"].endswith("kp.ingest.proposal.v1.json")
    assert {"specversion", "id", "source", "type", "data"} <= set(schema["required"])
    asyncapi = json.loads((SCHEMA_DIR / "ingest-asyncapi.json").read_text(encoding="utf-8"))
    [channel] = asyncapi["channels"].values()
    assert channel["address"] == "kp.ingest.{region}.proposal.v1"
    assert INTAKE_INGEST_PROPOSAL.durable in asyncapi["operations"]
    assert INTAKE_INGEST_PROPOSAL in CONSUMERS


def test_the_guide_documents_every_file_column() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [c for c in COLUMNS if f"`{c}`" not in text]
    assert not missing, f"docs/plug-in-your-region.md does not describe the columns {missing}"
    assert set(REQUIRED_COLUMNS) <= set(COLUMNS)
