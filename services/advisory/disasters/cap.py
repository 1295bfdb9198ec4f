"""CAP alerts (OASIS CAP 1.0, 1.1 and 1.2) through one parser, read safely (xmldoc)."""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element

from services.advisory.disasters import ugc, xmldoc
from services.advisory.disasters.feeds import Disaster, check_areas, countries_of
from shared.errors import Invalid, field_error
from shared.messages import Area, Circle, Codes, Polygon, Regions

# Every version names its elements alike; only the namespace differs.
NAMESPACES = (
    "urn:oasis:names:tc:emergency:cap:1.2",
    "urn:oasis:names:tc:emergency:cap:1.1",
    "http://www.incident.com/cap/1.0",
)
NS = NAMESPACES[0]
# CAP writes a point as a circle of radius 0 (the specification's own earthquake example,
# A.3, does). No customer lies at distance 0: the coordinates on the bus are rounded to two
# decimals, up to 0.8 km from the address, so a point is the smallest circle they can
# honour: 1 km, the ship-to addresses at the place named.
POINT_RADIUS_KM = 1.0
# Geocodes naming a US county: FIPS6 and SAME are six digits, a leading digit (0: the whole
# county) then the county's five-digit FIPS code.
COUNTY_CODES = ("fips6", "same")

# CAP's <event> is free text: these words name our hazard codes (any language feeds use).
HAZARD_WORDS = {
    "earthquake": ("earthquake", "seism", "地震"),
    "tsunami": ("tsunami", "津波"),
    "typhoon": ("typhoon", "台風"),
    "hurricane": ("hurricane", "ouragan"),
    "flood": ("flood", "inondation", "洪水", "浸水"),
    "wildfire": ("wildfire", "forest fire", "bushfire", "incendie"),
    "tornado": ("tornado", "竜巻"),
    "volcano": ("volcan", "eruption", "噴火"),
    "landslide": ("landslide", "土砂"),
    "storm": ("storm", "tempête", "暴風"),
}


def parse(data: bytes) -> Disaster:
    """A disaster from one CAP `<alert>` document."""
    return from_root(xmldoc.parse(data))


def from_root(root: Element) -> Disaster:
    """A disaster from a CAP `<alert>` element; Invalid names the element that is wrong."""
    ns = xmldoc.namespace(root)
    if ns not in NAMESPACES or not root.tag.endswith("}alert"):
        raise Invalid("not a CAP alert", [field_error("alert", f"root is {root.tag}")])
    q = {"cap": ns}
    sender, identifier = _text(root, "sender", q), _text(root, "identifier", q)
    status, msg_type = _text(root, "status", q), _text(root, "msgType", q)
    info = root.find("cap:info", q)
    if info is None:
        raise Invalid("invalid CAP alert", [field_error("alert.info", "required")])
    event = _text(info, "event", q)
    areas: list[Area] = []
    counties: dict[str, str] = {}
    given, zones = [], []
    severity = (info.findtext("cap:severity", "", q) or "unknown").strip().lower()
    for area in info.findall("cap:area", q):
        areas += _areas(area, q)
        for name, value in _pairs(area, "geocode", q):
            if name in COUNTY_CODES and re.fullmatch(r"[0-9]{6}", value):
                counties[value[1:]] = severity
            elif name in ("iso31661", "country") and re.fullmatch(r"[A-Za-z]{2}", value):
                given.append(value.upper())
            elif name == "ugc":
                zones.append(value)
    cancels = msg_type == "Cancel"
    # Without FIPS6 or SAME, a county UGC (ARC067) names its county all the same.
    counties = counties or dict.fromkeys(ugc.counties(zones), severity)
    # A polygon is the warned area itself; its counties are wider: they place no one then.
    polygons = [a for a in areas if isinstance(a, Polygon)]
    places = [Codes(scheme="fips", levels=dict(sorted(counties.items())))] if counties else []
    sent = xmldoc.time(_text(root, "sent", q), "alert.sent", "CAP alert")
    disaster = Disaster(
        keys=[f"cap:{sender}:{identifier}"],
        hazard=_hazard(event, info, q),
        title=(info.findtext("cap:headline", "", q) or event).strip()[:300],
        occurred_at=sent,
        areas=areas,
        countries=countries_of(areas, given + (["US"] if counties else [])),
        updates=_references(root, q),
        places=[] if polygons else places,
        order=[int(sent.timestamp())],
        cancels=cancels,
    )
    if onset := (info.findtext("cap:onset", "", q) or "").strip():
        # A warning's onset may lie hours ahead of its sending; the disaster is as of now.
        disaster.occurred_at = min(sent, xmldoc.time(onset, "alert.info.onset", "CAP alert"))
    zone_only = not (areas or disaster.places) and bool(zones)
    if not cancels and not zone_only:
        check_areas(areas, "alert.info.area", disaster.places)
    if status != "Actual" or msg_type not in ("Alert", "Update", "Cancel"):
        disaster.actionable, disaster.reason = False, f"status {status}, msgType {msg_type}"
    elif zone_only and not cancels:
        disaster.actionable = False
        disaster.reason = (
            "no polygon, circle, FIPS6, SAME or county UGC: UGC zones alone place no one"
        )
    elif (info.findtext("cap:certainty", "", q) or "").strip() in ("Possible", "Unlikely"):
        disaster.actionable, disaster.reason = False, "certainty Possible: a watch, not a warning"
    return disaster


def _text(element: Element, name: str, q: dict[str, str]) -> str:
    value = (element.findtext(f"cap:{name}", "", q) or "").strip()
    if not value:
        raise Invalid("invalid CAP alert", [field_error(f"alert.{name}", "required")])
    return value


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _pairs(element: Element, tag: str, q: dict[str, str]) -> list[tuple[str, str]]:
    """(valueName, value) of every `tag` child: NWS writes several pairs in one element and
    several codes, space-separated, in one value."""
    found = []
    for item in element.findall(f"cap:{tag}", q):
        name = ""
        for child in item:
            if child.tag == f"{{{q['cap']}}}valueName":
                name = _norm(child.text or "")
            elif child.tag == f"{{{q['cap']}}}value":
                found += [(name, value) for value in (child.text or "").split()]
    return found


def _areas(area: Element, q: dict[str, str]) -> list[Area]:
    """CAP writes `lat,lon`: polygons as space-separated pairs, circles as `lat,lon radius`
    (radius in km; 0 is a point, taken as POINT_RADIUS_KM). An empty polygon is none."""
    found: list[Area] = []
    try:
        for text in area.findall("cap:polygon", q):
            # NWS CAP 1.1 breaks long polygons inside a pair ("+28.23,-\n82.76").
            pairs = [p.split(",") for p in re.sub(r",\s+", ",", text.text or "").split()]
            if pairs:
                found.append(Polygon(points=[(float(lat), float(lon)) for lat, lon in pairs]))
        for text in area.findall("cap:circle", q):
            centre, radius = (text.text or "").split()
            lat, lon = centre.split(",")
            radius_km = float(radius) or POINT_RADIUS_KM  # 0 (or -0): a point
            found.append(Circle(lat=float(lat), lon=float(lon), radius_km=radius_km))
    except ValueError as exc:
        raise Invalid("invalid CAP area", [field_error("alert.info.area", str(exc))]) from exc
    codes = [v.upper() for n, v in _pairs(area, "geocode", q) if n in ("iso31662", "iso31661")]
    if codes:
        found.append(Regions(codes=codes))
    return found


def _hazard(event: str, info: Element, q: dict[str, str]) -> str:
    for name, value in _pairs(info, "eventCode", q):
        if name in ("hazard", "anshinhazard") and value:
            return re.sub(r"[^a-z0-9]+", "_", value.lower()).strip("_")
    return hazard_of(event)


def hazard_of(event: str) -> str:
    """Our hazard code for a free-text event name (CAP `<event>`, NWS `event`)."""
    lowered = event.lower()
    for hazard, words in HAZARD_WORDS.items():
        if any(word in lowered for word in words):
            return hazard
    return re.sub(r"[^a-z0-9]+", "_", lowered).strip("_")[:64] or "unknown"


def _references(root: Element, q: dict[str, str]) -> list[str]:
    """`sender,identifier,sent` triples of the alerts this one updates or cancels."""
    refs = (root.findtext("cap:references", "", q) or "").split()
    return [f"cap:{r.split(',')[0]}:{r.split(',')[1]}" for r in refs if r.count(",") >= 2]
