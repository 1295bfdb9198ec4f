"""Ship-to locations: ISO 3166-2 regions, postal codes and coordinates from data we ship.

Coordinates come, in order of precision, from the order itself, from the US ZIP code
(PyPI `zipcodes`), or from the centroid of the region (given, or found from a Japanese
postal code). The municipality or county of the postal code comes from `areas`. Nothing is
downloaded at run time.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from importlib import resources

import msgspec
import zipcodes

from services.ingest import areas


class PlaceError(ValueError):
    """A region or postal code that cannot be read; `field` names which."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(problem)
        self.field = field


class Region(msgspec.Struct, frozen=True):
    """A region we know: its ISO 3166-2 code, centroid and time zone."""

    code: str
    lat: float
    lon: float
    timezone: str


class Place(msgspec.Struct, frozen=True, kw_only=True):
    """A normalized ship-to location and where its coordinates came from."""

    country: str
    region: str | None
    postal_code: str | None
    lat: float | None
    lon: float | None
    source: str  # order | postal_code | region | none
    timezone: str | None = None
    # The municipality (JIS X 0402) or county (FIPS) of the postal code, and how it went:
    # areas.FOUND, or why there is none (areas.UNKNOWN, AMBIGUOUS, MISMATCH, NONE).
    area: str | None = None
    area_outcome: str = areas.NONE


def _rows(name: str) -> list[list[str]]:
    text = resources.files("services.ingest").joinpath(f"data/{name}").read_text("utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return [line.split("\t") for line in lines[1:]]


def _key(text: str) -> str:
    """A lookup key for a region name: case, width, spaces and suffixes folded."""
    folded = unicodedata.normalize("NFKC", text).casefold().strip()
    folded = re.sub(r"[\s.\-]+", " ", folded)
    return re.sub(r" (prefecture|ken|to|fu|state)$", "", folded)


REGIONS: dict[str, Region] = {}
_NAMES: dict[tuple[str, str], str] = {}
for code, lat, lon, tz, names in _rows("regions.tsv"):
    REGIONS[code] = Region(code, float(lat), float(lon), tz)
    country, _, sub = code.partition("-")
    for name in [sub, code, *names.split("|")]:
        _NAMES[(country, _key(name))] = code
# Japanese prefectures are also known by their number alone ("17" or "JP-17").
for code in [c for c in REGIONS if c.startswith("JP-")]:
    _NAMES[("JP", str(int(code[3:])))] = code

# The prefecture of each three-digit prefix 000-999: one list lookup per order.
_JP_POSTAL: list[str | None] = [None] * 1000
for first, last, prefecture in _rows("jp_postal.tsv"):
    _JP_POSTAL[int(first) : int(last) + 1] = [prefecture] * (int(last) - int(first) + 1)


def region_code(country: str, text: str) -> str:
    """Return the ISO 3166-2 code of a region given as a code or a name; PlaceError if unknown."""
    found = _NAMES.get((country, _key(text)))
    if found:
        return found
    code = unicodedata.normalize("NFKC", text).strip().upper()
    if country in ("JP", "US"):
        raise PlaceError("region", f"{text!r} is not a region of {country}")
    if re.fullmatch(rf"{country}-[A-Z0-9]{{1,3}}", code):
        return code
    if re.fullmatch(r"[A-Z0-9]{1,3}", code):
        return f"{country}-{code}"
    raise PlaceError("region", f"{text!r} is not an ISO 3166-2 region code")


def postal_code(country: str, text: str) -> str:
    """Return a postal code in its usual spelling; PlaceError where its form is wrong."""
    code = unicodedata.normalize("NFKC", text).strip().upper()
    if country == "JP":
        digits = re.sub(r"[\s\-‐‑‒–—―−ー〒]", "", code)
        if not re.fullmatch(r"\d{7}", digits):
            raise PlaceError("postal_code", "a Japanese postal code has seven digits (NNN-NNNN)")
        return f"{digits[:3]}-{digits[3:]}"
    if country == "US":
        if not re.fullmatch(r"\d{5}(-\d{4})?", code):
            raise PlaceError("postal_code", "a US ZIP code is NNNNN or NNNNN-NNNN")
        return code
    if not re.fullmatch(r"[A-Z0-9][A-Z0-9 \-]{0,15}", code):
        raise PlaceError("postal_code", "a postal code has at most 16 letters, digits, spaces or -")
    return code


def _jp_region(code: str) -> str | None:
    return _JP_POSTAL[int(code[:3])]


class _Zip(msgspec.Struct, frozen=True):
    region: str
    lat: float
    lon: float
    timezone: str
    county: str | None


@lru_cache(maxsize=50_000)
def _zip(code: str) -> _Zip | None:
    found = zipcodes.matching(code[:5])  # type: ignore[no-untyped-call]
    if not found:
        return None
    z = found[0]
    county = areas.county(z["state"], z["county"])
    return _Zip(f"US-{z['state']}", float(z["lat"]), float(z["long"]), z["timezone"], county)


def _area(
    country: str, region: str | None, postal: str | None, z: _Zip | None
) -> tuple[str | None, str]:
    """The postal code's municipality or county, unless it lies outside the order's region."""
    if country == "JP" and postal:
        code, outcome = areas.municipality(postal)
        inside = f"JP-{code[:2]}" if code else None
    elif country == "US" and postal:
        code = z.county if z else None
        outcome, inside = (areas.FOUND if code else areas.UNKNOWN), z.region if z else None
    else:
        return None, areas.NONE
    if code and region and inside != region:
        return None, areas.MISMATCH  # which of the two is wrong cannot be told: neither is used
    return code, outcome


def locate(
    country: str,
    region: str | None,
    postal: str | None,
    lat: float | None,
    lon: float | None,
) -> Place:
    """Normalize a ship-to and fill in coordinates and region where the order has none."""
    place = _place(country, region, postal)
    if lat is None or lon is None:
        return place
    return msgspec.structs.replace(place, lat=lat, lon=lon, source="order")


@lru_cache(maxsize=100_000)
def _place(country: str, region: str | None, postal: str | None) -> Place:
    # Customers order again and again from the same address: remember the answer.
    region = region_code(country, region) if region else None
    postal = postal_code(country, postal) if postal else None
    zip_place = _zip(postal) if country == "US" and postal else None
    area, area_outcome = _area(country, region, postal, zip_place)
    if region is None and postal:
        region = zip_place.region if zip_place else _jp_region(postal) if country == "JP" else None
        if country == "JP" and area:
            region = f"JP-{area[:2]}"  # Japan Post's word over our table of prefixes
    known = REGIONS.get(region) if region else None
    timezone = zip_place.timezone if zip_place else known.timezone if known else None
    lat: float | None
    lon: float | None
    if zip_place:
        lat, lon, source = zip_place.lat, zip_place.lon, "postal_code"
    elif known:
        lat, lon, source = known.lat, known.lon, "region"
    else:
        lat, lon, source = None, None, "none"
    return Place(
        country=country,
        region=region,
        postal_code=postal,
        lat=lat,
        lon=lon,
        source=source,
        timezone=timezone,
        area=area,
        area_outcome=area_outcome,
    )
