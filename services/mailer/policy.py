"""Who gets mail now: priorities, the routine cap with its digest, quiet hours. Pure logic."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, time, timedelta

import msgspec

from shared.dates import zone
from shared.messages import Priority, Wait

_QUIET = re.compile(r"^(\d{1,2})(?::(\d{2}))?-(\d{1,2})(?::(\d{2}))?$")


class Due(msgspec.Struct, frozen=True):
    """A claimed delivery as the policy sees it."""

    advisory_id: str
    recipient: str  # the address: one person may shop under several customer ids
    priority: int
    timezone: str
    event_id: str = ""  # a declared disaster; disasters are urgent, so never capped or folded


class Rules(msgspec.Struct, frozen=True, kw_only=True):
    """The configured policy: a cap of routine mails per period, and quiet hours."""

    cap: int = 3
    period: timedelta = timedelta(days=7)
    quiet: tuple[time, time] | None = (time(21), time(8))


class Plan(msgspec.Struct, kw_only=True):
    """What to do with a claim: mails to send now (indexes of deliveries), and what waits."""

    mails: list[list[int]] = []
    deferred: list[tuple[int, datetime, str]] = []  # (index, until, why: 'cap' | 'quiet')


def urgent(priority: int) -> bool:
    """Disasters and recalls bypass the cap and quiet hours."""
    return priority >= Priority.RECALL


def quiet_hours(text: str) -> tuple[time, time] | None:
    """Parse '21-08' or '21:30-07:00' (local start-end); '' or 'off' means none."""
    if text.strip().lower() in ("", "off", "none"):
        return None
    match = _QUIET.match(text.strip())
    if not match:
        raise ValueError(f"quiet hours {text!r} are not like '21-08' or '21:30-07:00'")
    h1, m1, h2, m2 = match.groups()
    return time(int(h1), int(m1 or 0)), time(int(h2), int(m2 or 0))


def quiet_until(now: datetime, tz: str, quiet: tuple[time, time] | None) -> datetime | None:
    """When the quiet hours around `now` end in time zone `tz`; None if it is not quiet there."""
    if quiet is None:
        return None
    start, end = quiet
    local = now.astimezone(zone(tz))
    t = local.time().replace(tzinfo=None)
    inside = start <= t < end if start < end else (t >= start or t < end)
    if not inside:
        return None
    until = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if until <= local:
        until += timedelta(days=1)  # same wall-clock time tomorrow, DST included
    return until.astimezone(now.tzinfo)


def plan(due: Sequence[Due], sent: dict[str, list[datetime]], now: datetime, rules: Rules) -> Plan:
    """Decide the mails of a claim; `sent` lists each recipient's routine mails in the period."""
    result = Plan()
    routine: dict[str, list[int]] = {}
    for i, d in enumerate(due):
        if urgent(d.priority):
            result.mails.append([i])
        else:
            routine.setdefault(d.recipient, []).append(i)
    for recipient, indexes in routine.items():
        until = quiet_until(now, due[indexes[0]].timezone, rules.quiet)
        if until is not None:
            result.deferred += [(i, until, "quiet") for i in indexes]
            continue
        if rules.cap <= 0:  # no cap configured
            result.mails += [[i] for i in indexes]
            continue
        times = sorted(sent.get(recipient, []))
        room = rules.cap - len(times)
        if room <= 0:
            # The next slot opens when enough of the period's mails have aged out of it.
            opens = max(times[len(times) - rules.cap] + rules.period, now)
            result.deferred += [(i, opens, "cap") for i in indexes]
        elif len(indexes) <= room:
            result.mails += [[i] for i in indexes]
        else:
            # Keep one slot for a digest that folds everything beyond the cap.
            result.mails += [[i] for i in indexes[: room - 1]]
            result.mails.append(indexes[room - 1 :])
    result.mails.sort(key=lambda mail: (-max(due[i].priority for i in mail), mail[0]))
    return result


def waits(due: Sequence[Due], result: Plan) -> list[Wait]:
    """What a plan holds back, per reason and time zone, with the earliest end of the wait."""
    groups: dict[tuple[str, str], Wait] = {}
    for i, until, why in result.deferred:
        zone_name = due[i].timezone if why == "quiet" else "UTC"
        wait = groups.get((why, zone_name))
        if wait is None:
            groups[why, zone_name] = Wait(reason=why, until=until, timezone=zone_name, deliveries=1)
        else:
            wait.until = min(wait.until, until)
            wait.deliveries += 1
    return sorted(groups.values(), key=lambda w: w.until)
