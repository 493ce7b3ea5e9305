"""Stream names, their subjects and limits: one stream per producing service, never sharing subjects."""

from __future__ import annotations

from dataclasses import dataclass

INTAKE = "KP_INTAKE"
SCORING = "KP_SCORING"
ORDERING = "KP_ORDERING"
REGISTRY = "KP_REGISTRY"
NOTIFY = "KP_NOTIFY"
INGEST = "KP_INGEST"
CONTACTS = "KP_CONTACTS"
DLQ = "KP_DLQ"

DAY = 24 * 3600.0


@dataclass(frozen=True)
class StreamSpec:
    """What the bootstrap step creates or updates; services never declare streams themselves."""

    name: str
    subjects: tuple[str, ...]
    max_age_seconds: float
    duplicate_window_seconds: float = 120.0
    description: str = ""


STREAMS: tuple[StreamSpec, ...] = (
    StreamSpec(INTAKE, ("kp.intake.>",), 365 * DAY, description="Rounds and proposals"),
    StreamSpec(SCORING, ("kp.scoring.>",), 365 * DAY, description="Criteria, scores and rankings"),
    StreamSpec(ORDERING, ("kp.ordering.>",), 365 * DAY, description="Decisions, orders and deliveries"),
    StreamSpec(REGISTRY, ("kp.registry.>",), 365 * DAY, description="Directory, projects, knowledge needs"),
    StreamSpec(NOTIFY, ("kp.notify.>",), 90 * DAY, description="Notifications sent"),
    StreamSpec(INGEST, ("kp.ingest.>",), 30 * DAY, description="Submissions from other regions' systems"),
    # Contact details exist only so notify can reach a person: keep them for days, not a year.
    StreamSpec(CONTACTS, ("kp.contacts.>",), 7 * DAY, description="Contact details, short retention"),
    StreamSpec(
        DLQ,
        (
            "kp.dlq.>",
            # The server's own notice that a consumer gave up on a message after max_deliver,
            "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.>",
            # and that a consumer terminated one (it is never redelivered): neither is dropped silently.
            "$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.>",
        ),
        90 * DAY,
        description="Dead letters: messages that could not be handled, with the reason",
    ),
)


def stream_for_subject(subject: str) -> str:
    """The stream that captures a published subject (kp.<service>.… → KP_<SERVICE>)."""
    token = subject.split(".")[1]
    name = f"KP_{token.upper()}"
    if name not in {s.name for s in STREAMS}:
        raise ValueError(f"no stream captures subject {subject!r}")
    return name
