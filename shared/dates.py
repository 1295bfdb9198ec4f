"""Dates as a reader reads them: in their own time zone, in their language's usual form.

An order placed at 2024-01-01T20:00Z was placed on 2 January in Tokyo: a date shown to a
customer is the date of their own calendar, never the UTC one. Babel (CLDR) writes it as the
language writes dates (`2024年1月2日`, `January 2, 2024`, `2 janvier 2024`).
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel import Locale, UnknownLocaleError
from babel.dates import format_date

# Where a page has no reader's zone (the public pages), the zone its language is usually
# read in; `ANSHIN_PUBLIC_TIMEZONE` overrides it for every language.
USUAL_ZONE = {"ja": "Asia/Tokyo", "fr": "Europe/Paris", "en": "UTC"}


@functools.lru_cache(maxsize=128)
def zone(name: str) -> tzinfo:
    """The IANA time zone `name`; UTC where it is empty or unknown."""
    try:
        return ZoneInfo(name) if name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


@functools.lru_cache(maxsize=128)
def _locale(locale: str, lang: str) -> Locale:
    """The reader's own locale where it is of `lang` (en-GB writes 1 January 2024), else `lang`.

    `lang` is the language the text around the date is written in: a de-DE customer reads
    English mail, and an English date in it.
    """
    try:
        found = Locale.parse(locale.replace("-", "_"))
        if found.language == lang:
            return found
    except (ValueError, TypeError, UnknownLocaleError):
        pass
    return Locale.parse(lang)


def local_date(at: datetime, timezone: str, lang: str, locale: str = "") -> str:
    """The calendar date of the instant `at` in `timezone`, written as `lang` writes dates.

    A naive `at` is taken as UTC.
    """
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    day = at.astimezone(zone(timezone)).date()
    return format_date(day, format="long", locale=_locale(locale or lang, lang))


@functools.lru_cache(maxsize=4096)
def local_date_of(text: str, timezone: str, lang: str, locale: str = "") -> str:
    """`local_date` of an ISO 8601 time stamp; the text itself where it is none."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return text
    return local_date(at, timezone, lang, locale)


@functools.lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def is_zone(name: str) -> bool:
    """Whether `name` is an IANA time zone (`Asia/Tokyo`, `UTC`), as tzdata names them."""
    return name in _zone_names()


class NoSuchLocalTime(ValueError):
    """A wall-clock time its zone skips (clocks go forward) or passes twice (clocks go back)."""

    def __init__(self, wall: datetime, zone_name: str, twice: bool) -> None:
        self.twice = twice
        how = "happens twice (clocks go back)" if twice else "does not exist (clocks skip it)"
        super().__init__(f"{wall:%Y-%m-%d %H:%M} {how} in {zone_name}")


def utc_of_local(wall: datetime, zone_name: str) -> datetime:
    """The UTC instant of the naive wall-clock time `wall` in the IANA zone `zone_name`.

    Raises NoSuchLocalTime where the zone's clocks skip `wall` or pass it twice: guessing
    either side of a daylight-saving change would move an embargo by an hour unseen.
    """
    tz = ZoneInfo(zone_name)
    first, second = wall.replace(tzinfo=tz, fold=0), wall.replace(tzinfo=tz, fold=1)
    if first.utcoffset() != second.utcoffset():
        # In a gap neither reading comes back to the same wall time; in a fold both do.
        back = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
        raise NoSuchLocalTime(wall, zone_name, twice=back == wall)
    return first.astimezone(UTC)
