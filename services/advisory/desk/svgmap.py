"""A disaster's areas on a coarse outline of its country, as inline SVG (no tile server).

The outlines (services/advisory/data/outlines.geojson) are drawn by hand, to a few tenths
of a degree: enough to see where an area lies, not to decide who is in it (the matcher does).
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Sequence
from html import escape
from importlib import resources
from typing import NamedTuple

import msgspec
from markupsafe import Markup

from shared.messages import Area, Circle, Polygon, Regions

Point = tuple[float, float]  # (lon, lat)
Box = tuple[float, float, float, float]  # min lon, min lat, max lon, max lat
WIDTH = 640
EARTH_KM = 6371.0
REGION_KM = 40.0  # a region (JP-17) is drawn as a disc of this radius at its centroid


class Outline(msgspec.Struct, frozen=True):
    """One part of a country (Japan; the contiguous USA, Alaska, Hawaii)."""

    country: str
    name: str
    rings: list[list[Point]]


class Mark(NamedTuple):
    """A place drawn as a disc sized by its customers; hollow where it is placed only
    roughly (at its region's centre)."""

    lat: float
    lon: float
    label: str
    customers: int
    hollow: bool = False


class Shape(msgspec.Struct, frozen=True):
    """A disaster area ready to draw, with a label that says what it is."""

    rings: list[list[Point]]
    label: str


@functools.cache
def outlines() -> tuple[Outline, ...]:
    """The country outlines shipped with the service."""
    text = resources.files("services.advisory.desk").joinpath("data/outlines.geojson").read_text()
    parts = []
    for feature in json.loads(text)["features"]:
        rings = [[(p[0], p[1]) for p in poly[0]] for poly in feature["geometry"]["coordinates"]]
        props = feature["properties"]
        parts.append(Outline(country=props["country"], name=props["name"], rings=rings))
    return tuple(parts)


@functools.cache
def region_centroids() -> dict[str, tuple[float, float]]:
    """ISO 3166-2 region → (lat, lon), from the region table that ingest ships."""
    text = resources.files("services.ingest").joinpath("data/regions.tsv").read_text()
    found = {}
    for line in text.splitlines():
        cells = line.split("\t")
        if line.startswith("#") or len(cells) < 3 or cells[0] == "code":
            continue
        found[cells[0]] = (float(cells[1]), float(cells[2]))
    return found


def circle_ring(lat: float, lon: float, radius_km: float, steps: int = 72) -> list[Point]:
    """A circle on the sphere as a ring of points (great-circle destination formula)."""
    d, phi, lam = radius_km / EARTH_KM, math.radians(lat), math.radians(lon)
    ring = []
    for i in range(steps + 1):
        theta = 2 * math.pi * i / steps
        phi2 = math.asin(
            math.sin(phi) * math.cos(d) + math.cos(phi) * math.sin(d) * math.cos(theta)
        )
        lam2 = lam + math.atan2(
            math.sin(theta) * math.sin(d) * math.cos(phi),
            math.cos(d) - math.sin(phi) * math.sin(phi2),
        )
        ring.append((math.degrees(lam2), math.degrees(phi2)))
    return ring


def shapes(areas: Sequence[Area]) -> tuple[list[Shape], set[str]]:
    """The areas as shapes, and the whole countries named (drawn by filling their outline)."""
    found: list[Shape] = []
    countries: set[str] = set()
    for area in areas:
        if isinstance(area, Circle):
            label = f"circle of {area.radius_km:g} km at {area.lat:.2f}, {area.lon:.2f}"
            found.append(Shape([circle_ring(area.lat, area.lon, area.radius_km)], label))
        elif isinstance(area, Polygon):
            ring = [(lon, lat) for lat, lon in area.points]
            found.append(Shape([ring], f"polygon of {len(area.points)} points"))
        elif isinstance(area, Regions):
            for code in area.codes:
                if len(code) == 2:
                    countries.add(code.upper())
                elif (centre := region_centroids().get(code.upper())) is not None:
                    ring = circle_ring(centre[0], centre[1], REGION_KM, 36)
                    found.append(Shape([ring], f"region {code}"))
    return found, countries


def bbox(rings: Sequence[Sequence[Point]]) -> Box | None:
    """The bounding box of some rings; None if there are no points."""
    points = [p for ring in rings for p in ring]
    if not points:
        return None
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    return min(lons), min(lats), max(lons), max(lats)


def _union(a: Box | None, b: Box | None) -> Box | None:
    if a is None or b is None:
        return a or b
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def _meets(a: Box, b: Box, margin: float = 0.0) -> bool:
    return not (
        a[2] + margin < b[0] or b[2] + margin < a[0] or a[3] + margin < b[1] or b[3] + margin < a[1]
    )


def view_of(found: list[Shape], countries: Sequence[str]) -> tuple[Box, list[Outline]]:
    """What to show: the country parts near the areas (else the first part of each country)."""
    candidates = [o for o in outlines() if not countries or o.country in countries]
    areas_box = bbox([ring for shape in found for ring in shape.rings])
    near = [o for o in candidates if areas_box and _meets(_box(o), areas_box, 3.0)]
    if not near:
        firsts: dict[str, Outline] = {}
        for o in candidates or list(outlines()):
            firsts.setdefault(o.country, o)
        near = [] if areas_box and not countries else list(firsts.values())
    box: Box | None = areas_box
    for o in near:
        box = _union(box, _box(o))
    assert box is not None
    west, south, east, north = box
    pad = max(east - west, north - south, 2.0) * 0.06
    return (west - pad, south - pad, east + pad, north + pad), near


def _box(outline: Outline) -> Box:
    found = bbox(outline.rings)
    assert found is not None
    return found


def disaster_map(
    areas: Sequence[Area], countries: Sequence[str], title: str, marks: Sequence[Mark] = ()
) -> Markup:
    """An inline SVG map of a disaster's areas and places over the outline of its country."""
    found, whole = shapes(areas)
    dots = [Shape([[(mark.lon, mark.lat)]], mark.label) for mark in marks]
    view, _ = view_of(found + dots, sorted(set(countries) | whole))
    west, south, east, north = view
    k = math.cos(math.radians((south + north) / 2))
    scale = WIDTH / ((east - west) * k)
    height = (north - south) * scale

    def path(ring: Sequence[Point]) -> str:
        xy = [f"{(lon - west) * k * scale:.1f},{(north - lat) * scale:.1f}" for lon, lat in ring]
        return "M" + "L".join(xy) + "Z"

    parts = [
        f'<svg class="map" viewBox="0 0 {WIDTH} {height:.0f}" role="img"'
        ' aria-labelledby="map-title map-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="map-title">{escape(title)}</title>',
        f'<desc id="map-desc">{escape(_described(found, marks))}</desc>',
        f'<rect width="{WIDTH}" height="{height:.0f}" fill="#dbe9f4"/>',
    ]
    for o in outlines():
        if _meets(_box(o), view):
            fill = "#f0c9c9" if o.country in whole else "#f4f1ea"
            d = "".join(path(ring) for ring in o.rings)
            parts.append(f'<path d="{d}" fill="{fill}" stroke="#5b5b5b" stroke-width="1"/>')
    for shape in found:
        d = "".join(path(ring) for ring in shape.rings)
        parts.append(
            f'<path class="area" d="{d}" fill="#a4161a" fill-opacity="0.35" stroke="#a4161a"'
            f' stroke-width="2"><title>{escape(shape.label)}</title></path>'
        )
        # A small area stays visible at country scale: a marker at its centre.
        box = bbox(shape.rings)
        assert box is not None
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        x, y = (cx - west) * k * scale, (north - cy) * scale
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="#a4161a" stroke="#fff"'
            ' stroke-width="2"/>'
        )
    for mark in sorted(marks, key=lambda mark: -mark.customers):  # small ones on top
        x, y = (mark.lon - west) * k * scale, (north - mark.lat) * scale
        r = min(4 + 2 * math.sqrt(mark.customers), 16)
        fill = 'fill="none"' if mark.hollow else 'fill="#e85d04" fill-opacity="0.8"'
        parts.append(
            f'<circle class="place" cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" {fill}'
            f' stroke="#6a040f" stroke-width="1.5"><title>{escape(mark.label)}</title></circle>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _described(found: Sequence[Shape], marks: Sequence[Mark]) -> str:
    labels = [s.label for s in found]
    if marks:
        labels.append(f"{len(marks)} places")
    return "; ".join(labels) or "no area"
