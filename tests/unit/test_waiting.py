"""Why mail waits, in words: the zone the wait is kept in, the hour, the date when far off."""

from __future__ import annotations

from datetime import UTC, datetime

from services.advisory.desk.i18n import translations
from services.advisory.desk.waits import REASON_WORDS, says
from shared.messages import Wait
from shared.waiting import REASONS, explain

NOW = datetime(2027, 1, 15, 14, 30, tzinfo=UTC)


def test_quiet_hours_end_at_the_customers_own_hour() -> None:
    wait = Wait(
        reason="quiet",
        until=datetime(2027, 1, 15, 23, tzinfo=UTC),
        timezone="Asia/Tokyo",
        deliveries=1,
    )
    assert explain(wait, NOW) == "waiting: quiet hours until 08:00 Asia/Tokyo (1 delivery)"


def test_a_wait_of_days_names_the_date_and_one_already_over_is_due_now() -> None:
    capped = Wait(reason="cap", until=datetime(2027, 1, 20, 9, 5, tzinfo=UTC), deliveries=4)
    assert explain(capped, NOW) == (
        "waiting: the cap on routine mail until 2027-01-20 09:05 UTC (4 deliveries)"
    )
    over = Wait(reason="retry", until=NOW, deliveries=2)
    assert explain(over, NOW) == (
        "waiting: a retry after the relay said to try later, due again now (2 deliveries)"
    )


def test_an_unknown_zone_is_read_as_utc() -> None:
    wait = Wait(
        reason="quiet",
        until=datetime(2027, 1, 15, 23, tzinfo=UTC),
        timezone="Mars/Olympus",
        deliveries=3,
    )
    assert explain(wait, NOW) == "waiting: quiet hours until 23:00 UTC (3 deliveries)"


def test_the_desks_say_each_reason_in_english_as_the_api_does_and_in_japanese() -> None:
    """The console and the portal word waits through their catalogue; English is the API's."""
    english, japanese = translations("en"), translations("ja")
    assert set(REASON_WORDS) == set(REASONS)
    quiet = Wait(
        reason="quiet",
        until=datetime(2027, 1, 15, 23, tzinfo=UTC),
        timezone="Asia/Tokyo",
        deliveries=3,
    )
    for wait in (quiet, Wait(reason="retry", until=NOW, deliveries=1)):
        assert says(wait, NOW, english) == explain(wait, NOW)
    assert says(quiet, NOW, japanese) == "待機中：夜間の配信休止時間（Asia/Tokyo 08:00 まで、3 件）"
    capped = Wait(reason="cap", until=NOW, deliveries=1)
    assert says(capped, NOW, japanese) == "待機中：通常のお知らせの送信上限（まもなく再開、1 件）"
