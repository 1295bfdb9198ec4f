"""NWS alerts as NWS publishes them: CAP 1.1 XML and the alerts API's GeoJSON, by county."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
import pytest

from services.advisory.disasters import cap, nws, ugc
from shared.errors import Invalid
from shared.messages import Codes, Polygon

FIXTURES = Path(__file__).parent.parent / "fixtures"
CAP11 = FIXTURES / "cap" / "nws-cap-1.1-flood-warning-2015.xml"
GEOJSON = FIXTURES / "nws" / "special-weather-statement-oun-2025-08-21.json"


def test_nws_cap_1_1_is_read_by_the_one_parser_its_polygon_first() -> None:
    warning = cap.parse(CAP11.read_bytes())
    assert warning.actionable and warning.hazard == "flood"
    assert warning.keys == [
        "cap:w-nws.webmaster@noaa.gov:NOAA-NWS-ALERTS-AR1253BA3B00A4.FloodWarning"
        ".1253BA3D4A94AR.LZKFLSLZK.342064b5a5aafb8265dfc3707d6a3b09"
    ]
    (polygon,) = warning.areas
    assert isinstance(polygon, Polygon) and polygon.points[0] == (35.1, -91.33)
    # The polygon is the warned area: Jackson and Woodruff counties (FIPS6 005067, 005147)
    # are wider, so they place no one; the country is known from them.
    assert warning.places == [] and warning.countries == ["US"]
    assert warning.order == [int(warning.occurred_at.timestamp())]


def test_cap_counties_without_a_polygon_are_fips_places_with_the_severity() -> None:
    doc = CAP11.read_bytes()
    start, end = doc.index(b"<polygon>"), doc.index(b"</polygon>") + len(b"</polygon>")
    without = doc[:start] + b"<polygon></polygon>" + doc[end:]  # as NWS writes most alerts
    warning = cap.parse(without)
    assert warning.areas == [] and warning.actionable
    assert warning.places == [
        Codes(scheme="fips", levels={"05067": "moderate", "05147": "moderate"})
    ]


def test_zone_only_cap_alerts_are_heard_not_declared() -> None:
    doc = CAP11.read_bytes()
    start, end = doc.index(b"<polygon>"), doc.rindex(b"</geocode>") + len(b"</geocode>")
    zones = doc[:start] + b"<geocode><valueName>UGC</valueName><value>ARZ067</value></geocode>"
    alert = cap.parse(zones + doc[end:])
    assert not alert.actionable and "UGC zones" in alert.reason


@pytest.mark.parametrize(
    ("old", "new", "actionable", "cancels"),
    [
        (b"<status>Actual</status>", b"<status>Exercise</status>", False, False),
        (b"<status>Actual</status>", b"<status>Test</status>", False, False),
        (b"<status>Actual</status>", b"<status>Draft</status>", False, False),
        (b"<msgType>Alert</msgType>", b"<msgType>Cancel</msgType>", True, True),
        (b"<certainty>Likely</certainty>", b"<certainty>Possible</certainty>", False, False),
    ],
)
def test_cap_status_and_message_type(
    old: bytes, new: bytes, actionable: bool, cancels: bool
) -> None:
    doc = CAP11.read_bytes()
    assert old in doc
    alert = cap.parse(doc.replace(old, new))
    assert (alert.actionable, alert.cancels) == (actionable, cancels)


def test_cap_1_0_and_1_2_read_alike() -> None:
    doc = CAP11.read_bytes()
    for ns in (b"http://www.incident.com/cap/1.0", b"urn:oasis:names:tc:emergency:cap:1.2"):
        same = cap.parse(doc.replace(b"urn:oasis:names:tc:emergency:cap:1.1", ns))
        assert same == cap.parse(doc)
    with pytest.raises(Invalid, match="not a CAP"):
        cap.parse(doc.replace(b"urn:oasis:names:tc:emergency:cap:1.1", b"urn:example:cap:9"))


def test_an_nws_geojson_alert_is_its_polygon_named_as_its_cap_alert() -> None:
    raw = msgspec.json.decode(GEOJSON.read_bytes())
    assert nws.is_nws(raw)
    alert = nws.from_nws(msgspec.convert(raw, nws.NwsAlert))
    assert alert.actionable and alert.countries == ["US"]
    assert alert.keys == [
        "cap:w-nws.webmaster@noaa.gov:urn:oid:2.49.0.1.840.0.016b1baf924dd17269c8d8b918e6add52c839dc9.001.1"
    ]
    (polygon,) = alert.areas
    assert isinstance(polygon, Polygon) and polygon.points[0] == (34.18, -97.12)  # lat, lon
    assert alert.places == [] and alert.occurred_at.isoformat() == "2025-08-21T17:58:00+00:00"


def test_nws_geojson_without_geometry_is_its_same_counties() -> None:
    raw = msgspec.json.decode(GEOJSON.read_bytes())
    raw["geometry"] = None
    alert = nws.from_nws(msgspec.convert(raw, nws.NwsAlert))
    assert alert.places == [
        Codes(scheme="fips", levels={"40019": "moderate", "40069": "moderate", "40099": "moderate"})
    ]
    raw["properties"]["geocode"]["SAME"] = []
    zone_only = nws.from_nws(msgspec.convert(raw, nws.NwsAlert))
    assert not zone_only.actionable and "UGC zones" in zone_only.reason


def test_nws_geojson_updates_and_cancels_name_the_alerts_they_reference() -> None:
    raw = msgspec.json.decode(GEOJSON.read_bytes())
    first = raw["properties"]["id"]
    raw["properties"] |= {
        "id": "urn:oid:2.49.0.1.840.0.later",
        "messageType": "Cancel",
        "references": [{"identifier": first, "sender": "w-nws.webmaster@noaa.gov", "sent": "x"}],
    }
    cancel = nws.from_nws(msgspec.convert(raw, nws.NwsAlert))
    assert cancel.cancels and cancel.updates == [f"cap:w-nws.webmaster@noaa.gov:{first}"]
    raw["properties"]["status"] = "Test"
    assert not nws.from_nws(msgspec.convert(raw, nws.NwsAlert)).actionable


def test_an_onset_ahead_of_the_sending_dates_the_disaster_when_sent() -> None:
    raw = msgspec.json.decode(GEOJSON.read_bytes())
    raw["properties"]["onset"] = "2025-08-22T12:58:00-05:00"  # a watch for tomorrow
    alert = nws.from_nws(msgspec.convert(raw, nws.NwsAlert))
    assert alert.occurred_at.isoformat() == "2025-08-21T17:58:00+00:00"  # sent
    doc = CAP11.read_bytes().replace(
        b"<expires>", b"<onset>2015-08-17T08:00:00-05:00</onset><expires>", 1
    )
    assert cap.parse(doc).occurred_at.isoformat() == "2015-08-16T01:45:00+00:00"  # sent


def test_county_ugc_codes_name_their_counties_where_no_fips6_or_same_is_given() -> None:
    # The NWS's own CAP 1.1 warning, its polygon and FIPS6 codes taken out: what stays is
    # its UGC geocodes, ARC067 and ARC147, counties (C) of Arkansas (FIPS 05).
    doc = CAP11.read_bytes()
    start, end = doc.index(b"<polygon>"), doc.index(b"</polygon>") + len(b"</polygon>")
    doc = doc[:start] + doc[end:]
    doc = re.sub(
        rb"<geocode>\s*<valueName>FIPS6</valueName>\s*<value>\d+</value>\s*</geocode>", b"", doc
    )
    assert b"FIPS6" not in doc and b"<polygon>" not in doc
    alert = cap.parse(doc)
    assert alert.actionable, alert.reason
    assert alert.places == [Codes(scheme="fips", levels={"05067": "moderate", "05147": "moderate"})]
    assert alert.countries == ["US"]


def test_ugc_counties_are_read_from_the_census_states_and_zones_are_left_out() -> None:
    assert ugc.counties(["ARC067", "okc099", "FLZ108", "XXC001", "ARC06"]) == ["05067", "40099"]
