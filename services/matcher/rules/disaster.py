"""What a disaster playbook means: buyers of its categories shipped into a declared area.

A playbook reaches nobody at publication nor on an order: a declared disaster that names it
(services/matcher/handlers.py) fans it out over the event's areas and places.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from services.matcher import deliveries, store
from services.matcher.audience import Where, of_categories
from services.matcher.rules.base import Declared, Job, KindRule
from shared import messages as m
from shared.db import Conn

EARTH_RADIUS_KM = 6371.0088
# The country whose codes each scheme names: a JIS code is a Japanese municipality, a FIPS
# code a US county; the same five digits elsewhere are another place.
COUNTRY_OF_SCHEME = {"jis": "JP", "fips": "US"}


class DisasterRule(KindRule[m.Disaster]):
    """Top priority; reaches out only when a disaster is declared."""

    priority = m.Priority.DISASTER
    at_publication = False

    def audience(self, at: datetime, late: timedelta, declared: Declared | None = None) -> Where:
        """Purchases of the categories within the lookback before `at`, shipped into the
        declared area (any area or place; undeclared: anywhere in the countries)."""
        w = self.bought(at)
        if declared is not None:
            if not self.strong_enough(declared):
                return w.add("false")
            inside = [_area(w, a) for a in declared.areas]
            inside += [_place(w, country, codes) for country, codes in self.places(declared)]
            w.add("(" + " OR ".join(inside) + ")" if inside else "false")
        return w

    def bought(self, at: datetime) -> Where:
        """Purchases of the categories within the lookback before `at`, in the countries."""
        w = of_categories(self.rule.categories)
        since = at - timedelta(days=self.rule.lookback_days)
        w.add(f"placed_at >= {w.p(since)} AND placed_at <= {w.p(at)}")
        if self.rule.countries:
            w.add(f"country = ANY({w.p(self.rule.countries)}::text[])")
        return w

    def strong_enough(self, declared: Declared) -> bool:
        """False for a quake weaker than the playbook asks for; an event without a magnitude
        (JMA by intensity, a warning) is judged by its places alone."""
        return declared.magnitude is None or declared.magnitude >= self.rule.min_magnitude

    def parts(self, declared: Declared) -> list[tuple[str, Where]]:
        """The audience area by area, for a dry run: each drawn area (`areas[i]`), and the
        places of each country at or above the conditions (`JP`, `US`), to count by code."""
        if not self.strong_enough(declared):
            return []
        found = []
        for i, area in enumerate(declared.areas):
            w = self.bought(declared.occurred_at)
            found.append((f"areas[{i}]", w.add(_area(w, area))))
        for country, codes in self.places(declared):
            w = self.bought(declared.occurred_at)
            found.append((country, w.add(_place(w, country, codes))))
        return found

    def places(self, declared: Declared) -> list[tuple[str, list[str]]]:
        """(country, codes) of the declared places at or above the playbook's conditions."""
        found: dict[str, set[str]] = {}
        for codes in declared.places:
            strong = {code for code, level in codes.levels.items() if self.counts(level)}
            found.setdefault(COUNTRY_OF_SCHEME[codes.scheme], set()).update(strong)
        return [(country, sorted(codes)) for country, codes in sorted(found.items()) if codes]

    def counts(self, level: str) -> bool:
        """Whether a place at `level` is strong enough: on JMA's intensity scale at or above
        `min_intensity`, on its warning scale at or above `min_warning`; a level on neither
        (a CAP severity, a word of a plain JSON event) is not compared, and counts."""
        for scale, least in (
            (m.INTENSITIES, self.rule.min_intensity),
            (m.WARNING_LEVELS, self.rule.min_warning),
        ):
            if level in scale:
                return scale.index(level) >= scale.index(least)
        return True

    async def reach(self, conn: Conn, job: Job, w: Where) -> deliveries.Requested:
        """Every buyer under `w`, once per disaster event; and once per fold period for the
        disasters of one hazard: one the playbook reached for another such disaster within
        `job.fold` is held back (and counted) instead."""
        fold = None
        if job.hazard and job.fold > timedelta(0):  # not for jobs of before, nor folding off
            fold = store.Fold(job.hazard, job.now - job.fold)
            await store.lock_fold(
                conn, "{}:{}:{}/{}".format(job.advisory_id, job.hazard, *job.shard)
            )
        return await deliveries.request_matching(
            conn, job.advisory_id, self.kind, w, "disaster", job.now, job.event_id, fold
        )


def _place(w: Where, country: str, codes: list[str]) -> str:
    # Indexed by area_code (migration 009); the country tells the schemes' codes apart.
    return f"(area_code = ANY({w.p(codes)}::text[]) AND country = {w.p(country)})"


def _area(w: Where, area: m.Area) -> str:
    match area:
        case m.Regions(codes=codes):
            # An ISO 3166-2 code names a region, a two-letter code a whole country.
            c = w.p(codes)
            return f"(region = ANY({c}::text[]) OR country = ANY({c}::text[]))"
        case m.Circle(lat=lat, lon=lon, radius_km=radius):
            a, o = w.p(lat), w.p(lon)
            haversine = (
                f"power(sin(radians(lat - {a}::float8) / 2), 2) + cos(radians({a}::float8))"
                f" * cos(radians(lat)) * power(sin(radians(lon - {o}::float8) / 2), 2)"
            )
            return (
                f"(lat IS NOT NULL AND 2 * {EARTH_RADIUS_KM} * asin(least(1, sqrt({haversine})))"
                f" <= {w.p(radius)}::float8)"
            )
        case m.Polygon(points=points):
            ring = asyncpg.Polygon(*((lon, lat) for lat, lon in points))
            return f"(lat IS NOT NULL AND {w.p(ring)}::polygon @> point(lon, lat))"
