"""Demo data for the embedded default: region `vest` with one open round. Demo users live in the
registry's code (its dev login lists them), so nothing here creates people."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from intake.rounds.model import Round
from intake.rounds.service import save_round
from intake.settings import IntakeSettings
from intake.tables import inbox, outbox
from intake.uow import IntakeUnitOfWork
from shared.db import Database

DEMO_REGION = "vest"
DEMO_ROUND_ID = "vest-demo"


def demo_round(now: datetime) -> Round:
    """A round that is open now and for the next three months, so the demo always accepts proposals."""
    closes_at = (now + timedelta(days=90)).replace(microsecond=0)
    # The autumn 2019 round's rhythm: committee about four weeks after the deadline, decision two weeks later.
    committee_on = closes_at.date() + timedelta(days=26)
    return Round(
        id=DEMO_ROUND_ID,
        region=DEMO_REGION,
        name="Demorunde Kunnskapskommunen Helse Omsorg Vest",
        opens_at=datetime(now.year, 1, 1, tzinfo=UTC),
        closes_at=closes_at,
        default_language="nn",
        time_zone="Europe/Oslo",
        committee_meeting_on=committee_on,
        decision_on=committee_on + timedelta(days=16),
        final_report_on=committee_on + timedelta(days=45),
        criteria_set="prioritering",
        capacity_note="2–3 kunnskapsoppsummeringar frå FHI per runde",
    )


async def seed_demo(settings: IntakeSettings | None = None) -> Round:
    """Create or refresh the demo round; idempotent."""
    settings = settings or IntakeSettings()
    database = Database(settings.database_url)
    try:
        round_ = demo_round(datetime.now(UTC))
        await save_round(round_, IntakeUnitOfWork(database, outbox, inbox))
        return round_
    finally:
        await database.dispose()
