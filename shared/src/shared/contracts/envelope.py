"""The CloudEvents 1.0 envelope every event travels in (structured JSON mode)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import uuid_utils
from pydantic import BaseModel, ConfigDict, Field

EventData = TypeVar("EventData", bound=BaseModel)

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/cloudevents+json"


def new_event_id() -> str:
    """A UUIDv7: unique, and sortable by creation time, which keeps outbox and inbox indexes compact."""
    return str(uuid_utils.uuid7())


class CloudEvent(BaseModel, Generic[EventData]):
    """A CloudEvents 1.0 envelope with the `region` extension attribute."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    specversion: str = SPEC_VERSION
    id: str
    source: str = Field(pattern=r"^/kp/[a-z]+$")
    type: str = Field(pattern=r"^kp\.[a-z]+\.[a-z_]+\.[a-z_]+\.v[0-9]+$")
    subject: str
    time: datetime
    region: str = Field(pattern=r"^[a-z][a-z0-9-]{1,30}$")
    datacontenttype: str = "application/json"
    data: EventData


def envelope(
    *, service: str, event_type: str, subject: str, region: str, data: BaseModel, event_id: str | None = None
) -> dict[str, Any]:
    """Build the JSON-ready envelope for an event's data."""
    return {
        "specversion": SPEC_VERSION,
        "id": event_id or new_event_id(),
        "source": f"/kp/{service}",
        "type": event_type,
        "subject": subject,
        "time": datetime.now(UTC).isoformat(),
        "region": region,
        "datacontenttype": "application/json",
        "data": data.model_dump(mode="json"),
    }
