"""CAP 1.2 alerts (OASIS) parsed safely: no DTD, no entities, no external references."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from services.advisory.disasters.feeds import Disaster, check_areas, countries_of
from shared.errors import Invalid, field_error
from shared.messages import Area, Circle, Polygon, Regions

NS = "urn:oasis:names:tc:emergency:cap:1.2"
_Q = {"cap": NS}
# CAP writes a point as a circle of radius 0 (the specification's own earthquake example,
# A.3, does). No customer lies at distance 0: the coordinates on the bus are rounded to two
# decimals, up to 0.8 km from the address, so a point is the smallest circle they can
# honour: 1 km, the ship-to addresses at the place named.
POINT_RADIUS_KM = 1.0

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
    """A disaster from one CAP 1.2 `<alert>`; Invalid names the element that is wrong."""
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise Invalid("XML with a DTD or entities is refused", [_bad("$", exc)]) from exc
    except (ParseError, ValueError) as exc:
        raise Invalid("malformed XML", [_bad("$", exc)]) from exc
    if root.tag != f"{{{NS}}}alert":
        raise Invalid("not a CAP 1.2 alert", [field_error("alert", f"root is {root.tag}")])
    sender, identifier = _text(root, "sender"), _text(root, "identifier")
    status, msg_type = _text(root, "status"), _text(root, "msgType")
    info = root.find("cap:info", _Q)
    if info is None:
        raise Invalid("invalid CAP alert", [field_error("alert.info", "required")])
    event = _text(info, "event")
    areas = [a for area in info.findall("cap:area", _Q) for a in _areas(area)]
    check_areas(areas, "alert.info.area")
    given = [
        value.upper()
        for name, value in _geocodes(info)
        if _norm(name) in ("iso31661", "country") and re.fullmatch(r"[A-Za-z]{2}", value)
    ]
    disaster = Disaster(
        keys=[f"cap:{sender}:{identifier}"],
        hazard=_hazard(event, info),
        title=(info.findtext("cap:headline", "", _Q) or event).strip()[:300],
        occurred_at=_time(info.findtext("cap:onset", "", _Q) or _text(root, "sent"), "sent"),
        areas=areas,
        countries=countries_of(areas, given),
        updates=_references(root),
    )
    if status != "Actual" or msg_type not in ("Alert", "Update"):
        disaster.actionable, disaster.reason = False, f"status {status}, msgType {msg_type}"
    return disaster


def _text(element: Element, name: str) -> str:
    value = (element.findtext(f"cap:{name}", "", _Q) or "").strip()
    if not value:
        raise Invalid("invalid CAP alert", [field_error(f"alert.{name}", "required")])
    return value


def _bad(field: str, exc: Exception) -> dict[str, str]:
    return field_error(field, str(exc)[:200] or type(exc).__name__)


def _time(text: str, field: str) -> datetime:
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except ValueError as exc:
        raise Invalid("invalid CAP alert", [field_error(f"alert.{field}", "not a time")]) from exc


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _geocodes(element: Element) -> list[tuple[str, str]]:
    return [
        (g.findtext("cap:valueName", "", _Q), g.findtext("cap:value", "", _Q).strip())
        for g in element.iter(f"{{{NS}}}geocode")
    ]


def _areas(area: Element) -> list[Area]:
    """CAP writes `lat,lon`: polygons as space-separated pairs, circles as `lat,lon radius`
    (radius in km; 0 is a point, taken as POINT_RADIUS_KM)."""
    found: list[Area] = []
    try:
        for text in area.findall("cap:polygon", _Q):
            pairs = [p.split(",") for p in (text.text or "").split()]
            found.append(Polygon(points=[(float(lat), float(lon)) for lat, lon in pairs]))
        for text in area.findall("cap:circle", _Q):
            centre, radius = (text.text or "").split()
            lat, lon = centre.split(",")
            radius_km = float(radius) or POINT_RADIUS_KM  # 0 (or -0): a point
            found.append(Circle(lat=float(lat), lon=float(lon), radius_km=radius_km))
    except ValueError as exc:
        raise Invalid("invalid CAP area", [field_error("alert.info.area", str(exc))]) from exc
    codes = [v.upper() for n, v in _geocodes(area) if _norm(n) in ("iso31662", "iso31661")]
    if codes:
        found.append(Regions(codes=codes))
    return found


def _hazard(event: str, info: Element) -> str:
    for name, value in _geocodes_like(info, "eventCode"):
        if _norm(name) in ("hazard", "anshinhazard") and value:
            return re.sub(r"[^a-z0-9]+", "_", value.lower()).strip("_")
    lowered = event.lower()
    for hazard, words in HAZARD_WORDS.items():
        if any(word in lowered for word in words):
            return hazard
    return re.sub(r"[^a-z0-9]+", "_", lowered).strip("_")[:64] or "unknown"


def _geocodes_like(element: Element, tag: str) -> list[tuple[str, str]]:
    return [
        (g.findtext("cap:valueName", "", _Q), g.findtext("cap:value", "", _Q).strip())
        for g in element.findall(f"cap:{tag}", _Q)
    ]


def _references(root: Element) -> list[str]:
    """`sender,identifier,sent` triples of the alerts this one updates."""
    refs = (root.findtext("cap:references", "", _Q) or "").split()
    return [f"cap:{r.split(',')[0]}:{r.split(',')[1]}" for r in refs if r.count(",") >= 2]
