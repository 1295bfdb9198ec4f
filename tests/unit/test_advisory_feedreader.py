"""The feed reader's pure parts: its backoff, its settings, and what a feed lists (recorded
JMA Atom, USGS and NWS GeoJSON), hostile feeds included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest

from services.advisory.disasters import events
from services.advisory.disasters.feedreader import backoff, cadence, fetch, sources
from shared.config import Settings, load
from shared.errors import Invalid
from shared.setting_lists import Feed, feed_list

FIXTURES = Path(__file__).parent.parent / "fixtures"
REGULAR = "http://www.data.jma.go.jp/developer/xml/feed/regular.xml"
EQVOL = "https://www.data.jma.go.jp/developer/xml/feed/eqvol.xml"


def test_the_wait_doubles_per_error_from_the_interval_up_to_the_cap() -> None:
    assert [backoff.delay(n, 60, 600) for n in range(6)] == [60, 120, 240, 480, 600, 600]
    assert backoff.delay(10_000, 60, 600) == 600  # a feed down for days
    assert backoff.delay(1, 60, 30) == 60  # a cap below the interval never polls faster


def test_a_feed_rewritten_once_a_minute_is_read_just_after_its_next_rewrite() -> None:
    # JMA rewrites its feeds once a minute: read 50 s after a rewrite, the next one comes in
    # 10 s, and the reader asks 2 s after it instead of a whole minute after this read.
    served = datetime(2024, 1, 1, 7, 10, 50, tzinfo=UTC)
    rewritten = served - timedelta(seconds=50)
    assert cadence.next_poll(60, served, rewritten) == 12
    # The feed unchanged for an hour and five seconds: its rhythm still says 55 s more.
    assert cadence.next_poll(60, served, served - timedelta(hours=1, seconds=5)) == 57
    # Read just after a rewrite: the next one is a whole interval away.
    assert cadence.next_poll(60, served, served) == 62
    # The margin shrinks with the interval, so a fast test poll stays fast.
    assert cadence.next_poll(0.1, served, served) == pytest.approx(0.105)
    # Nothing to learn from: no dates, or a rewrite in the server's own future.
    assert cadence.next_poll(60, None, rewritten) == 60
    assert cadence.next_poll(60, served, None) == 60
    assert cadence.next_poll(60, served, served + timedelta(seconds=5)) == 60
    # A feed whose dates promise a rewrite in a moment, read by then and not rewritten, is
    # read an interval later: never early twice on the same promise.
    reads = cadence.Cadence(60)
    promise = served - timedelta(seconds=59)
    assert reads.after(served, promise) == 3
    assert reads.after(served + timedelta(seconds=3), promise) == 60
    # Once the feed changed, its dates are trusted again.
    assert reads.after(served + timedelta(seconds=63), served + timedelta(seconds=4)) == 3
    assert reads.after(served + timedelta(seconds=66), served + timedelta(seconds=65)) == 61
    # A server's dates are read as HTTP dates, and nothing else.
    assert fetch.http_date("Mon, 01 Jan 2024 07:10:50 GMT") == served
    for hostile in ("", "yesterday", "Mon, 99 Jan 2024 07:10:50 GMT", "Mon, 01 Jan 2024 07:10:50"):
        assert fetch.http_date(hostile) is None


def test_feeds_are_named_with_their_kind_and_url() -> None:
    text = f"jma_eqvol=jma:{EQVOL}, usgs=usgs:https://earthquake.usgs.gov/x.geojson,"
    assert feed_list(text) == [
        Feed("jma_eqvol", "jma", EQVOL),
        Feed("usgs", "usgs", "https://earthquake.usgs.gov/x.geojson"),
    ]
    assert feed_list("") == [] and Settings().feeds == ""  # none is on by default
    for bad in ("jma:https://x", "a=rss:https://x", "a=jma:ftp://x", "A=jma:https://x"):
        with pytest.raises(ValueError, match="ANSHIN_FEEDS"):
            feed_list(bad)
    with pytest.raises(ValueError, match="given twice"):
        feed_list("a=jma:https://x, a=nws:https://y")
    with pytest.raises(SystemExit, match="ANSHIN_FEEDS"):
        load({"ANSHIN_FEEDS": "eqvol=jma"})


def test_jma_types_are_read_from_the_document_names_of_feeds_and_samples() -> None:
    assert sources.jma_type(f"{EQVOL[:-15]}data/20240101071953_0_VXSE53_010000.xml") == "VXSE53"
    assert sources.jma_type("/x/32-35_04_02_100831_VXSE51.xml") == "VXSE51"
    assert sources.jma_type("/x/15_14_01_170216_VPWW54.xml") == "VPWW54"
    assert sources.jma_type("/x/20210515141010_0_VPRN50_010000.xml") == ""
    assert sources.jma_type("/x/20210515141010_0_VXSE52_010000.xml") == ""


def test_a_recorded_jma_feed_lists_only_documents_events_does_not_read() -> None:
    body = (FIXTURES / "feeds" / "jma-regular-2021-05-15-excerpt.xml").read_bytes()
    assert sources.entries("jma", body, REGULAR) == []
    # The same feed with one entry linking a VXSE53 of the feed's host: that one is followed.
    listed = body.replace(b"VPRN50", b"VXSE53")
    (entry,) = sources.entries("jma", listed, REGULAR)
    assert entry.url == entry.key
    assert entry.url.endswith("/20210515141010_0_VXSE53_010000.xml")


def test_a_feed_cannot_send_the_reader_elsewhere_or_smuggle_entities() -> None:
    body = (FIXTURES / "feeds" / "jma-regular-2021-05-15-excerpt.xml").read_bytes()
    elsewhere = body.replace(b"VPRN50", b"VXSE53").replace(
        b"http://www.data.jma.go.jp/developer/xml/data/", b"http://169.254.169.254/"
    )
    assert sources.entries("jma", elsewhere, REGULAR) == []
    bomb = b'<!DOCTYPE feed [<!ENTITY a "aaaa">]>' + body
    with pytest.raises(Invalid, match="DTD"):
        sources.entries("jma", bomb, REGULAR)
    with pytest.raises(Invalid, match="not an Atom feed"):
        sources.entries("jma", b"<rss/>", REGULAR)


def test_a_recorded_usgs_summary_feed_lists_each_quake_revision_oldest_first() -> None:
    body = (FIXTURES / "feeds" / "usgs-all_hour-2017-01-21.geojson").read_bytes()
    listed = sources.entries("usgs", body, "https://earthquake.usgs.gov/")
    assert [e.key for e in listed] == [
        "ci37572159@1485029029748",
        "ak15118874@1485029718351",
        "us10007une@1485030240040",
        "ci37572167@1485030630866",
    ]
    quake = events.parse(listed[2].content_type, listed[2].document, Settings())
    assert quake.keys == ["usgs:us10007une"] and quake.title.startswith("M 4.8")
    with pytest.raises(Invalid):
        sources.entries("usgs", b'{"type": "Feature"}', "https://x/")


def test_an_nws_alerts_collection_lists_each_alert_read_as_post_events_reads_it() -> None:
    feature = msgspec.json.decode(
        (FIXTURES / "nws" / "special-weather-statement-oun-2025-08-21.json").read_bytes()
    )
    body = msgspec.json.encode({"type": "FeatureCollection", "features": [feature]})
    (entry,) = sources.entries("nws", body, "https://api.weather.gov/alerts/active")
    assert entry.key == feature["id"] and entry.content_type == "application/geo+json"
    alert = events.parse(entry.content_type, entry.document, Settings())
    assert alert.keys[0].startswith("cap:w-nws.webmaster@noaa.gov:")
