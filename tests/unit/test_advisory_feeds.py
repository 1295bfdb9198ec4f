"""Disaster feeds: CAP 1.2 XML (safely), USGS GeoJSON and plain JSON become one shape."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from services.advisory.disasters import cap
from services.advisory.disasters.feeds import (
    MAX_AREAS,
    MAX_CODES,
    MAX_PLACES,
    MAX_POINTS,
    PlainEvent,
    UsgsFeature,
    from_plain,
    from_usgs,
)
from shared import messages as m
from shared.bus.size import DEFAULT_MAX_PAYLOAD
from shared.errors import Invalid
from shared.messages import Area, Circle, Codes, DisasterDeclared, Polygon, Regions


def alert(
    info: str, *, identifier: str = "JMA-2024-0001", status: str = "Actual", extra: str = ""
) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier><sender>jma@example.jp</sender>
  <sent>2024-01-01T16:10:00+09:00</sent><status>{status}</status>
  <msgType>{"Update" if extra else "Alert"}</msgType><scope>Public</scope>{extra}
  <info><category>Geo</category><event>地震 Earthquake</event><urgency>Immediate</urgency>
    <severity>Extreme</severity><certainty>Observed</certainty>
    <headline>Noto Peninsula earthquake</headline>{info}</info>
</alert>""".encode()


AREAS = """<area><areaDesc>Noto</areaDesc>
  <polygon>37.0,136.5 37.6,136.5 37.6,137.4 37.0,137.4 37.0,136.5</polygon>
  <circle>37.5,137.27 80</circle>
  <geocode><valueName>ISO 3166-2</valueName><value>JP-17</value></geocode>
  <geocode><valueName>JMA</valueName><value>390</value></geocode></area>"""


def test_cap_areas_are_read_as_lat_lon() -> None:
    disaster = cap.parse(alert(AREAS))
    assert disaster.hazard == "earthquake"
    assert disaster.keys == ["cap:jma@example.jp:JMA-2024-0001"]
    assert disaster.title == "Noto Peninsula earthquake"
    assert disaster.occurred_at.isoformat() == "2024-01-01T07:10:00+00:00"
    polygon, circle, regions = disaster.areas
    assert isinstance(polygon, Polygon) and polygon.points[1] == (37.6, 136.5)
    assert circle == Circle(lat=37.5, lon=137.27, radius_km=80.0)
    assert regions == Regions(codes=["JP-17"])
    assert disaster.countries == ["JP"] and disaster.actionable


def test_the_cap_specifications_earthquake_is_a_point_of_the_smallest_honoured_radius() -> None:
    example = Path(__file__).parent.parent / "fixtures" / "cap" / "oasis-cap-1.2-a3-earthquake.xml"
    disaster = cap.parse(example.read_bytes())
    assert disaster.areas == [Circle(lat=32.9525, lon=-115.5527, radius_km=cap.POINT_RADIUS_KM)]
    assert disaster.hazard == "earthquake" and disaster.title == "EQ 3.4 Imperial County CA"
    assert disaster.updates == ["cap:trinet@caltech.edu:TRI13970876.1"]
    assert disaster.occurred_at.isoformat() == "2003-06-12T03:56:00+00:00"
    with pytest.raises(Invalid):  # a negative radius is still no circle
        cap.parse(alert("<area><areaDesc>x</areaDesc><circle>32.9,-115.5 -1</circle></area>"))


def test_a_cap_update_names_the_alert_it_updates() -> None:
    refs = "<references>jma@example.jp,JMA-2024-0001,2024-01-01T16:10:00+09:00</references>"
    update = cap.parse(alert(AREAS, identifier="JMA-2024-0002", extra=refs))
    assert update.updates == ["cap:jma@example.jp:JMA-2024-0001"]


def test_cap_exercises_are_heard_but_not_acted_upon() -> None:
    assert not cap.parse(alert(AREAS, status="Exercise")).actionable


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol3;</identifier></alert>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE alert [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&xxe;</identifier></alert>"""


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (BOMB, "DTD"),
        (EXTERNAL, "DTD"),
        (b"<alert><unclosed></alert>", "malformed"),
        (b"<feed xmlns='http://www.w3.org/2005/Atom'/>", "not a CAP"),
        (alert("<area><circle>37.5 137.2 80</circle></area>"), "area"),
        (alert("<area><areaDesc>nowhere</areaDesc></area>"), "area"),
    ],
)
def test_unsafe_or_broken_xml_is_refused(data: bytes, error: str) -> None:
    with pytest.raises(Invalid, match=error):
        cap.parse(data)


def quake(mag: float, **props: Any) -> UsgsFeature:
    feature = {
        "type": "Feature",
        "id": "us6000m0xl",
        "properties": {"mag": mag, "time": 1704093010000, "title": f"M {mag} - Noto, Japan"}
        | props,
        "geometry": {"type": "Point", "coordinates": [137.27, 37.49, 10.0]},
    }
    return msgspec.convert(feature, UsgsFeature)


def test_a_usgs_quake_is_a_circle_growing_with_magnitude() -> None:
    strong = from_usgs(quake(7.0, ids=",us6000m0xl,jma2024abc,"), 30.0, 5.0)
    assert strong.areas == [Circle(lat=37.49, lon=137.27, radius_km=120.0)]
    assert strong.keys == ["usgs:us6000m0xl", "usgs:jma2024abc"]
    assert strong.hazard == "earthquake" and strong.actionable
    assert from_usgs(quake(6.0), 10.0, 5.0).areas[0] == Circle(
        lat=37.49, lon=137.27, radius_km=20.0
    )
    weak = from_usgs(quake(4.2), 30.0, 5.0)
    assert not weak.actionable and "4.2" in weak.reason
    assert not from_usgs(quake(5.5, type="quarry blast"), 30.0, 5.0).actionable


def plain(**changes: Any) -> PlainEvent:
    event = {
        "hazard": "typhoon",
        "title": "Typhoon No. 7",
        "time": "2024-08-15T00:00:00Z",
        "area": {"type": "regions", "codes": ["JP-27", "JP-28"]},
    } | changes
    return msgspec.convert(event, PlainEvent)


def test_plain_json_without_an_id_is_named_by_its_content() -> None:
    first, again = from_plain(plain()), from_plain(plain())
    assert first.keys == again.keys and first.countries == ["JP"]
    assert from_plain(plain(title="Typhoon No. 8")).keys != first.keys
    assert from_plain(plain(id="tp-7")).keys == ["json:tp-7"]


@pytest.mark.parametrize(
    ("area", "field"),
    [
        ({"type": "circle", "lat": 95.0, "lon": 0.0, "radius_km": 10.0}, "area"),
        ({"type": "circle", "lat": 35.0, "lon": 135.0, "radius_km": 0.0}, "area"),
        ({"type": "polygon", "points": [[35.0, 135.0], [36.0, 135.0]]}, "area"),
        ({"type": "regions", "codes": ["Osaka"]}, "area"),
        (None, "area"),
    ],
)
def test_bad_areas_name_the_field(area: Any, field: str) -> None:
    with pytest.raises(Invalid) as info:
        from_plain(plain(area=area))
    assert [d["field"] for d in info.value.details] == [field]


def test_too_many_points_or_codes_are_refused_naming_the_field() -> None:
    ring = [[35.0 + n / 1e4, 135.0 + (n % 2) / 1e4] for n in range(MAX_POINTS // 4 + 1)]
    polygons = [{"type": "polygon", "points": ring}] * 4
    with pytest.raises(Invalid) as info:
        from_plain(plain(area=None, areas=polygons))
    [detail] = info.value.details
    assert detail["field"] == "area" and f"at most {MAX_POINTS} polygon points" in detail["problem"]
    codes = [f"JP-{n:03d}" for n in range(MAX_CODES + 1)]
    with pytest.raises(Invalid) as info:
        from_plain(plain(area={"type": "regions", "codes": codes}))
    assert "region codes" in info.value.details[0]["problem"]
    with pytest.raises(msgspec.ValidationError, match=r"properties\.title"):
        quake(7.0, title="M 7.0 " + "x" * 300)


def test_the_largest_disaster_accepted_fits_half_of_max_payload() -> None:
    # Coordinates as long as a float prints, the longest title, every country.
    ring = [(-89.12345678901234, -179.12345678901234)] * (MAX_POINTS // 10)
    areas: list[Area] = [Polygon(points=ring) for _ in range(10)]
    areas += [Regions(codes=[f"JP-{n:03d}" for n in range(MAX_CODES)])]
    assert len(areas) <= MAX_AREAS
    event = DisasterDeclared(
        event_id="dis_" + "f" * 16,
        hazard="x" * 64,
        title="𠮷" * 300,
        occurred_at=datetime(2024, 1, 1, tzinfo=UTC),
        areas=areas,
        countries=[f"{a}{b}" for a in "ABCDEFGHIJ" for b in "ABCDEFGHIJKLMNOPQRSTUVWXY"],
        advisory_ids=["adv_" + "f" * 16] * 100,
        # The most place codes, each at the longest level written.
        places=[Codes(scheme="fips", levels={f"{n:05d}": "moderate" for n in range(MAX_PLACES)})],
        revision=2**31 - 1,
        cancelled=True,
    )
    assert len(m.encode(event)) <= DEFAULT_MAX_PAYLOAD // 2


def test_plain_json_declares_places_by_code_in_their_country() -> None:
    event = {
        "hazard": "earthquake",
        "title": "Noto",
        "time": "2024-01-01T07:10:00Z",
        "places": [{"type": "codes", "scheme": "jis", "levels": {"17205": "7", "17204": "6+"}}],
    }
    disaster = from_plain(msgspec.convert(event, PlainEvent))
    assert disaster.areas == [] and disaster.countries == ["JP"]
    assert disaster.places == [Codes(scheme="jis", levels={"17205": "7", "17204": "6+"})]
    for levels, problem in [
        ({"1720": "7"}, "five digits"),
        ({"１７２０５": "7"}, "five digits"),  # full-width digits are not a code
        ({"17205": "<script>"}, "level"),
    ]:
        event["places"] = [{"type": "codes", "scheme": "jis", "levels": levels}]
        with pytest.raises(Invalid) as caught:
            from_plain(msgspec.convert(event, PlainEvent))
        assert problem in caught.value.details[0]["problem"]
