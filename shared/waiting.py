"""Why mail waits, in words: "waiting: quiet hours until 08:00 Asia/Tokyo (3 deliveries)"."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.messages.requests import Wait

REASONS = {
    "quiet": "quiet hours",
    "cap": "the cap on routine mail",
    "retry": "a retry after the relay said to try later",
    "paused": "a paused path to the recipients' mail servers",
}


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def explain(wait: Wait, now: datetime) -> str:
    """One line: the reason, when it ends in the zone it is kept in, and how many wait."""
    zone = _zone(wait.timezone)
    until = wait.until.astimezone(zone)
    reason = REASONS.get(wait.reason, wait.reason)
    many = f"({wait.deliveries} {'delivery' if wait.deliveries == 1 else 'deliveries'})"
    if until <= now:
        return f"waiting: {reason}, due again now {many}"
    # Within a day the hour says it; further off, the date too.
    when = until.strftime("%H:%M" if until - now < timedelta(hours=20) else "%Y-%m-%d %H:%M")
    return f"waiting: {reason} until {when} {zone.key} {many}"
