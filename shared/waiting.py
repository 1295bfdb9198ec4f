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


def explain(wait: Wait, now: datetime) -> str:
    """One line: the reason, when it ends in the zone it is kept in, and how many wait."""
    tz = zone(wait.timezone)
    until = wait.until.astimezone(tz)
    reason = REASONS.get(wait.reason, wait.reason)
    many = f"({wait.deliveries} {'delivery' if wait.deliveries == 1 else 'deliveries'})"
    if until <= now:
        return f"waiting: {reason}, due again now {many}"
    # Within a day the hour says it; further off, the date too.
    when = until.strftime("%H:%M" if until - now < timedelta(hours=20) else "%Y-%m-%d %H:%M")
    # An unknown or empty zone was read as UTC: say so, rather than the name given.
    return f"waiting: {reason} until {when} {getattr(tz, 'key', 'UTC')} {many}"
