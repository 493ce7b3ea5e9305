"""Scoring's candidates: plain Python."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Candidate:
    """A proposal the committee can score; scoring's own copy, built from `proposal.submitted`."""

    proposal_id: str
    reference: str
    region: str
    round_id: str
    municipality_number: str
    title: str
    submitted_at: datetime
