"""Rounds and their announcements, on in-memory fakes: no database, no broker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from intake.rounds import service
from shared.contracts.subjects import ROUND_CLOSED, ROUND_OPENED
from tests.intake.unit.fakes import IntakeFakes

NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)


async def test_a_round_is_announced_when_it_opens_and_when_it_closes_once_each() -> None:
    fakes = IntakeFakes()
    fields = service.RoundFields("Våren 2027", NOW + timedelta(days=1), NOW + timedelta(days=30))
    await service.create_round(service.CreateRound("vest", fields, "vest-2027-var"), fakes, now=NOW)
    assert await service.announce_round_changes(NOW, fakes) == service.Announcements((), ())
    opened = await service.announce_round_changes(NOW + timedelta(days=2), fakes)
    again = await service.announce_round_changes(NOW + timedelta(days=3), fakes)
    closed = await service.announce_round_changes(NOW + timedelta(days=31), fakes)
    assert (opened.opened, again.opened, closed.closed) == (("vest-2027-var",), (), ("vest-2027-var",))
    assert len(fakes.published(ROUND_OPENED)) == 1 and len(fakes.published(ROUND_CLOSED)) == 1


async def test_a_round_registered_after_its_window_is_a_record_not_news() -> None:
    fakes = IntakeFakes()
    fields = service.RoundFields("Hausten 2019", datetime(2019, 8, 15, tzinfo=UTC), datetime(2019, 9, 26, tzinfo=UTC))
    await service.create_round(service.CreateRound("vest", fields, "vest-2019-haust"), fakes, now=NOW)
    assert await service.announce_round_changes(NOW, fakes) == service.Announcements((), ())
    assert fakes.events == []
