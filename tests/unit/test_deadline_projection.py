"""The projected finish of an advisory's mail against its deliver_by (lifecycle/deadline.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec

from services.advisory.lifecycle.deadline import project, says

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_the_overall_rate_bounds_a_spread_audience() -> None:
    # 10,000 mails over many domains at 200/s overall, 50/s per domain: 50 s overall, the
    # largest domain (1,000 mails) 20 s.
    by_domain = {f"d{i}.example": 1_000 for i in range(10)}
    p = project(
        start=NOW, waiting=10_000, by_domain=by_domain, overall=200, per_domain=50, deliver_by=None
    )
    assert p.finish == NOW + timedelta(seconds=50)
    assert p.met is None and p.needed_per_second is None


def test_the_slowest_domain_bounds_a_concentrated_audience() -> None:
    # 9,000 of 10,000 at one domain: 180 s at 50/s, longer than 50 s at 200/s overall.
    by_domain = {"docomo.ne.jp": 9_000, "example.com": 1_000}
    deadline = NOW + timedelta(minutes=5)
    p = project(
        start=NOW,
        waiting=10_000,
        by_domain=by_domain,
        overall=200,
        per_domain=50,
        deliver_by=deadline,
    )
    assert p.finish == NOW + timedelta(seconds=180)
    assert p.met is True and p.slowest_domain == "docomo.ne.jp"
    assert p.needed_per_second is None and p.needed_per_domain is None


def test_a_missed_deadline_names_the_rates_that_would_meet_it() -> None:
    by_domain = {"docomo.ne.jp": 9_000, "example.com": 1_000}
    deadline = NOW + timedelta(seconds=60)
    p = project(
        start=NOW,
        waiting=10_000,
        by_domain=by_domain,
        overall=200,
        per_domain=50,
        deliver_by=deadline,
    )
    assert p.finish == NOW + timedelta(seconds=180) and p.met is False
    # The domain: 9,000 in 60 s is 150/s. Overall: 10,000 in 60 s is 166.67/s, under 200: not
    # the bound, so 0.
    assert p.needed_per_domain == 150.0
    assert p.needed_per_second == 0.0


def test_needed_rates_round_up_so_they_do_meet_it() -> None:
    deadline = NOW + timedelta(seconds=3)
    p = project(
        start=NOW,
        waiting=10,
        by_domain={"a.example": 10},
        overall=1,
        per_domain=0,
        deliver_by=deadline,
    )
    assert p.met is False and p.needed_per_second == 3.34 and p.needed_per_domain == 0.0
    assert 10 / p.needed_per_second <= 3


def test_a_passed_deadline_has_no_rate_that_meets_it() -> None:
    p = project(
        start=NOW,
        waiting=5,
        by_domain={},
        overall=1,
        per_domain=1,
        deliver_by=NOW - timedelta(seconds=1),
    )
    assert p.met is False and p.needed_per_second is None and p.needed_per_domain is None


def test_no_limits_and_nothing_waiting_finish_at_once() -> None:
    unlimited = project(
        start=NOW,
        waiting=1_000_000,
        by_domain={"a.example": 1_000_000},
        overall=0,
        per_domain=0,
        deliver_by=NOW,
    )
    assert unlimited.finish == NOW and unlimited.met is True
    empty = project(start=NOW, waiting=0, by_domain={}, overall=200, per_domain=50, deliver_by=NOW)
    assert empty.finish == NOW and empty.met is True


def test_an_estimate_without_domains_is_bounded_by_the_overall_rate() -> None:
    deadline = NOW + timedelta(seconds=10)
    p = project(
        start=NOW, waiting=4_000, by_domain={}, overall=200, per_domain=50, deliver_by=deadline
    )
    assert p.finish == NOW + timedelta(seconds=20) and p.met is False
    assert p.needed_per_second == 400.0 and p.needed_per_domain == 0.0


def test_the_projection_in_plain_words() -> None:
    by_domain = {"docomo.ne.jp": 9_000, "example.com": 1_000}
    late = project(
        start=NOW,
        waiting=10_000,
        by_domain=by_domain,
        overall=200,
        per_domain=50,
        deliver_by=NOW + timedelta(seconds=60),
    )
    assert says(late) == (
        "deliver_by 2026-12-07 12:01:00 UTC will be missed: all sent by 2026-12-07 12:03:00 UTC;"
        " meeting it needs 150 per second per domain (docomo.ne.jp)"
    )
    in_time = msgspec.structs.replace(late, met=True, deliver_by=NOW + timedelta(hours=1))
    assert says(in_time) == (
        "deliver_by 2026-12-07 13:00:00 UTC will be met: all sent by 2026-12-07 12:03:00 UTC"
    )


def test_nothing_waiting_after_the_deadline_is_nothing_to_miss() -> None:
    late = NOW + timedelta(hours=1)
    p = project(start=late, waiting=0, by_domain={}, overall=200, per_domain=50, deliver_by=NOW)
    assert p.met is True and p.finish == late
