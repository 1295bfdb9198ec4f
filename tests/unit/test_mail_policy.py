"""The mailer's policy as pure logic: urgency, quiet hours, the cap and its digest."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from services.mailer.policy import Due, Rules, plan, quiet_hours, quiet_until
from shared.messages import Priority

NOW = datetime(2027, 1, 15, 12, 30, tzinfo=UTC)  # 21:30 Tokyo, 13:30 Paris, 07:30 New York
QUIET = (time(21), time(8))


def test_quiet_hours_parse_and_reject_nonsense() -> None:
    assert quiet_hours("21-08") == (time(21), time(8))
    assert quiet_hours("22:30-06:15") == (time(22, 30), time(6, 15))
    assert quiet_hours("") is None and quiet_hours("off") is None
    with pytest.raises(ValueError, match="quiet hours"):
        quiet_hours("evening")


def test_quiet_hours_end_at_eight_in_each_customers_own_zone() -> None:
    assert quiet_until(NOW, "Asia/Tokyo", QUIET) == datetime(2027, 1, 15, 23, tzinfo=UTC)
    assert quiet_until(NOW, "America/New_York", QUIET) == datetime(2027, 1, 15, 13, tzinfo=UTC)
    assert quiet_until(NOW, "Europe/Paris", QUIET) is None
    assert quiet_until(NOW, "Not/AZone", QUIET) is None  # unknown: UTC, 12:30
    assert quiet_until(NOW, "Asia/Tokyo", None) is None
    # A window inside one day, and the summer time of New York (UTC-4).
    day = (time(12), time(14))
    summer = datetime(2027, 7, 1, 16, 30, tzinfo=UTC)
    assert quiet_until(summer, "America/New_York", day) == datetime(2027, 7, 1, 18, tzinfo=UTC)


def _due(advisory: str, recipient: str, priority: int, tz: str = "UTC") -> Due:
    return Due(advisory, recipient, priority, tz)


def test_disaster_and_recall_bypass_quiet_hours_and_the_cap_and_go_first() -> None:
    due = [
        _due("short", "one@example.jp", Priority.SHORT_TERM, "Asia/Tokyo"),
        _due("recall", "one@example.jp", Priority.RECALL, "Asia/Tokyo"),
        _due("quake", "two@example.jp", Priority.DISASTER, "Asia/Tokyo"),
    ]
    full = {"one@example.jp": [NOW - timedelta(hours=h) for h in range(3)]}
    result = plan(due, full, NOW, Rules(cap=3, quiet=QUIET))
    assert result.mails == [[2], [1]]
    assert result.deferred == [(0, datetime(2027, 1, 15, 23, tzinfo=UTC), "quiet")]


def test_the_cap_folds_the_excess_into_one_digest() -> None:
    due = [_due(f"a{n}", "one@example.jp", Priority.SHORT_TERM) for n in range(5)]
    one_sent = {"one@example.jp": [NOW - timedelta(days=1)]}
    result = plan(due, one_sent, NOW, Rules(cap=3, quiet=None))
    assert result.mails == [[0], [1, 2, 3, 4]]  # two mails: the cap of three is reached
    assert result.deferred == []
    # Room for exactly as many as are due: no digest.
    assert plan(due[:2], one_sent, NOW, Rules(cap=3, quiet=None)).mails == [[0], [1]]


def test_a_full_cap_defers_until_the_oldest_mail_leaves_the_period() -> None:
    sent = [NOW - timedelta(days=6), NOW - timedelta(days=2), NOW - timedelta(days=1)]
    result = plan(
        [_due("a", "one@example.jp", Priority.LONG_TERM)],
        {"one@example.jp": sent},
        NOW,
        Rules(cap=3),
    )
    assert result.mails == []
    assert result.deferred == [(0, NOW + timedelta(days=1), "cap")]
    # With four in the period and a cap of three, two must age out first.
    sent.append(NOW - timedelta(hours=1))
    result = plan(
        [_due("a", "one@example.jp", Priority.LONG_TERM)],
        {"one@example.jp": sent},
        NOW,
        Rules(cap=3),
    )
    assert result.deferred == [(0, NOW + timedelta(days=5), "cap")]


def test_a_cap_of_zero_means_no_cap() -> None:
    due = [_due(f"a{n}", "one@example.jp", Priority.LONG_TERM) for n in range(4)]
    sent = {"one@example.jp": [NOW] * 10}
    assert plan(due, sent, NOW, Rules(cap=0, quiet=None)).mails == [[0], [1], [2], [3]]


def test_two_disasters_of_one_playbook_are_two_mails_never_capped_nor_digested() -> None:
    due = [
        Due("quake", "one@example.jp", Priority.DISASTER, "Asia/Tokyo", "eq-1"),
        Due("quake", "one@example.jp", Priority.DISASTER, "Asia/Tokyo", "eq-2"),
        _due("short", "one@example.jp", Priority.SHORT_TERM),
        _due("long", "one@example.jp", Priority.LONG_TERM),
    ]
    full = {"one@example.jp": [NOW - timedelta(hours=h) for h in range(3)]}
    result = plan(due, full, NOW, Rules(cap=3, quiet=QUIET))
    assert result.mails == [[0], [1]]
    assert [(i, why) for i, _, why in result.deferred] == [(2, "cap"), (3, "cap")]
    # With room for one routine mail only, the routine two are folded, the disasters are not.
    result = plan(due, {}, NOW, Rules(cap=1, quiet=None))
    assert result.mails == [[0], [1], [2, 3]]
