"""Disaster events from feeds: plain JSON and USGS GeoJSON, reduced to one shape.

CAP XML lives in cap.py, JMA XML in jma.py, NWS GeoJSON in nws.py; all end as a `Disaster`.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Annotated, Literal

import msgspec

from shared.errors import Invalid, field_error
from shared.messages import Area, Circle, Codes, Polygon, Regions

Code = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9_]{1,64}$")]
Country = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$")]
REGION = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")
MAX_RADIUS_KM = 2000.0
# A declared disaster travels whole in one bus message (disasters.declared, with its areas):
# at worst about 220 KB with these, well within half of NATS's max_payload (1 MiB).
MAX_AREAS = 500
MAX_POINTS = 5_000  # of every polygon together
MAX_CODES = 2_000  # of every region area together
# Of every place by code together: JMA lists about 1,900 municipalities, the US 3,200
# counties; 4,000 codes with their levels take about 80 KB on the bus.
MAX_PLACES = 4_000
PLACE = re.compile(r"^[0-9]{5}$")
LEVEL = re.compile(r"^[a-z0-9+-]{1,16}$")


class Disaster(msgspec.Struct, kw_only=True):
    """A disaster event as any feed gives it; `keys` name it, `updates` name earlier ones."""

    keys: list[str]
    hazard: str
    title: str
    occurred_at: datetime
    areas: list[Area]
    countries: list[str]
    updates: list[str] = []
    # A test, an exercise or a weak quake is heard but not acted upon.
    actionable: bool = True
    reason: str = ""
    # Places by code (JMA municipalities, US counties), beside or instead of `areas`.
    places: list[Codes] = []
    # Orders reports of one disaster (JMA: serial, then report time; CAP: sent): a report
    # not above the last one applied changes nothing. Empty: a repeat is a duplicate.
    order: list[int] = []
    # The feed withdraws the disaster (JMA 取消, CAP Cancel).
    cancels: bool = False
    # A quake's magnitude (USGS): what a playbook's min_magnitude is compared with.
    magnitude: float | None = None


class PlainEvent(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A disaster in plain JSON: hazard, area (circle, polygon or regions), time, title."""

    hazard: Code
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    time: Annotated[datetime, msgspec.Meta(tz=True)]
    area: Area | None = None
    areas: Annotated[list[Area], msgspec.Meta(max_length=50)] = []
    countries: Annotated[list[Country], msgspec.Meta(max_length=250)] = []
    id: Annotated[str, msgspec.Meta(max_length=200)] = ""
    # Municipalities or counties by code, each with its level (docs/advisory.md).
    places: Annotated[list[Codes], msgspec.Meta(max_length=10)] = []


def from_plain(event: PlainEvent) -> Disaster:
    """A disaster from plain JSON; without an id, its content names it."""
    areas = ([event.area] if event.area else []) + event.areas
    check_areas(areas, "area", event.places)
    if not event.title.strip():
        raise Invalid("invalid event", [field_error("title", "must not be empty")])
    key = event.id or hashlib.sha256(msgspec.json.encode(event)).hexdigest()[:32]
    return Disaster(
        keys=[f"json:{key}"],
        hazard=event.hazard,
        title=event.title.strip(),
        occurred_at=event.time.astimezone(UTC),
        areas=areas,
        countries=countries_of(areas, event.countries + _countries_of(event.places)),
        places=event.places,
    )


class _Props(msgspec.Struct, kw_only=True):
    mag: float | None = None
    time: int
    title: Annotated[str, msgspec.Meta(max_length=300)] = ""
    place: Annotated[str, msgspec.Meta(max_length=200)] = ""
    type: Annotated[str, msgspec.Meta(max_length=64)] = "earthquake"
    ids: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class _Point(msgspec.Struct, kw_only=True):
    type: Literal["Point"]
    coordinates: Annotated[list[float], msgspec.Meta(min_length=2, max_length=3)]


class UsgsFeature(msgspec.Struct, kw_only=True):
    """A USGS earthquake as a GeoJSON Feature (the feed's `features[]` items)."""

    type: Literal["Feature"]
    id: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    properties: _Props
    geometry: _Point


def from_usgs(feature: UsgsFeature, radius_km_at_m5: float, min_magnitude: float) -> Disaster:
    """A disaster from a USGS quake: a circle that doubles in radius with each magnitude."""
    lon, lat = feature.geometry.coordinates[:2]
    mag = feature.properties.mag or 0.0
    radius = min(MAX_RADIUS_KM, radius_km_at_m5 * 2 ** (mag - 5.0))
    areas: list[Area] = [Circle(lat=lat, lon=lon, radius_km=round(radius, 1))]
    check_areas(areas, "geometry")
    # USGS lists every network's id of the same quake in `ids`: all of them name it.
    others = [i for i in feature.properties.ids.split(",") if i and i != feature.id]
    disaster = Disaster(
        keys=[f"usgs:{i}" for i in [feature.id, *others]],
        hazard=re.sub(r"[^a-z0-9]+", "_", feature.properties.type.lower()).strip("_"),
        title=feature.properties.title or f"M {mag} - {feature.properties.place}",
        occurred_at=datetime.fromtimestamp(feature.properties.time / 1000, UTC),
        areas=areas,
        countries=[],
        magnitude=feature.properties.mag,
    )
    if disaster.hazard != "earthquake":
        disaster.actionable, disaster.reason = False, f"a {feature.properties.type} is no disaster"
    elif mag < min_magnitude:
        disaster.actionable, disaster.reason = False, f"magnitude {mag} < {min_magnitude}"
    return disaster


def check_areas(areas: list[Area], field: str, places: list[Codes] | None = None) -> None:
    """Raise Invalid naming the field unless every area is on the earth and well formed."""
    problems = []
    if not areas and not places:
        problems.append(field_error(field, "at least one area is required"))
    codes = [code for p in places or [] for code in p.levels]
    if len(codes) > MAX_PLACES:
        problems.append(
            field_error(field, f"at most {MAX_PLACES} place codes ({len(codes)} given)")
        )
    elif not all(PLACE.match(code) for code in codes):
        problems.append(field_error(field, "place codes have five digits (JIS X 0402, FIPS)"))
    levels = [level for p in places or [] for level in p.levels.values()]
    if not all(LEVEL.match(level) for level in levels):
        problems.append(field_error(field, "a place's level is an intensity or a word (a-z)"))
    in_polygons = sum(len(a.points) for a in areas if isinstance(a, Polygon))
    in_regions = sum(len(a.codes) for a in areas if isinstance(a, Regions))
    for count, limit, what in (
        (len(areas), MAX_AREAS, "areas"),
        (in_polygons, MAX_POINTS, "polygon points in all"),
        (in_regions, MAX_CODES, "region codes in all"),
    ):
        if count > limit:
            problems.append(field_error(field, f"at most {limit} {what} ({count} given)"))
    if problems:
        raise Invalid("invalid event area", problems)
    for i, area in enumerate(areas):
        where = f"{field}[{i}]" if len(areas) > 1 else field
        match area:
            case Circle(lat=lat, lon=lon, radius_km=radius):
                if not _on_earth(lat, lon):
                    problems.append(field_error(where, "latitude or longitude out of range"))
                if not 0 < radius <= MAX_RADIUS_KM:
                    problems.append(
                        field_error(where, f"radius_km must be in (0, {MAX_RADIUS_KM}]")
                    )
            case Polygon(points=points):
                if len(points) < 3:
                    problems.append(field_error(where, "a polygon needs at least three points"))
                if not all(_on_earth(lat, lon) for lat, lon in points):
                    problems.append(field_error(where, "latitude or longitude out of range"))
            case Regions(codes=codes):
                if not codes or not all(REGION.match(c) for c in codes):
                    problems.append(field_error(where, "codes must be ISO 3166-1 or 3166-2"))
    if problems:
        raise Invalid("invalid event area", problems)


def _on_earth(lat: float, lon: float) -> bool:
    return -90 <= lat <= 90 and -180 <= lon <= 180


def _countries_of(places: list[Codes]) -> list[str]:
    return sorted({"JP" if p.scheme == "jis" else "US" for p in places})


def countries_of(areas: list[Area], given: list[str]) -> list[str]:
    """The countries named outright, or by the ISO 3166 codes of region areas."""
    found = set(given)
    for area in areas:
        if isinstance(area, Regions):
            found.update(code[:2] for code in area.codes)
    return sorted(found)
