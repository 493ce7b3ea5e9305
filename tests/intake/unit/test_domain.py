"""Intake's domain: round and proposal rules, reference data, state labels and similarity. No I/O."""

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from intake.proposals.api import state_label
from intake.proposals.model import (
    EffectQuestion,
    Origin,
    ProposalState,
    Proposer,
    check_classification,
    check_consent,
    check_decision,
    check_origin,
    check_self_assessment,
    format_reference,
)
from intake.proposals.service import SubmitProposal
from intake.proposals.similarity import rank, tokens
from intake.reference import model as reference
from intake.reference.model import municipality_valid_on
from intake.rounds.api import status_label as round_status_label
from intake.rounds.model import Round, RoundStatus, in_zone
from shared.errors import InvalidInput


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


# --- Rounds: rules --------------------------------------------------------------------------------------------------

AUTUMN_2019 = Round(
    "vest-2019-haust", "vest", "Haust 2019", datetime(2019, 8, 14, 22, tzinfo=UTC),
    datetime(2019, 9, 26, 21, 59, tzinfo=UTC), default_language="nn", time_zone="Europe/Oslo",
    committee_meeting_on=date(2019, 10, 22), decision_on=date(2019, 11, 7), final_report_on=date(2019, 12, 6),
    criteria_set="prioritering",
)


def rules(round_: Round) -> dict[str, str]:
    return {p.field: p.rule for p in round_.problems()}


def test_the_autumn_2019_timeline_is_a_valid_round():
    assert AUTUMN_2019.problems() == []
    AUTUMN_2019.validate()


def test_a_round_closes_after_it_opens():
    assert rules(replace(AUTUMN_2019, closes_at=AUTUMN_2019.opens_at)) == {"closes_at": "closes-before-opens"}


def test_milestones_follow_each_other_from_the_close_date():
    assert rules(replace(AUTUMN_2019, committee_meeting_on=date(2019, 9, 25))) == {
        "committee_meeting_on": "date-before-previous-milestone"
    }
    # The same day as the deadline is allowed (in the round's zone: 23:59 in Oslo is still 26 September).
    assert rules(replace(AUTUMN_2019, committee_meeting_on=date(2019, 9, 26))) == {}
    assert rules(replace(AUTUMN_2019, decision_on=date(2019, 10, 21))) == {
        "decision_on": "date-before-previous-milestone"
    }
    assert rules(replace(AUTUMN_2019, final_report_on=date(2019, 11, 6))) == {
        "final_report_on": "date-before-previous-milestone"
    }
    # A missing milestone is skipped: the decision is then compared with the close date.
    assert rules(replace(AUTUMN_2019, committee_meeting_on=None, decision_on=date(2019, 9, 30))) == {}


def test_time_zone_language_and_criteria_set_must_be_known():
    broken = replace(AUTUMN_2019, time_zone="Europe/Bergen", default_language="en", criteria_set="magefølelse")
    assert rules(broken) == {
        "time_zone": "unknown-time-zone", "default_language": "unknown-language",
        "criteria_set": "unknown-criteria-set",
    }
    with pytest.raises(InvalidInput) as raised:
        broken.validate()
    assert raised.value.status == 422 and len(raised.value.problems) == 3


def test_a_round_without_an_offset_is_read_in_its_own_zone():
    assert in_zone(datetime(2019, 9, 26, 23, 59), "Europe/Oslo") == datetime(2019, 9, 26, 21, 59, tzinfo=UTC)
    assert in_zone(datetime(2019, 12, 1, 12, 0), "Europe/Oslo") == datetime(2019, 12, 1, 11, 0, tzinfo=UTC)
    assert in_zone(datetime(2019, 12, 1, 12, tzinfo=UTC), "Europe/Oslo") == datetime(2019, 12, 1, 12, tzinfo=UTC)


# --- Proposals: rules ----------------------------------------------------------------------------------------------


def test_a_proposal_comes_from_exactly_one_municipality_or_unit():
    day = date(2019, 10, 1)
    assert check_origin("1256", None, day) == (Origin("1256", None, "1256"), [])
    unit, problems = check_origin(None, "usht-hordaland", day)
    assert problems == [] and unit == Origin(None, "usht-hordaland", "4601")
    assert [p.rule for p in check_origin("1256", "usht-hordaland", day)[1]] == ["municipality-or-unit"]
    assert [p.rule for p in check_origin(None, None, day)[1]] == ["municipality-or-unit"]
    assert [(p.field, p.rule) for p in check_origin("4631", None, day)[1]] == [("municipality", "unknown-municipality")]
    # USHT Vestland exists from 2020.
    assert [(p.field, p.rule) for p in check_origin(None, "usht-vestland", day)[1]] == [("unit", "unknown-unit")]


def test_service_area_and_theme_are_reference_codes_when_given():
    assert check_classification(None, None) == []
    assert check_classification("barn_og_unge", "barnevern") == []
    assert [(p.field, p.rule) for p in check_classification("romfart", "astrologi")] == [
        ("service_area", "unknown-service-area"), ("theme", "unknown-theme"),
    ]


def test_self_assessment_uses_the_rounds_criteria_on_a_one_to_five_scale():
    assert check_self_assessment(AUTUMN_2019, {"nytte": 1, "ressurser": 5, "alvorlighet": 3}) == []
    found = check_self_assessment(AUTUMN_2019, {"nytte": 0, "utbredelse": 3, "alvorlighet": 6})
    assert [(p.field, p.rule) for p in found] == [
        ("self_assessment.nytte", "score-out-of-range"), ("self_assessment.utbredelse", "unknown-criterion"),
        ("self_assessment.alvorlighet", "score-out-of-range"),
    ]
    without_criteria = replace(AUTUMN_2019, criteria_set=None)
    assert [p.rule for p in check_self_assessment(without_criteria, {"nytte": 3})] == ["unknown-criterion"]


def test_consent_and_decision_rules():
    assert [(p.field, p.rule) for p in check_consent(False)] == [("consent", "consent-required")]
    assert check_consent(True) == []
    assert check_decision("", None) == [] and check_decision("Budsjett 2027", None) == []
    assert check_decision("Budsjett 2027", date(2026, 12, 10)) == []
    assert [(p.field, p.rule) for p in check_decision(" ", date(2026, 12, 10))] == [
        ("decision.text", "decision-text-required")
    ]


def test_state_codes_are_stable_and_labelled_in_three_languages():
    assert [s.value for s in ProposalState] == [
        "submitted", "needs_completion", "needs_reformulation", "accepted", "answered_by_existing", "rejected",
        "merged", "carried_over",
    ]
    for state in ProposalState:
        labels = {state_label(state, language) for language in ("nb", "nn", "en")}
        assert all(labels) and state.value not in labels
    assert state_label("answered_by_existing", "nb") == "Besvart med eksisterende kunnskap"
    assert state_label("future_state", "nn") == "future_state"
    assert round_status_label("open", "nb") == "Åpen"


# --- Reference data ------------------------------------------------------------------------------------------------


def test_criteria_sets_are_data_with_labels_help_and_direction():
    sets = reference.criteria_sets()
    assert set(sets) >= {"runde1-2019", "prioritering"}
    assert len(sets["runde1-2019"].criteria) == 10
    assert sets["prioritering"].codes() == ("nytte", "ressurser", "alvorlighet")
    assert [c.code for c in sets["prioritering"].criteria if c.inverse] == ["ressurser"]
    for criteria in sets.values():
        for criterion in criteria.criteria:
            assert set(criterion.labels) == set(criterion.help) == {"nb", "nn", "en"}
            assert all(criterion.labels.values()) and all(criterion.help.values())


def test_reference_lists_have_every_label_and_units_have_hosts():
    for items in (reference.service_areas(), reference.themes()):
        for item in items.values():
            assert all(item.label(language) for language in ("nb", "nn", "en"))
    assert len(reference.service_areas()) == 9 and len(reference.themes()) == 15
    for unit in reference.units().values():
        assert reference.municipalities()[unit.host_municipality].valid_on(date(2026, 1, 1))
    assert [m.name for m in reference.municipalities_valid_on(date(2019, 6, 1)) if m.name in ("Meland", "Alver")] == [
        "Meland"
    ]


# --- Similarity ----------------------------------------------------------------------------------------------------


def test_tokens_are_lowercase_words_without_punctuation_or_stop_words():
    assert tokens("Effekt av SANSEHAGE, musikkterapi og lysterapi på uro?") == {
        "sansehage", "musikkterapi", "lysterapi", "uro",
    }


def test_ranking_prefers_more_shared_words_and_keeps_order_on_ties():
    candidates = [
        ("a", "Velferdsteknologi i heimetenesta"),
        ("b", "Musikkterapi mot uro ved demens"),
        ("c", "Musikkterapi for born"),
        ("d", "Musikkterapi i sjukeheim"),
    ]
    ranked = rank("musikkterapi mot uro ved demens i sjukeheim", candidates, limit=3)
    assert [r.item for r in ranked] == ["b", "d", "c"]
    assert ranked[0].score > ranked[1].score > 0
    assert rank("og i på", candidates, limit=3) == []
