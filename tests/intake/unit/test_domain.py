from datetime import UTC, date, datetime

import pytest

from intake.domain.model import EffectQuestion, Proposer, Round, RoundStatus, format_reference
from intake.domain.municipalities import municipality_valid_on
from intake.service.use_cases import SubmitProposal


def test_reference_is_region_year_and_four_digit_sequence():
    assert format_reference("vest", 2026, 1) == "VEST-2026-0001"
    assert format_reference("vest", 2026, 12345) == "VEST-2026-12345"


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2019, 8, 14, tzinfo=UTC), RoundStatus.PLANNED),
        (datetime(2019, 8, 15, tzinfo=UTC), RoundStatus.OPEN),
        (datetime(2019, 9, 25, 23, 59, tzinfo=UTC), RoundStatus.OPEN),
        (datetime(2019, 9, 26, tzinfo=UTC), RoundStatus.CLOSED),
    ],
)
def test_round_opens_and_closes_by_the_clock(now, expected):
    round_ = Round("r", "vest", "Haust 2019", datetime(2019, 8, 15, tzinfo=UTC), datetime(2019, 9, 26, tzinfo=UTC))
    assert round_.status_at(now) is expected


def test_municipality_numbers_follow_the_2020_mergers():
    assert municipality_valid_on("1256", date(2019, 10, 1)).name == "Meland"
    assert municipality_valid_on("1256", date(2020, 1, 1)) is None
    assert municipality_valid_on("4631", date(2020, 1, 1)).name == "Alver"
    assert municipality_valid_on("4631", date(2019, 12, 31)) is None
    assert municipality_valid_on("1243", date(2019, 5, 1)).successor == "4624"


def test_idempotency_fingerprint_ignores_the_key_but_not_the_content():
    question = EffectQuestion("Eldre", "Velferdsteknologi", "Vanlege tenester", "Kostnad")
    a = SubmitProposal("vest", "r", "4601", "Tittel", question, "", Proposer("Kari", "k@example.no"), "nb", "key-1")
    b = SubmitProposal("vest", "r", "4601", "Tittel", question, "", Proposer("Kari", "k@example.no"), "nb", "key-2")
    c = SubmitProposal("vest", "r", "4601", "Annan tittel", question, "", Proposer("Kari", "k@example.no"), "nb")
    assert a.fingerprint() == b.fingerprint()
    assert a.fingerprint() != c.fingerprint()
