"""Disasters declared by place code (JMA municipalities, US counties) in the matcher, against
real NATS and PostgreSQL: who is inside, at what level, on each revision and cancellation."""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from shared import messages as m
from shared.clock import Clock
from shared.config import Settings
from tests.service.test_matcher_kit import matcher, matcher_pool, placed, published, shop, small

DAY = timedelta(days=1)
GEN = ["portable_generator"]


def at(area_code: str | None, country: str = "JP", lat: float | None = None) -> m.Location:
    """A ship-to known by its municipality or county code (and coordinates, where given)."""
    lon = None if lat is None else 136.65
    return m.Location(country=country, area_code=area_code, lat=lat, lon=lon)


def quake(
    now: datetime, levels: dict[str, str], *, areas: list[m.Area] | None = None, **more: object
) -> m.DisasterDeclared:
    """An earthquake declared over municipalities (JIS) with their intensity."""
    event = m.DisasterDeclared(
        event_id="jma:quake:1",
        hazard="earthquake",
        title="Noto",
        occurred_at=now,
        areas=areas or [],
        countries=["JP"],
        advisory_ids=["adv-gen"],
        places=[m.Codes(scheme="jis", levels=levels)],
    )
    return msgspec.structs.replace(event, **more)


async def test_customers_are_inside_by_their_municipality_or_county(
    settings: Settings, clock: Clock
) -> None:
    settings = small(settings)
    now = clock.now()
    rule = m.Disaster(categories=GEN, hazards=["earthquake"], countries=["JP", "US"])
    kanazawa = m.Polygon(points=[(36.4, 136.4), (36.8, 136.4), (36.8, 136.9), (36.4, 136.9)])
    async with shop(settings) as s, matcher(settings, clock):
        await s.send(published("adv-gen", rule, now))
        await s.send(placed("c-wajima", now - 10 * DAY, GEN, where=at("17204")))
        await s.send(placed("c-suzu", now - 10 * DAY, GEN, where=at("17205")))
        await s.send(placed("c-tokyo", now - 10 * DAY, GEN, where=at("13101")))
        # The same five digits in the US are a county, not Wajima.
        await s.send(placed("c-us", now - 10 * DAY, GEN, where=at("17204", country="US")))
        await s.send(placed("c-stale", now - 200 * DAY, GEN, where=at("17204")))
        await s.send(placed("c-heater", now - 10 * DAY, ["heater"], where=at("17204")))
        # Unlocated by code, inside the drawn polygon by coordinates: as before.
        await s.send(placed("c-polygon", now - 10 * DAY, GEN, where=at(None, lat=36.56)))
        await s.send(placed("c-sf", now - 10 * DAY, GEN, where=at("06075", country="US")))
        await s.idle(clock)
        jis = {"17204": "7", "17205": "6+"}
        await s.send(quake(now, jis, areas=[kanazawa]))
        assert sorted(await s.wait_for("adv-gen", 3)) == ["c-polygon", "c-suzu", "c-wajima"]
        # A county by FIPS, as NWS names them.
        storm = quake(
            now,
            {},
            event_id="cap:nws:1",
            places=[m.Codes(scheme="fips", levels={"06075": "severe"})],
            countries=["US"],
        )
        await s.send(storm)
        await s.idle(clock)
        batches = [b for b in await s.batches() if b.event_id == "cap:nws:1"]
        assert [r.customer_id for b in batches for r in b.recipients] == ["c-sf"]


async def test_each_playbook_reaches_places_at_or_above_its_conditions(
    settings: Settings, clock: Clock
) -> None:
    settings = small(settings)
    now = clock.now()
    base = m.Disaster(categories=GEN, hazards=["earthquake", "heavy_rain"], countries=["JP"])
    strong = msgspec.structs.replace(base, min_intensity="6+", min_warning="emergency")
    big = msgspec.structs.replace(base, min_magnitude=7.0)
    async with shop(settings) as s, matcher(settings, clock):
        for advisory_id, rule in (("adv-5", base), ("adv-6", strong), ("adv-m7", big)):
            await s.send(published(advisory_id, rule, now))
        for code in ("17204", "17205", "17206", "17207"):
            await s.send(placed(f"c-{code}", now - 10 * DAY, GEN, where=at(code)))
        await s.send(placed("c-circle", now - 10 * DAY, GEN, where=at(None, lat=37.4)))
        await s.idle(clock)
        levels = {"17204": "7", "17205": "6-", "17206": "5-", "17207": "4"}
        await s.send(quake(now, levels, advisory_ids=["adv-5", "adv-6"]))
        await s.idle(clock)
        assert sorted(await s.requested("adv-5")) == ["c-17204", "c-17205", "c-17206"]
        assert await s.requested("adv-6") == ["c-17204"]
        rain = {"17204": "warning", "17205": "emergency"}
        warned = quake(now, rain, event_id="jma:rain", hazard="heavy_rain", advisory_ids=["adv-6"])
        await s.send(warned)
        await s.idle(clock)
        assert sorted(await s.requested("adv-6")) == ["c-17204", "c-17205"]
        # A quake measured by magnitude (USGS: a circle) below the playbook's least: nobody.
        circle = m.Circle(lat=37.4, lon=136.65, radius_km=20)
        for event_id, magnitude in (("usgs:weak", 6.9), ("usgs:strong", 7.0)):
            usgs = quake(now, {}, event_id=event_id, areas=[circle], places=[])
            await s.send(
                msgspec.structs.replace(usgs, advisory_ids=["adv-m7"], magnitude=magnitude)
            )
        await s.idle(clock)
        reached = [(b.event_id, r.customer_id) for b in await s.batches() for r in b.recipients]
        assert [r for r in reached if r[0].startswith("usgs")] == [("usgs:strong", "c-circle")]


async def test_aftershocks_reach_a_customer_once_per_fold_period_and_hazard(
    settings: Settings, clock: Clock
) -> None:
    settings = small(settings)
    now = clock.now()
    rule = m.Disaster(categories=GEN, hazards=["earthquake", "tsunami"], countries=["JP"])
    async with shop(settings) as s, matcher(settings, clock):
        await s.send(published("adv-gen", rule, now))
        for code in ("17204", "17205", "17202"):
            await s.send(placed(f"c-{code}", now - 10 * DAY, GEN, where=at(code)))
        await s.idle(clock)

        async def declare(event_id: str, codes: list[str], hazard: str = "earthquake") -> list[str]:
            event = quake(clock.now(), dict.fromkeys(codes, "6-"), event_id=event_id, hazard=hazard)
            await s.send(event)
            await s.idle(clock)
            return sorted(r.customer_id for b in await s.batches() if b.event_id == event_id
                          for r in b.recipients)  # fmt: skip

        assert await declare("eq-main", ["17204", "17205"]) == ["c-17204", "c-17205"]
        clock.advance(timedelta(hours=2))
        # The aftershock: Wajima had the playbook two hours ago; Nanao is new to it.
        assert await declare("eq-after", ["17204", "17202"]) == ["c-17202"]
        # Its revision changes nothing for Wajima either.
        revised = quake(clock.now(), {"17204": "7", "17202": "6-"}, event_id="eq-after")
        await s.send(msgspec.structs.replace(revised, revision=2))
        await s.idle(clock)
        # Another hazard is another disaster: the tsunami reaches Wajima.
        assert await declare("ts-1", ["17204"], hazard="tsunami") == ["c-17204"]
        clock.advance(timedelta(hours=23))
        # 25 hours after the main shock, 23 after Nanao's: Wajima again, Nanao not yet.
        assert await declare("eq-next", ["17204", "17202"]) == ["c-17204"]
        pool = await matcher_pool(settings)
        try:
            folded = await pool.fetch(
                "SELECT event_id, customer_id FROM folds ORDER BY event_id, customer_id"
            )
        finally:
            await pool.close()
    assert [tuple(r) for r in folded] == [("eq-after", "c-17204"), ("eq-next", "c-17202")]
