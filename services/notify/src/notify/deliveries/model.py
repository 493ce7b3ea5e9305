"""Notify's deliveries: the delivery log, and the receipts and status notices it sends. Plain Python.

The log proves what was sent without keeping whom it was sent to: it stores a hash of the address.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

# The languages notify writes in; a proposer whose language is anything else is written to in Bokmål.
LANGUAGES = ("nb", "nn", "en")
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


def recipient_hash(email: str) -> str:
    """The SHA-256 hex digest of the lower-cased address: the same recipient always hashes the same."""
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


def mail_language(language: str) -> str:
    """Bokmål, Nynorsk or English as the proposer chose; anything else gets Bokmål."""
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
