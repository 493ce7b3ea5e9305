"""Notify's domain: the delivery log and the receipts it sends. Plain Python, no frameworks.

The log proves what was sent without keeping whom it was sent to: it stores a hash of the address.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

LANGUAGES = ("nb", "nn")
DEFAULT_LANGUAGE = "nb"


class DeliveryKind(StrEnum):
    RECEIPT = "receipt"
    STATUS_NOTICE = "status_notice"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"


@dataclass(frozen=True)
class Delivery:
    """One message to one recipient, in the delivery log. Its id names the mail on the wire and on disk."""

    id: str
    proposal_id: str
    kind: DeliveryKind
    recipient_hash: str
    status: DeliveryStatus
    created_at: datetime
    sent_at: datetime | None = None
    # What caused the message: for a status notice, the id of the event that changed the state, so each change
    # is told once; a receipt has one per proposal and recipient, and leaves it empty.
    cause_id: str = ""


@dataclass(frozen=True)
class Receipt:
    """What a proposer's receipt says, and to whom. Held in memory only; repr hides the personal data."""

    proposal_id: str
    reference: str
    title: str
    language: str
    recipient_name: str = field(repr=False)
    recipient_email: str = field(repr=False)


@dataclass(frozen=True)
class StatusNotice:
    """What a proposer is told when their proposal's state changes. Held in memory only; repr hides personal data."""

    proposal_id: str
    reference: str
    title: str
    language: str
    status: str
    previous_status: str
    note: str
    revise_url: str | None
    cause_event_id: str
    recipient_name: str = field(repr=False)
    recipient_email: str = field(repr=False)


# Intake's stable state codes as a proposer reads them (notify keeps its own copy: services share no code).
STATUS_LABELS: dict[str, dict[str, str]] = {
    "submitted": {"nb": "Mottatt", "nn": "Motteke"},
    "needs_completion": {"nb": "Mangler opplysninger", "nn": "Manglar opplysningar"},
    "needs_reformulation": {"nb": "Må omformuleres", "nn": "Må omformulerast"},
    "accepted": {"nb": "Egnet, går videre til vurdering", "nn": "Eigna, går vidare til vurdering"},
    "answered_by_existing": {"nb": "Besvart med eksisterende kunnskap", "nn": "Svara med eksisterande kunnskap"},
    "rejected": {"nb": "Avslått", "nn": "Avslått"},
    "merged": {"nb": "Slått sammen med et annet forslag", "nn": "Slått saman med eit anna forslag"},
    "carried_over": {"nb": "Overført til neste runde", "nn": "Overført til neste runde"},
}


def status_label(status: str, language: str) -> str:
    """The state's label in Bokmål or Nynorsk; a code notify does not know yet is shown as itself."""
    labels = STATUS_LABELS.get(status)
    return labels[receipt_language(language)] if labels else status


def recipient_hash(email: str) -> str:
    """The SHA-256 hex digest of the lower-cased address: the same recipient always hashes the same."""
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


def receipt_language(language: str) -> str:
    """Bokmål or Nynorsk as the proposer wrote; anything else gets Bokmål."""
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def single_line(text: str) -> str:
    """Collapse line breaks and runs of whitespace, so event text cannot add or break a mail header."""
    return " ".join(text.split())


_UNSAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9-]+")


def mail_file_name(reference: str, delivery_id: str) -> str:
    """`<reference>-<delivery id>.eml`: fixed per delivery, so sending it again overwrites the same file."""
    safe_reference = _UNSAFE_IN_FILE_NAME.sub("_", reference).strip("_") or "receipt"
    safe_id = _UNSAFE_IN_FILE_NAME.sub("_", delivery_id)
    return f"{safe_reference}-{safe_id}.eml"


def message_id(delivery_id: str, domain: str, kind: str = "receipt") -> str:
    """A Message-ID fixed per delivery, so a resent copy is recognisably the same message."""
    return f"<{kind.replace('_', '-')}-{delivery_id}@{domain}>"
