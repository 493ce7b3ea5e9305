"""The public contract for other regions' systems: a proposal submission, its CloudEvent and its channel.

Unlike the internal events (source `/kp/<service>`), these come from outside: the source is
`/regions/<region>/<system>` and the type is `kp.ingest.proposal.v1`. The internal envelope stays
strict; this module validates the external one. Submissions carry the proposer's name and e-mail:
they travel only on KP_INGEST (short retention) and are stored only in intake's database.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator
from pydantic_core import PydanticCustomError

from shared.contracts.streams import INGEST
from shared.contracts.subjects import INGEST_PROPOSAL_SUBJECT, INGEST_PROPOSAL_V1, INTAKE_INGEST_PROPOSAL

INGEST_PROPOSAL_TYPE = "kp.ingest.proposal.v1"
STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
REGION_PATTERN = r"^[a-z][a-z0-9-]{1,30}$"
# /regions/<region>/<system>: which region's which system sent it (the system name is the region's choice).
SOURCE_PATTERN = r"^/regions/[a-z][a-z0-9-]{1,30}/[A-Za-z0-9._-]{1,64}$"
SCHEMA_BASE = "https://kunnskapsportalen.no/schemas/"


class IngestContract(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)


class SubmissionQuestion(IngestContract):
    """The question along population, intervention, comparison and outcome (PICO)."""

    population: str = Field(min_length=3, max_length=2000, description="Who: the patients or users concerned")
    intervention: str = Field(min_length=3, max_length=2000, description="What measure or practice")
    comparison: str = Field(default="", max_length=2000, description="Compared with what (may be empty)")
    outcome: str = Field(min_length=3, max_length=2000, description="Which effect matters")


class SubmissionDecision(IngestContract):
    """An upcoming decision the knowledge is needed for."""

    text: str = Field(default="", max_length=2000)
    date: dt.date | None = None


class SubmissionProposer(IngestContract):
    """Personal data: used to send the proposer a receipt, never published in a domain event."""

    name: str = Field(min_length=2, max_length=200)
    email: EmailStr


class ProposalSubmissionV1(IngestContract):
    """A proposal submitted through another region's own system."""

    model_config = ConfigDict(json_schema_extra={"oneOf": [{"required": ["municipality"]}, {"required": ["unit"]}]})

    external_id: str = Field(
        min_length=1, max_length=120, pattern=r"^\S+$",
        description="The region's own id for the submission; the same id is never taken twice",
    )
    region: str = Field(pattern=REGION_PATTERN, description="The region code, e.g. vest")
    round: str = Field(min_length=1, max_length=80, description="The round's id in Kunnskapsportalen")
    municipality: str | None = Field(
        default=None, pattern=r"^[0-9]{4}$", description="The municipality's official number (SSB)"
    )
    unit: str | None = Field(
        default=None, max_length=40, description="A non-municipal unit's code (e.g. usht-hordaland), instead"
    )
    department: str = Field(default="", max_length=200, description="Agency or department (etat)")
    service_area: str | None = Field(default=None, max_length=60, description="Service area code")
    theme: str | None = Field(default=None, max_length=60, description="Theme or purpose code")
    title: str = Field(min_length=5, max_length=200)
    question: SubmissionQuestion
    background: str = Field(default="", max_length=10000)
    decision: SubmissionDecision | None = None
    proposer: SubmissionProposer
    consent: bool = Field(
        description="The proposer agreed, in the region's system, to the storing of the proposal and their contact "
        "details; a submission without it is quarantined",
    )
    self_assessment: dict[str, int] = Field(
        default_factory=dict, description="The proposer's own scores against the round's criteria (code → 1..5)"
    )
    language: Literal["nb", "nn"] = "nb"
    submitted_at: dt.datetime | None = Field(default=None, description="When the proposer submitted it, if known")

    @model_validator(mode="after")
    def _municipality_or_unit(self) -> ProposalSubmissionV1:
        if bool(self.municipality) == bool(self.unit):
            raise PydanticCustomError(
                "municipality-or-unit", "give either a municipality number (SSB) or a unit, not both or neither"
            )
        return self


class ProposalSubmissionEventV1(IngestContract):
    """A CloudEvents 1.0 structured envelope around one submission."""

    specversion: Literal["1.0"]
    id: str = Field(min_length=1, max_length=200, description="Unique per source (CloudEvents)")
    source: str = Field(pattern=SOURCE_PATTERN, description="/regions/<region>/<system>")
    type: Literal["kp.ingest.proposal.v1"]
    subject: str | None = Field(default=None, max_length=120, description="The external id, if given")
    time: dt.datetime | None = None
    region: str | None = Field(default=None, pattern=REGION_PATTERN, description="Extension attribute")
    datacontenttype: Literal["application/json"] = "application/json"
    data: ProposalSubmissionV1

    def source_region(self) -> str:
        return self.source.split("/")[2]


def ingest_subject(region: str) -> str:
    """The subject a region publishes its submissions to."""
    return INGEST_PROPOSAL_SUBJECT.format(region=region)


def event_schema() -> dict[str, Any]:
    """The JSON Schema of the ingest CloudEvent, submission included."""
    schema = ProposalSubmissionEventV1.model_json_schema(mode="validation")
    schema["title"] = INGEST_PROPOSAL_TYPE
    schema["$id"] = f"{SCHEMA_BASE}{INGEST_PROPOSAL_TYPE}.json"
    return schema


def asyncapi_document() -> dict[str, Any]:
    """An AsyncAPI 3.0 document for the channel other regions publish to."""
    key = INGEST_PROPOSAL_TYPE.replace(".", "_")
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Kunnskapsportalen ingestion from other regions",
            "version": "1",
            "description": (
                "Other regions' systems submit proposals as CloudEvents. Invalid submissions are quarantined "
                "with their reasons for the region's secretariat; the same external_id is never taken twice."
            ),
        },
        "defaultContentType": STRUCTURED,
        "channels": {
            key: {
                "address": INGEST_PROPOSAL_SUBJECT,
                "description": f"Captured by stream {INGEST}; read by the durable {INTAKE_INGEST_PROPOSAL.durable} "
                f"({INGEST_PROPOSAL_V1})",
                "parameters": {"region": {"description": "The sending region's code, e.g. nord"}},
                "messages": {key: {"$ref": f"#/components/messages/{key}"}},
            }
        },
        "operations": {
            f"publish_{key}": {
                "action": "send",
                "channel": {"$ref": f"#/channels/{key}"},
                "summary": "A region's system publishes one submission per message, with Nats-Msg-Id = the event id",
            },
            INTAKE_INGEST_PROPOSAL.durable: {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{key}"},
                "summary": INTAKE_INGEST_PROPOSAL.description,
            },
        },
        "components": {
            "messages": {
                key: {
                    "name": INGEST_PROPOSAL_TYPE,
                    "contentType": STRUCTURED,
                    "payload": {"$ref": f"./{INGEST_PROPOSAL_TYPE}.json"},
                }
            }
        },
    }
