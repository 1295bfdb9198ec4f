"""Hostile documents: XML bombs, fuzzed CAP, GeoJSON and CSV, and the checks every answer meets."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol9;</identifier></alert>"""

QUADRATIC = (
    '<?xml version="1.0"?><!DOCTYPE q [<!ENTITY a "' + "a" * 50_000 + '">]>'
    '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>'
    + "&a;" * 50_000
    + "</identifier></alert>"
)

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE alert [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&xxe;</identifier>
<sender>x</sender><sent>2024-01-01T00:00:00+09:00</sent><status>Actual</status>
<msgType>Alert</msgType><scope>Public</scope>
<info><event>地震</event><area><areaDesc>&xxe;</areaDesc><circle>37.5,137.2 50</circle></area>
</info></alert>"""

EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE alert SYSTEM "http://127.0.0.1:9/evil.dtd">
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>x</identifier></alert>"""

PARAMETER_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE alert [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/x.dtd"> %remote;]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>x</identifier></alert>"""

XINCLUDE = """<?xml version="1.0"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2" xmlns:xi="http://www.w3.org/2001/XInclude">
<identifier><xi:include parse="text" href="file:///etc/passwd"/></identifier></alert>"""

DEEP = "<alert>" + "<a>" * 100_000 + "</a>" * 100_000 + "</alert>"

BOMBS = {
    "billion laughs": BILLION_LAUGHS,
    "quadratic blowup": QUADRATIC,
    "external entity (file)": EXTERNAL_ENTITY,
    "external DTD": EXTERNAL_DTD,
    "parameter entity": PARAMETER_ENTITY,
    "XInclude": XINCLUDE,
    "100,000 nested elements": DEEP,
}

_TEXT = st.text(max_size=40)
_NUMBER = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**20), 10**20))


def cap_document(draw: st.DrawFn) -> str:
    """A CAP 1.2 alert whose every part may be missing, malformed or absurd."""

    def part(tag: str, value: st.SearchStrategy[str]) -> str:
        if draw(st.booleans()):
            return ""
        return f"<{tag}>{_escape(draw(value))}</{tag}>"

    coords = st.lists(_NUMBER, max_size=3).map(lambda xs: ",".join(map(str, xs)))
    circle = st.tuples(coords, _NUMBER).map(lambda t: f"{t[0]} {t[1]}")
    polygon = st.lists(coords, max_size=6).map(" ".join)
    area = "".join(
        [part("areaDesc", _TEXT), part("circle", st.one_of(circle, _TEXT)),
         part("polygon", st.one_of(polygon, _TEXT)),
         part("geocode", st.builds(lambda n, v: f"<valueName>{n}</valueName><value>{v}</value>",
                                   st.sampled_from(["ISO 3166-2", "ISO 3166-1", "x"]),
                                   st.sampled_from(["JP-17", "JP", "ZZ", "", "JP-99"])))]
    )  # fmt: skip
    dates = st.one_of(
        st.datetimes().map(lambda d: d.isoformat() + "+09:00"), _TEXT, st.just("2024-13-45T99")
    )
    event = st.sampled_from(["地震", "earthquake", "台風", "flood", "tsunami", "", "drill"])
    info = "".join(
        [part("event", st.one_of(event, _TEXT)), part("urgency", _TEXT),
         part("eventCode", st.builds(lambda v: f"<valueName>hazard</valueName><value>{v}</value>",
                                     st.one_of(event, _TEXT))),
         part("onset", dates), part("headline", _TEXT), f"<area>{area}</area>"]
    )  # fmt: skip
    status = st.sampled_from(["Actual", "Exercise", "Test", "System", "Draft", ""])
    kind = st.sampled_from(["Alert", "Update", "Cancel", "Ack", "Error", ""])
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'
        + part("identifier", _TEXT) + part("sender", _TEXT) + part("sent", dates)
        + part("status", status) + part("msgType", kind) + part("scope", _TEXT)
        + part("references", _TEXT) + f"<info>{info}</info>" * draw(st.integers(0, 2))
        + "</alert>"
    )  # fmt: skip


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


cap_documents = st.composite(cap_document)


JSON_VALUE = st.recursive(
    st.none() | st.booleans() | _NUMBER | _TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=12,
)


@st.composite
def geojson_features(draw: st.DrawFn) -> dict[str, Any]:
    """A USGS-like earthquake Feature with any field replaced by anything."""
    feature: dict[str, Any] = {
        "type": "Feature",
        "id": draw(st.one_of(_TEXT, JSON_VALUE)),
        "properties": {
            "mag": draw(st.one_of(_NUMBER, JSON_VALUE)),
            "place": draw(_TEXT),
            "time": draw(st.one_of(st.integers(-(10**15), 10**15), JSON_VALUE)),
            "type": draw(st.sampled_from(["earthquake", "quarry blast", "", "x"])),
            "ids": draw(st.one_of(_TEXT, JSON_VALUE)),
        },
        "geometry": {
            "type": draw(st.sampled_from(["Point", "Polygon", "x"])),
            "coordinates": draw(st.one_of(st.lists(_NUMBER, max_size=4), JSON_VALUE)),
        },
    }
    for key in draw(st.lists(st.sampled_from(["id", "properties", "geometry"]), max_size=2)):
        feature.pop(key, None)
    return feature


CSV_HEADER = (
    "order-id,purchase-date,order-status,buyer-id,buyer-email,buyer-name,sku,product-name,"
    "quantity-purchased,ship-country,ship-state,ship-postal-code"
)


@st.composite
def marketplace_csv(draw: st.DrawFn) -> bytes:
    """A marketplace report: a header (sometimes mangled) and rows of anything."""
    header = draw(st.one_of(st.just(CSV_HEADER), _TEXT))
    known = ["M-1", "2024-01-03T09:00:00Z", "a@b.example", "JP", "US", "Cancelled", "-3", "1e9"]
    cell = st.one_of(_TEXT, st.sampled_from(known))
    rows = draw(st.lists(st.lists(cell, max_size=14), max_size=6))
    text = "\n".join([header, *(",".join(json.dumps(c) for c in row) for row in rows)])
    encoding = draw(st.sampled_from(["utf-8", "utf-16", "latin-1"]))
    return text.encode(encoding, errors="replace")


def error_shape_problem(status: int, content_type: str, body: bytes) -> str:
    """Why a reply breaks the contract (no 5xx; a JSON 4xx is {"error", "details"}), or ''."""
    if status >= 500:
        return f"{status}: {body[:200]!r}"
    if 400 <= status < 500 and content_type == "application/json":
        try:
            parsed = json.loads(body)
        except ValueError:
            return f"{status} with a body that is not JSON"
        if not (isinstance(parsed, dict) and isinstance(parsed.get("error"), str)
                and isinstance(parsed.get("details"), list)):  # fmt: skip
            return f"{status} without error and details: {parsed!r:.200}"
    return ""


@st.composite
def plausible_caps(draw: st.DrawFn) -> str:
    """A well-formed CAP alert of the last days, with random places, hazards and codes."""
    import datetime as dt

    sent = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=draw(st.integers(0, 9000)))
    lat, lon = draw(st.floats(-90, 90)), draw(st.floats(-180, 180))
    radius = draw(st.floats(0, 5000))
    points = draw(st.lists(st.tuples(st.floats(-90, 90), st.floats(-180, 180)),
                           min_size=0, max_size=8))  # fmt: skip
    polygon = " ".join(f"{a},{b}" for a, b in points)
    code = draw(st.sampled_from(["JP-17", "JP-13", "US-CA", "FR-75", "JP", "XX-99"]))
    event = draw(st.sampled_from(["地震", "earthquake", "台風", "typhoon", "flood", "大雨"]))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'
        f"<identifier>fuzz-{draw(st.integers(0, 10**9))}</identifier><sender>jma.fuzz</sender>"
        f"<sent>{sent.isoformat()}</sent><status>Actual</status>"
        f"<msgType>{draw(st.sampled_from(['Alert', 'Update']))}</msgType><scope>Public</scope>"
        f"<info><event>{event}</event><headline>{_escape(draw(_TEXT))}</headline><area>"
        f"<areaDesc>{_escape(draw(_TEXT))}</areaDesc><circle>{lat},{lon} {radius}</circle>"
        + (f"<polygon>{polygon}</polygon>" if points else "")
        + f"<geocode><valueName>ISO 3166-2</valueName><value>{code}</value></geocode>"
        "</area></info></alert>"
    )


@st.composite
def plausible_quakes(draw: st.DrawFn) -> dict[str, Any]:
    """A well-formed USGS Feature of the last days, anywhere, of any magnitude."""
    import time as time_module

    when = int((time_module.time() - draw(st.integers(0, 600_000))) * 1000)
    quake_id = f"us{draw(st.integers(0, 10**9))}"
    return {
        "type": "Feature",
        "id": quake_id,
        "properties": {"mag": draw(st.floats(0, 10)), "place": draw(_TEXT), "time": when,
                       "type": "earthquake", "ids": f",{quake_id},", "title": draw(_TEXT)},
        "geometry": {"type": "Point", "coordinates": [draw(st.floats(-180, 180)),
                                                      draw(st.floats(-90, 90)), 10.0]},
    }  # fmt: skip
