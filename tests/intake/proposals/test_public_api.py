"""What anyone may read: a proposal's status by reference, similar questions, and the reference lists."""

from datetime import UTC, datetime

from intake.proposals import service as proposal_service
from intake.proposals.model import HistoryEntry, ProposalState
from intake.uow import IntakeReader
from tests.intake.helpers import proposal, uow_for


async def submit(intake, **changes) -> dict:
    response = await intake.post("/api/intake/v1/proposals", json=proposal(**changes))
    assert response.status_code == 201, response.text
    return response.json()


async def test_public_status_shows_the_history_and_no_personal_data(intake):
    created = await submit(intake, service_area="sykehjem", theme="demens_behandling")
    response = await intake.get(f"/api/intake/v1/proposals/by-reference/{created['reference']}", params={"lang": "nn"})
    assert response.status_code == 200
    status = response.json()
    assert status["reference"] == created["reference"] and status["round_name"] == "Open"
    assert (status["status"], status["status_label"]) == ("submitted", "Motteke")
    assert (status["service_area_label"], status["theme_label"]) == ("Sjukeheim", "Demens – behandling")
    assert [(h["event"], h["status"], h["status_label"]) for h in status["history"]] == [
        ("submitted", "submitted", "Motteke")
    ]
    assert "Kari" not in response.text and "example.no" not in response.text


async def test_public_status_names_a_merge_by_the_other_proposals_reference(intake):
    first, second = await submit(intake), await submit(intake, title="Sansehage mot uro i sjukeheim")
    # Screening comes with a later issue; its history rows are written here as it will write them.
    async with uow_for(intake) as uow:
        await uow.proposals.add_history(
            second["id"], HistoryEntry(datetime.now(UTC), "merged", ProposalState.MERGED, "Same question"),
            related_proposal_id=first["id"],
        )
        await uow.commit()
    status = (await intake.get(second["status_url"], params={"lang": "en"})).json()
    expected = {
        "event": "merged", "status": "merged", "status_label": "Merged into another proposal",
        "note": "Same question", "related_reference": first["reference"],
    }
    last = status["history"][-1]
    assert {key: last[key] for key in expected} == expected


async def test_a_reference_is_found_whatever_its_case_and_an_unknown_one_is_not(intake):
    created = await submit(intake)
    lower = await intake.get(f"/api/intake/v1/proposals/by-reference/{created['reference'].lower()}")
    assert lower.status_code == 200
    missing = await intake.get("/api/intake/v1/proposals/by-reference/VEST-1999-0001")
    assert missing.status_code == 404 and missing.json()["type"].endswith("/proposal-not-found")


async def test_similar_proposals_are_ranked_by_shared_words(intake):
    dementia = await submit(intake, title="Sansehage og musikkterapi mot uro ved demens")
    await submit(
        intake, title="Velferdsteknologi for heimebuande eldre",
        question={"population": "Heimebuande eldre", "intervention": "Digitalt tilsyn",
                  "comparison": "Vanlege heimebesøk", "outcome": "Kostnad og tryggleik"},
    )
    partly = await submit(
        intake, title="Lysterapi på sjukeheim",
        question={"population": "Bebuarar på sjukeheim", "intervention": "Lysterapi",
                  "comparison": "", "outcome": "Betre søvn"},
    )
    response = await intake.get(
        "/api/intake/v1/regions/vest/similar", params={"q": "Musikkterapi mot uro og agitasjon ved demens", "limit": 5}
    )
    assert response.status_code == 200
    found = response.json()
    references = [p["reference"] for p in found["proposals"]]
    assert references[0] == dementia["reference"]
    assert partly["reference"] not in references[:1]
    assert all(p["score"] > 0 for p in found["proposals"])
    assert found["proposals"][0]["status_url"] == dementia["status_url"]
    # The delivered 2019 summary on dementia comes up too, so nobody orders it twice.
    assert found["summaries"][0]["code"] == "fhi-2019-demens-miljoterapi"
    assert found["summaries"][0]["url"].startswith("https://www.fhi.no/")


async def test_similar_looks_only_in_the_region_and_ignores_stop_words(intake):
    await submit(intake, title="Sansehage og musikkterapi mot uro ved demens")
    other_region = await intake.get("/api/intake/v1/regions/nord/similar", params={"q": "musikkterapi demens"})
    assert other_region.json()["proposals"] == []
    only_stop_words = await intake.get("/api/intake/v1/regions/vest/similar", params={"q": "og i på for med"})
    assert only_stop_words.json() == {"proposals": [], "summaries": []}


async def test_honey_on_wounds_finds_the_delivered_wound_summary(intake):
    found = (await intake.get("/api/intake/v1/regions/vest/similar", params={"q": "Honning på sår"})).json()
    assert [s["code"] for s in found["summaries"]] == ["fhi-2019-sarbehandling"]
    assert found["summaries"][0]["product_label"] == "Oppsummering av eksisterende litteratur"


async def test_reference_lists_follow_the_date_and_language(intake):
    before = (await intake.get("/api/intake/v1/reference", params={"date": "2019-10-01", "lang": "nn"})).json()
    after = (await intake.get("/api/intake/v1/reference", params={"date": "2020-01-01", "lang": "en"})).json()
    numbers_2019 = {m["number"]: m["name"] for m in before["municipalities"]}
    numbers_2020 = {m["number"]: m["name"] for m in after["municipalities"]}
    assert numbers_2019["1256"] == "Meland" and "4631" not in numbers_2019
    assert numbers_2020["4631"] == "Alver" and "1256" not in numbers_2020
    assert [u["code"] for u in before["units"]] == ["usht-hordaland"]
    assert {u["code"] for u in after["units"]} == {"usht-hordaland", "usht-vestland"}
    assert before["language"] == "nn" and {"code": "sykehjem", "label": "Sjukeheim"} in before["service_areas"]
    assert {"code": "sovn", "label": "Sleep"} in after["themes"]
    sets = {s["code"]: s for s in after["criteria_sets"]}
    assert len(sets["runde1-2019"]["criteria"]) == 10
    assert [c["code"] for c in sets["prioritering"]["criteria"] if c["inverse"]] == ["ressurser"]
    assert (sets["prioritering"]["min"], sets["prioritering"]["max"]) == (1, 5)


async def test_reference_lists_default_to_today(intake):
    today = (await intake.get("/api/intake/v1/reference")).json()
    assert today["language"] == "nb" and "4601" in {m["number"] for m in today["municipalities"]}


async def test_the_use_case_returns_the_status_without_the_proposer(intake):
    created = await submit(intake)
    reader = IntakeReader(intake.app.state.runtime.database)
    status = await proposal_service.get_public_status(created["reference"], reader)
    assert status.proposal.proposer is None and status.history[0].event == "submitted"
