"""Why mail waits, in words: "waiting: quiet hours until 08:00 Asia/Tokyo (3 deliveries)"."""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.dates import zone
from shared.messages.requests import Wait

REASONS = {
    "quiet": "quiet hours",
    "cap": "the cap on routine mail",
    "retry": "a retry after the relay said to try later",
    "paused": "a paused path to the recipients' mail servers",
}


def until(wait: Wait, now: datetime) -> tuple[str, str] | None:
    """When the wait ends, as (time, zone name) in the zone it is kept in; None if it has."""
    tz = zone(wait.timezone)
    ends = wait.until.astimezone(tz)
    if ends <= now:
        return None
    # Within a day the hour says it; further off, the date too.
    when = ends.strftime("%H:%M" if ends - now < timedelta(hours=20) else "%Y-%m-%d %H:%M")
    # An unknown or empty zone was read as UTC: say so, rather than the name given.
    return when, getattr(tz, "key", "UTC")


def explain(wait: Wait, now: datetime) -> str:
    """One line: the reason, when it ends in the zone it is kept in, and how many wait."""
    reason = REASONS.get(wait.reason, wait.reason)
    many = f"({wait.deliveries} {'delivery' if wait.deliveries == 1 else 'deliveries'})"
    ends = until(wait, now)
    if ends is None:
        return f"waiting: {reason}, due again now {many}"
    return f"waiting: {reason} until {ends[0]} {ends[1]} {many}"
