"""A deterministic shop for the matcher benchmark: customers across Japan and the US, ten years
of categorized purchases, a category mix, and a growing shop (recent years weigh more)."""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterator
from datetime import datetime, timedelta

from services.matcher.rules import bucket_of

# (region, population in millions, lat, lon): enough prefectures and states to spread people.
JP = [
    ("JP-01", 5.1, 43.06, 141.35), ("JP-04", 2.3, 38.27, 140.87), ("JP-07", 1.8, 37.75, 140.47),
    ("JP-08", 2.8, 36.34, 140.45), ("JP-09", 1.9, 36.57, 139.88), ("JP-10", 1.9, 36.39, 139.06),
    ("JP-11", 7.3, 35.86, 139.65), ("JP-12", 6.3, 35.61, 140.12), ("JP-13", 14.0, 35.69, 139.69),
    ("JP-14", 9.2, 35.45, 139.64), ("JP-15", 2.2, 37.90, 139.02), ("JP-17", 1.1, 36.59, 136.63),
    ("JP-20", 2.0, 36.65, 138.18), ("JP-21", 2.0, 35.39, 136.72), ("JP-22", 3.6, 34.98, 138.38),
    ("JP-23", 7.5, 35.18, 136.91), ("JP-24", 1.8, 34.73, 136.51), ("JP-26", 2.6, 35.02, 135.76),
    ("JP-27", 8.8, 34.69, 135.52), ("JP-28", 5.4, 34.69, 135.18), ("JP-29", 1.3, 34.69, 135.83),
    ("JP-30", 0.9, 34.23, 135.17), ("JP-34", 2.8, 34.40, 132.46), ("JP-40", 5.1, 33.61, 130.42),
    ("JP-43", 1.7, 32.79, 130.74), ("JP-47", 1.5, 26.21, 127.68),
]  # fmt: skip
US = [
    ("US-CA", 39.0, 36.78, -119.42), ("US-TX", 30.0, 31.97, -99.90), ("US-FL", 22.0, 27.66, -81.52),
    ("US-NY", 19.6, 42.17, -74.95), ("US-PA", 13.0, 41.20, -77.19), ("US-IL", 12.5, 40.63, -89.40),
    ("US-OH", 11.8, 40.42, -82.91), ("US-GA", 11.0, 32.17, -82.90), ("US-NC", 10.7, 35.76, -79.02),
    ("US-WA", 7.8, 47.75, -120.74), ("US-MA", 7.0, 42.41, -71.38), ("US-LA", 4.6, 30.98, -91.96),
]  # fmt: skip
# (category, share of categorized lines, title)
CATEGORIES = [
    ("power_bank", 0.18, "Power bank 10000mAh"), ("portable_gas_stove", 0.08, "Portable gas stove"),
    ("portable_generator", 0.06, "Portable generator 1600W"), ("heater", 0.12, "Oil heater"),
    ("fan", 0.12, "Electric fan"), ("baby_food", 0.07, "Baby food set"),
    ("baby_bottle", 0.05, "Baby bottle"), ("honey", 0.07, "Acacia honey"),
    ("ladder", 0.05, "Step ladder"), ("bed_rail", 0.03, "Bed rail"),
    ("gas_appliance", 0.05, "Gas water heater"), ("e_bike_battery", 0.04, "E-bike battery"),
    ("kettle", 0.08, "Electric kettle"),
]  # fmt: skip
# The Nankai-trough scenario: Kanto, Tokai and Kinki, warned by prefecture.
NANKAI = ["JP-08", "JP-09", "JP-10", "JP-11", "JP-12", "JP-13", "JP-14"]
NANKAI += ["JP-21", "JP-22", "JP-23", "JP-24", "JP-26", "JP-27", "JP-28", "JP-29", "JP-30"]
PLAYBOOK_CATEGORIES = ["power_bank", "portable_gas_stove", "portable_generator"]
YEARS = 10
RECENT_SHARE = 0.5  # a growing shop with active customers: much of it is recent
RECENT_DAYS = 180

Row = tuple[str, str, int, str, str, str, str | None, str, datetime, str, str, float, float, int]


def _cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


def rows(customers: int, now: datetime, seed: int = 42) -> Iterator[Row]:
    """Purchase lines (as the matcher's purchases table holds them) of `customers` customers."""
    rng = random.Random(seed)
    places = [("JP", *p) for p in JP] + [("US", *p) for p in US]
    # Japan holds 70% of the customers, the US 30%, each spread by population.
    jp_pop, us_pop = sum(p[1] for p in JP), sum(p[1] for p in US)
    place_cum = _cumulative([0.7 * p[2] / jp_pop if p[0] == "JP" else 0.3 * p[2] / us_pop
                             for p in places])  # fmt: skip
    cat_cum = _cumulative([c[1] for c in CATEGORIES])
    span = YEARS * 365 * 86400
    order = 0
    for n in range(customers):
        customer = f"c-{n:07d}"
        bucket = bucket_of(customer)
        pick = rng.choices(range(len(places)), cum_weights=place_cum)[0]
        country, region, _, lat0, lon0 = places[pick]
        lat, lon = lat0 + rng.gauss(0, 0.25), lon0 + rng.gauss(0, 0.25)
        channel = "web" if rng.random() < 0.7 else "app"
        for _ in range(1 + int(rng.expovariate(1 / 2.5))):
            order += 1
            pick = rng.choices(range(len(CATEGORIES)), cum_weights=cat_cum)[0]
            category, _, title = CATEGORIES[pick]
            if rng.random() < RECENT_SHARE:
                age = rng.random() * RECENT_DAYS * 86400
            else:
                age = rng.random() * span
            model = rng.randrange(40)
            sku = f"{category[:3].upper()}-{model:04d}"
            yield (
                channel if rng.random() < 0.8 else "store",
                f"o-{order:09d}",
                1,
                category,
                customer,
                sku,
                f"49{zlib.crc32(sku.encode()) % 10**11:011d}" if model % 3 == 0 else None,
                f"{title} #{model}",
                now - timedelta(seconds=age),
                country,
                region,
                round(lat, 4),
                round(lon, 4),
                bucket,
            )
