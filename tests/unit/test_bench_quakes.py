"""The quake benches' building blocks: their customers are where each event's area is (as
ingest locates them and the advisory service draws the area), and the Maildir verdict counts
wrong, missing and duplicate mail."""

from __future__ import annotations

import math
from pathlib import Path

import msgspec

from bench import arrivals, feed, quake_shop
from deploy import demo_advice, maildir
from services.advisory.disasters.feeds import UsgsFeature, from_usgs
from services.ingest import areas
from shared.config import Settings
from shared.messages import Circle


def _noto_circle() -> Circle:
    settings = Settings()
    feature = msgspec.convert(demo_advice.noto_quake(), UsgsFeature)
    (circle,) = from_usgs(feature, settings.quake_radius_km, settings.quake_min_magnitude).areas
    assert isinstance(circle, Circle)
    return circle


def _inside(circle: Circle, customer: quake_shop.Customer) -> bool:
    lat1, lat2 = math.radians(circle.lat), math.radians(customer.lat)
    dlon = math.radians(customer.lon - circle.lon)
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * 6371 * math.asin(math.sqrt(h)) <= circle.radius_km


def test_each_event_reaches_its_own_customers_and_not_the_others() -> None:
    strong = quake_shop.strong_municipalities(feed.DOCUMENT)
    tohoku = quake_shop.quake_area(400, feed.DOCUMENT)
    noto = quake_shop.noto(400)
    circle = _noto_circle()
    for c in tohoku:
        code, outcome = areas.municipality(c.postal)
        assert outcome == areas.FOUND and code in strong, (c, code, outcome)
        assert c.region == f"JP-{code[:2]}"
        assert not _inside(circle, c)
    # Every municipality of the report that Japan Post still knows: 藤沢町 (03422) joined
    # 一関市 in 2011, and its postal codes name 一関市 (03209) now.
    assert {areas.municipality(c.postal)[0] for c in tohoku} == set(strong) - {"03422"}
    for c in noto:
        assert _inside(circle, c), c
        code, _ = areas.municipality(c.postal)
        assert code not in strong
    assert len({c.email for c in noto + tohoku}) == 800


def test_the_verdict_counts_what_reached_the_mailbox(tmp_path: Path) -> None:
    root = tmp_path / "mail"
    maildir.prepare(root)
    maildir.deliver(root, maildir.envelope_headers("p", "b@x", ["old@a.example"]) + b"\r\nx")
    before = arrivals.keys(root)
    event_at = arrivals.read(root, before)[0].at
    for to in ["a@a.example", "b@a.example", "b@a.example", "stray@b.example"]:
        maildir.deliver(root, maildir.envelope_headers("p", "b@x", [to]) + b"Subject: s\r\n\r\nx")
    mails = arrivals.read(root, arrivals.keys(root) - before)
    expected = {"a@a.example", "b@a.example", "c@a.example"}
    v = arrivals.verdict(mails, expected, event_at)
    assert (v.mails, v.delivered, v.wrong, v.missing, v.duplicates) == (4, 2, 1, 1, 1)
    assert 0 <= v.first_s <= v.last_s < 60
