"""The unattended feed reader against a feed publisher started by the test: JMA's Atom feed
with JMA's sample documents (a drill, serials 1-3 of one quake, its cancellation), a recorded
USGS summary feed; ETag and 304, errors and backoff, a restart, documents too large."""

from __future__ import annotations

import contextlib
import itertools
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import msgspec
import pytest

from deploy.servers import free_port
from services.advisory.app import build
from services.advisory.disasters.feedreader.reader import Poller
from shared import db
from shared.clock import Clock
from shared.config import Settings
from shared.setting_lists import feed_list
from tests.support.advisory import eventually, stream_messages
from tests.support.feedserver import (
    ATOM_TYPE,
    LAST_MODIFIED,
    FeedServer,
    etag_of,
    feed_server,
    jma_atom,
)
from tests.support.fixtures import running

FIXTURES = Path(__file__).parent.parent / "fixtures"
JMA = FIXTURES / "jma"
DRILL = JMA / "32-35_01_03_240613_VXSE53.xml"
IWATE = [JMA / f"32-35_06_0{n}_240613_VXSE53.xml" for n in (3, 4, 5)]
IWATE_CANCELLED = JMA / "32-35_06_06_100915_VXSE53.xml"
DOCS = [*IWATE, IWATE_CANCELLED, DRILL]
QUAKE_AT = datetime(2008, 6, 13, 23, 43, tzinfo=UTC)
FEED = "/developer/xml/feed/eqvol.xml"
VXSE52 = "/developer/xml/data/20080613234600_0_VXSE52_010000.xml"


@pytest.fixture
async def publisher() -> AsyncIterator[FeedServer]:
    async with feed_server() as server:
        yield server


def _reading(settings: Settings, feeds: str, **changes: Any) -> Settings:
    """Settings that poll the given feeds quickly."""
    return msgspec.structs.replace(
        settings, feeds=feeds, feed_poll_s=0.1, feed_backoff_max_s=0.5, **changes
    )


async def _query(settings: Settings, sql: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(settings.database_url, server_settings={"search_path": "advisory"})
    try:
        return list(await conn.fetch(sql))
    finally:
        await conn.close()


async def _outcomes(settings: Settings, count: int) -> dict[str, str]:
    rows = await _query(settings, "SELECT entry, outcome FROM feed_entries")
    return {r["entry"].rsplit("/", 1)[-1]: r["outcome"] for r in rows} if len(rows) >= count else {}


async def _declared(settings: Settings) -> list[dict[str, Any]]:
    return [m for _, m in await stream_messages(settings.nats_url, "DISASTERS")]


async def _next_poll(server: FeedServer, path: str) -> None:
    """Wait until the reader asks for the feed twice more: the first poll was then done."""
    before = len(server.requests(path))
    await eventually(lambda: _more(server, path, before + 2))


async def _more(server: FeedServer, path: str, count: int) -> bool:
    return len(server.requests(path)) >= count


async def test_a_jma_feed_declares_revises_and_cancels_a_quake_once_across_a_restart(
    settings: Settings, clock: Clock, publisher: FeedServer
) -> None:
    clock.advance(QUAKE_AT + timedelta(minutes=5) - clock.now())
    listed = [(IWATE[0], "2008-06-13T23:47:00Z")]
    url = publisher.serve(FEED, jma_atom(publisher, listed, "2008-06-14T08:48:00+09:00"), ATOM_TYPE)
    # An entry of a type /v1/events does not read (VXSE52) is never fetched.
    unread = (
        "<entry><title>震源に関する情報</title><id>urn:x:52</id>"
        '<updated>2008-06-13T23:46:00Z</updated><link type="application/xml"'
        f' href="{VXSE52}"/></entry></feed>'
    )
    feed = publisher.files[FEED][0].replace(b"</feed>", unread.encode())
    publisher.serve(FEED, feed, ATOM_TYPE)
    settings = _reading(settings, f"jma_eqvol=jma:{url}")
    async with running(build, settings, clock, settings.advisory_port):
        outcomes = await eventually(lambda: _outcomes(settings, 1))
        assert outcomes == {IWATE[0].name: "declared"}
        (first,) = await eventually(lambda: _declared(settings))
        assert first["revision"] == 1 and "03215" in first["places"][0]["levels"]
        assert not publisher.requests(VXSE52)

        # Unchanged, the feed is asked with its ETag and answers 304: nothing is fetched again.
        await _next_poll(publisher, FEED)
        etag = publisher.requests(FEED, 200)[-1]
        assert publisher.requests(FEED, 304)
        for conditional in publisher.requests(FEED, 304):
            assert conditional.headers["If-None-Match"] == etag_of(publisher.files[FEED][0])
            assert conditional.headers["If-Modified-Since"] == LAST_MODIFIED
        assert etag.headers.get("If-None-Match") is None  # the first read was unconditional
        assert len(publisher.requests(f"/developer/xml/data/{IWATE[0].name}")) == 1

        # Serials 2 and 3 appear, then the cancellation: a revision each, then the end.
        clock.advance(timedelta(minutes=20))
        listed += [(IWATE[1], "2008-06-14T00:01:00Z"), (IWATE[2], "2008-06-14T00:10:00Z")]
        publisher.serve(FEED, jma_atom(publisher, listed, "2008-06-14T09:10:00+09:00"), ATOM_TYPE)
        await eventually(lambda: _outcomes(settings, 3))
        listed.append((IWATE_CANCELLED, "2008-06-14T00:12:00Z"))
        publisher.serve(FEED, jma_atom(publisher, listed, "2008-06-14T09:12:00+09:00"), ATOM_TYPE)
        outcomes = await eventually(lambda: _outcomes(settings, 4))
        assert outcomes[IWATE[1].name] == outcomes[IWATE[2].name] == "revised"
        assert outcomes[IWATE_CANCELLED.name] == "cancelled"
        messages = await eventually(lambda: _at_least(settings, 4))
        assert [m["revision"] for m in messages] == [1, 2, 3, 4]
        assert messages[-1]["cancelled"]
        assert {m["event_id"] for m in messages} == {first["event_id"]}

    # A restart: the feed has changed (JMA rewrites its `updated` each minute), every entry is
    # listed again, and none is fetched nor declared a second time.
    fetched = {p.name: len(publisher.requests(f"/developer/xml/data/{p.name}")) for p in DOCS}
    publisher.serve(FEED, jma_atom(publisher, listed, "2008-06-14T09:13:00+09:00"), ATOM_TYPE)
    async with running(build, settings, clock, settings.advisory_port):
        await _next_poll(publisher, FEED)
        assert {
            p.name: len(publisher.requests(f"/developer/xml/data/{p.name}")) for p in DOCS
        } == fetched
        assert len(await _declared(settings)) == 4
        assert len(await _outcomes(settings, 4)) == 4

        # A drill (訓練) of 2009 is heard, and nothing is declared.
        clock.advance(datetime(2009, 10, 1, 4, 55, tzinfo=UTC) - clock.now())
        listed.append((DRILL, "2009-10-01T04:50:00Z"))
        publisher.serve(FEED, jma_atom(publisher, listed, "2009-10-01T13:51:00+09:00"), ATOM_TYPE)
        assert (await eventually(lambda: _outcomes(settings, 5)))[DRILL.name] == "heard"
        await _next_poll(publisher, FEED)
        assert len(await _declared(settings)) == 4


async def _at_least(settings: Settings, count: int) -> list[dict[str, Any]]:
    found = await _declared(settings)
    return found if len(found) >= count else []


async def test_a_failing_feed_backs_off_then_recovers_and_reports_its_last_success(
    settings: Settings, clock: Clock, publisher: FeedServer, http: aiohttp.ClientSession
) -> None:
    clock.advance(QUAKE_AT + timedelta(minutes=5) - clock.now())
    listed = [(IWATE[0], "2008-06-13T23:47:00Z")]
    url = publisher.serve(FEED, jma_atom(publisher, listed, "2008-06-14T08:48:00+09:00"), ATOM_TYPE)
    publisher.failing[FEED] = 4
    settings = _reading(settings, f"jma_backoff=jma:{url}")
    async with running(build, settings, clock, settings.advisory_port) as base:
        assert await eventually(lambda: _outcomes(settings, 1)) == {IWATE[0].name: "declared"}
        failed = [r.at for r in publisher.requests(FEED, 500)]
        assert len(failed) == 4
        # Each wait doubles from the interval (0.1 s) up to the cap (0.5 s).
        gaps = [b - a for a, b in itertools.pairwise(failed)]
        for gap, least in zip(gaps, (0.2, 0.4, 0.5), strict=True):
            assert gap >= least * 0.95, gaps
        metrics = await (await http.get(f"{base}/metrics")).text()
        assert _sample(metrics, 'anshin_feed_errors_total{feed="jma_backoff"}') == 4
        assert _sample(metrics, 'anshin_feed_disasters_declared_total{feed="jma_backoff"}') == 1
        last = _sample(metrics, 'anshin_feed_last_success_timestamp_seconds{feed="jma_backoff"}')
        assert abs(last - datetime.now(UTC).timestamp()) < 60


def _sample(metrics: str, series: str) -> float:
    match = re.search(rf"^{re.escape(series)} (\S+)$", metrics, re.MULTILINE)
    assert match, series
    return float(match.group(1))


async def test_documents_and_feeds_over_the_size_limit_are_refused(
    settings: Settings, clock: Clock, publisher: FeedServer
) -> None:
    clock.advance(QUAKE_AT + timedelta(minutes=30) - clock.now())
    # The limit of a POST /v1/events body: Serial 1 fits it, Serial 3 does not.
    small, large = IWATE[0].stat().st_size, IWATE[2].stat().st_size
    assert small < large
    listed = [(IWATE[0], "2008-06-13T23:47:00Z"), (IWATE[2], "2008-06-14T00:10:00Z")]
    url = publisher.serve(FEED, jma_atom(publisher, listed, "2008-06-14T09:10:00+09:00"), ATOM_TYPE)
    too_big = publisher.serve("/too-big.xml", b"<feed/>" + b" " * large, ATOM_TYPE)
    settings = _reading(
        settings, f"jma_eqvol=jma:{url}, huge=jma:{too_big}", max_body_bytes=(small + large) // 2
    )
    async with running(build, settings, clock, settings.advisory_port):
        outcomes = await eventually(lambda: _outcomes(settings, 2))
        assert outcomes == {IWATE[0].name: "declared", IWATE[2].name: "refused"}
        await _next_poll(publisher, FEED)
        (declared,) = await _declared(settings)
        assert declared["revision"] == 1  # Serial 3 would have revised it
        assert len(publisher.requests(f"/developer/xml/data/{IWATE[2].name}")) == 1
        assert await eventually(lambda: _more(publisher, "/too-big.xml", 2))
        state = await _query(settings, "SELECT feed FROM feed_state")
        assert {r["feed"] for r in state} == {"jma_eqvol"}  # the huge feed was never read


async def test_a_usgs_summary_feed_declares_its_strong_quakes_once(
    settings: Settings, clock: Clock, publisher: FeedServer
) -> None:
    clock.advance(datetime(2017, 1, 21, 21, 40, tzinfo=UTC) - clock.now())
    body = (FIXTURES / "feeds" / "usgs-all_hour-2017-01-21.geojson").read_bytes()
    url = publisher.serve("/summary/all_hour.geojson", body, "application/geo+json")
    settings = _reading(settings, f"usgs=usgs:{url}", quake_min_magnitude=4.5)
    async with running(build, settings, clock, settings.advisory_port):
        outcomes = await eventually(lambda: _outcomes(settings, 4))
        assert sorted(outcomes.values()) == ["declared", "heard", "heard", "heard"]
        assert outcomes["us10007une@1485030240040"] == "declared"
        await _next_poll(publisher, "/summary/all_hour.geojson")
        (declared,) = await _declared(settings)
        assert declared["title"] == "M 4.8 - 37km NW of Taron, Papua New Guinea"
        assert declared["areas"][0]["type"] == "circle"


async def test_one_replica_polls_and_another_takes_over_when_it_stops(
    settings: Settings, clock: Clock, publisher: FeedServer
) -> None:
    clock.advance(QUAKE_AT + timedelta(minutes=5) - clock.now())
    listed = [(IWATE[0], "2008-06-13T23:47:00Z")]
    url = publisher.serve(FEED, jma_atom(publisher, listed, "2008-06-14T08:48:00+09:00"), ATOM_TYPE)
    # Each replica names itself in its User-Agent, by its public URL.
    first = _reading(settings, f"jma_eqvol=jma:{url}", public_url="http://first.example")
    second = msgspec.structs.replace(
        first, public_url="http://second.example", advisory_port=free_port()
    )
    async with contextlib.AsyncExitStack() as first_running:
        await first_running.enter_async_context(running(build, first, clock, first.advisory_port))
        await eventually(lambda: _outcomes(settings, 1))
        async with running(build, second, clock, second.advisory_port):
            await _next_poll(publisher, FEED)
            await _next_poll(publisher, FEED)
            assert _agents(publisher) == {"first.example"}

            await first_running.aclose()  # the first replica stops...
            polled = len(publisher.requests(FEED))
            await eventually(lambda: _more(publisher, FEED, polled + 2), timeout=20)
            # ...and the second, which had waited, polls now; nothing is declared again.
            assert _agents(publisher, since=polled) == {"second.example"}
            assert len(await _declared(settings)) == 1


def _agents(server: FeedServer, since: int = 0) -> set[str]:
    agents = {r.headers.get("User-Agent", "") for r in server.requests(FEED)[since:]}
    return {re.sub(r".*\(\+https?://([^)]*)\).*", r"\1", agent) for agent in agents}


async def test_an_nws_alerts_feed_declares_by_county_through_the_same_code(
    settings: Settings, clock: Clock, publisher: FeedServer
) -> None:
    clock.advance(datetime(2025, 8, 21, 18, 30, tzinfo=UTC) - clock.now())
    feature = msgspec.json.decode(
        (FIXTURES / "nws" / "special-weather-statement-oun-2025-08-21.json").read_bytes()
    )
    body = msgspec.json.encode({"type": "FeatureCollection", "features": [feature]})
    url = publisher.serve("/alerts/active", body, "application/geo+json")
    settings = _reading(settings, f"nws=nws:{url}")
    async with running(build, settings, clock, settings.advisory_port):
        outcomes = await eventually(lambda: _outcomes(settings, 1))
        assert outcomes == {feature["id"].rsplit("/", 1)[-1]: "declared"}
        (declared,) = await eventually(lambda: _declared(settings))
        assert (
            declared["countries"] == ["US"]
            and declared["title"] == feature["properties"]["headline"]
        )
        (heard,) = publisher.requests("/alerts/active")[:1]
        assert heard.headers["Accept"].startswith("application/geo+json")
        assert "Anshin feed reader" in heard.headers["User-Agent"]  # NWS asks for one


async def test_the_next_read_follows_the_feed_s_rewrites_on_the_server_s_clock(
    settings: Settings, clock: Clock, publisher: FeedServer
) -> None:
    # JMA rewrites its feeds once a minute. Its answer says (on its own clock, whatever the
    # reader's says) that the feed was rewritten 50 s ago: the reader comes back 2 s after
    # the next rewrite, in 12 s, not in a minute; so too after a 304.
    url = publisher.serve(FEED, jma_atom(publisher, [], "2008-06-14T08:44:00+09:00"), ATOM_TYPE)
    publisher.dates = ("Mon, 01 Jan 2024 07:10:50 GMT", "Mon, 01 Jan 2024 07:10:00 GMT")
    settings = msgspec.structs.replace(settings, feed_poll_s=60.0)
    pool = await db.create_pool(settings.database_url, "advisory", min_size=1, max_size=2)
    try:
        await db.migrate(pool, "advisory", "services.advisory")
        feed = feed_list(f"jma_eqvol=jma:{url}")[0]
        async with aiohttp.ClientSession() as http:
            poller = Poller(feed, pool, clock, settings, http)
            asked = time.monotonic()
            due = await poller.poll()
            assert publisher.requests(FEED)[-1].status == 200
            assert 11.0 < due - asked <= 12.0 + (time.monotonic() - asked)
            # Rewritten again since, unchanged: the 304 says when, 48 s ago.
            publisher.dates = ("Mon, 01 Jan 2024 07:11:48 GMT", "Mon, 01 Jan 2024 07:11:00 GMT")
            asked = time.monotonic()
            assert 13.0 < await poller.poll() - asked <= 14.0 + (time.monotonic() - asked)
            assert publisher.requests(FEED)[-1].status == 304
            # A 304 without Last-Modified: the one kept from the last 200, 07:10:00.
            publisher.dates = ("Mon, 01 Jan 2024 07:12:45 GMT", "")
            asked = time.monotonic()
            assert 16.0 < await poller.poll() - asked <= 17.0 + (time.monotonic() - asked)
    finally:
        await pool.close()
