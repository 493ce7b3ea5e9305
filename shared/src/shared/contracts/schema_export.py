"""Generate the committed JSON Schemas and the AsyncAPI document from the contract models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shared.contracts import ingest
from shared.contracts.envelope import CloudEvent
from shared.contracts.subjects import CONSUMERS, EVENT_SPECS

SCHEMA_DIR = Path(__file__).parent / "schemas"


def event_schema(event_type: str) -> dict[str, Any]:
    """The JSON Schema of one event type, envelope included."""
    spec = EVENT_SPECS[event_type]
    schema = CloudEvent[spec.model].model_json_schema(mode="validation")  # type: ignore[name-defined]
    schema["title"] = event_type
    schema["$id"] = f"https://kunnskapsportalen.no/schemas/{event_type}.json"
    schema["properties"]["type"] = {"const": event_type, "type": "string"}
    return schema


def asyncapi_document() -> dict[str, Any]:
    """An AsyncAPI 3.0 document naming every channel, message and the consumers of each."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for event_type, spec in sorted(EVENT_SPECS.items()):
        key = event_type.replace(".", "_")
        channels[key] = {
            "address": spec.subject_pattern,
            "parameters": {"region": {"description": "The region token, e.g. vest"}},
            "messages": {key: {"$ref": f"#/components/messages/{key}"}},
        }
        operations[f"publish_{key}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{key}"},
            "summary": f"{spec.service} publishes on stream {spec.stream}",
        }
    for consumer in CONSUMERS:
        for event_type, spec in EVENT_SPECS.items():
            if spec.stream == consumer.stream and _matches(consumer.filter_subject, spec.subject("x")):
                key = event_type.replace(".", "_")
                operations[consumer.durable] = {
                    "action": "receive",
                    "channel": {"$ref": f"#/channels/{key}"},
                    "summary": consumer.description,
                }
    messages = {
        event_type.replace(".", "_"): {
            "name": event_type,
            "contentType": "application/cloudevents+json",
            "payload": {"$ref": f"./{event_type}.json"},
        }
        for event_type in sorted(EVENT_SPECS)
    }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Kunnskapsportalen events", "version": "1"},
        "defaultContentType": "application/cloudevents+json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def _matches(pattern: str, subject: str) -> bool:
    p, s = pattern.split("."), subject.split(".")
    if len(p) != len(s):
        return False
    return all(a in ("*", b) for a, b in zip(p, s, strict=True))


def rendered() -> dict[str, str]:
    """File name → text of every generated document."""
    files = {f"{t}.json": json.dumps(event_schema(t), indent=2, sort_keys=True) + "\n" for t in EVENT_SPECS}
    files["asyncapi.json"] = json.dumps(asyncapi_document(), indent=2, sort_keys=True) + "\n"
    # The public contract for other regions' systems: its own envelope, schema and AsyncAPI document.
    files[f"{ingest.INGEST_PROPOSAL_TYPE}.json"] = json.dumps(ingest.event_schema(), indent=2, sort_keys=True) + "\n"
    files["ingest-asyncapi.json"] = json.dumps(ingest.asyncapi_document(), indent=2, sort_keys=True) + "\n"
    return files


def write() -> list[Path]:
    """Write the generated documents into the repository."""
    SCHEMA_DIR.mkdir(exist_ok=True)
    written = []
    for name, text in rendered().items():
        path = SCHEMA_DIR / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write():
        print(path)
