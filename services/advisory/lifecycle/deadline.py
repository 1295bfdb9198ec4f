"""Whether an advisory's mail can all go out by its `deliver_by`, at the configured send rates.

Pure logic, no I/O. The mailer sends at most `overall` mails a second in all and `per_domain`
a second to one recipient domain (0: no limit, as the mailer reads them). What waits takes
the longer of two times: all of it at the overall rate, and the largest domain's share at
the domain rate; the slowest domain bounds the finish.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import msgspec

from shared.config import Settings


class Projection(msgspec.Struct, frozen=True, kw_only=True):
    """When the waiting mail will have gone out, and whether that meets the deadline."""

    finish: datetime
    deliver_by: datetime | None
    met: bool | None  # None: the advisory has no deadline
    # Not met: the rates that would just meet it (sends a second; 0: that limit is not the
    # bound). None: the deadline has passed, so no rate meets it.
    needed_per_second: float | None = None
    needed_per_domain: float | None = None
    slowest_domain: str = ""  # the domain with the most mail waiting


def seconds_to_send(count: int, rate: float) -> float:
    """How long `count` mails take at `rate` a second; no time without a limit."""
    return count / rate if rate > 0 and count > 0 else 0.0


def at_send_rates(
    settings: Settings,
    *,
    start: datetime,
    waiting: int,
    by_domain: Mapping[str, int],
    deliver_by: datetime | None,
) -> Projection:
    """`project` at the configured send rates (overall and per recipient domain)."""
    return project(
        start=start,
        waiting=waiting,
        by_domain=by_domain,
        overall=settings.send_rate_per_second,
        per_domain=settings.send_rate_per_domain,
        deliver_by=deliver_by,
    )


def project(
    *,
    start: datetime,
    waiting: int,
    by_domain: Mapping[str, int],
    overall: float,
    per_domain: float,
    deliver_by: datetime | None,
) -> Projection:
    """The finish of `waiting` mails sent from `start` (`by_domain`: their split by domain).

    `by_domain` may be empty (an estimate before publication knows no domains): then only
    the overall rate bounds the finish.
    """
    slowest, largest = max(by_domain.items(), key=lambda kv: (kv[1], kv[0]), default=("", 0))
    seconds = max(seconds_to_send(waiting, overall), seconds_to_send(largest, per_domain))
    finish = start + timedelta(seconds=seconds)
    if deliver_by is None:
        return Projection(finish=finish, deliver_by=None, met=None, slowest_domain=slowest)
    # Nothing left to send is nothing left to miss, even after the deadline.
    if finish <= deliver_by or waiting <= 0:
        return Projection(finish=finish, deliver_by=deliver_by, met=True, slowest_domain=slowest)
    left = (deliver_by - start).total_seconds()
    if left <= 0:
        return Projection(finish=finish, deliver_by=deliver_by, met=False, slowest_domain=slowest)
    too_slow_overall = seconds_to_send(waiting, overall) > left
    too_slow_domain = seconds_to_send(largest, per_domain) > left
    return Projection(
        finish=finish,
        deliver_by=deliver_by,
        met=False,
        needed_per_second=_rate_up(waiting / left) if too_slow_overall else 0.0,
        needed_per_domain=_rate_up(largest / left) if too_slow_domain else 0.0,
        slowest_domain=slowest,
    )


def _rate_up(rate: float) -> float:
    """A rate rounded up to hundredths, so that it does meet the deadline."""
    return math.ceil(rate * 100) / 100


def says(p: Projection) -> str:
    """The projection in plain words, times in UTC."""
    finish = f"all sent by {_utc(p.finish)}"
    if p.deliver_by is None:
        return finish
    if p.met:
        return f"deliver_by {_utc(p.deliver_by)} will be met: {finish}"
    missed = f"deliver_by {_utc(p.deliver_by)} will be missed: {finish}"
    if p.needed_per_second is None or p.needed_per_domain is None:
        return f"{missed}; the deadline has passed"
    needs = []
    if p.needed_per_second:
        needs.append(f"{p.needed_per_second:g} per second overall")
    if p.needed_per_domain:
        needs.append(f"{p.needed_per_domain:g} per second per domain ({p.slowest_domain})")
    return f"{missed}; meeting it needs {' and '.join(needs)}"


def _utc(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
