"""NWS alerts API GeoJSON (api.weather.gov/alerts/{id}): one alert as a Feature.

The alert is the CAP alert NWS also publishes as XML: it is named alike (sender and
identifier), so the XML and the GeoJSON of one alert are one disaster.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

import msgspec

from services.advisory.disasters import cap, ugc, xmldoc
from services.advisory.disasters.feeds import Disaster, check_areas
from shared.messages import Area, Codes, Polygon

Short = Annotated[str, msgspec.Meta(max_length=300)]
Codes6 = Annotated[list[Annotated[str, msgspec.Meta(max_length=16)]], msgspec.Meta(max_length=4000)]


class _Reference(msgspec.Struct, kw_only=True):
    identifier: Short
    sender: Short
    sent: Short = ""


class _Geocode(msgspec.Struct, kw_only=True, rename={"same": "SAME", "ugc": "UGC"}):
    same: Codes6 = []
    ugc: Codes6 = []


class _Properties(msgspec.Struct, kw_only=True, rename="camel"):
    id: Short
    sender: Short
    sent: Short
    status: Short
    message_type: Short
    event: Short
    headline: Short | None = None
    severity: Short = "Unknown"
    certainty: Short = "Unknown"
    onset: Short | None = None
    geocode: _Geocode = msgspec.field(default_factory=_Geocode)
    references: Annotated[list[_Reference], msgspec.Meta(max_length=500)] = []


class _Polygon(msgspec.Struct, kw_only=True):
    type: Literal["Polygon"]
    # GeoJSON writes [lon, lat]; rings of at most 5,000 points (feeds.MAX_POINTS).
    coordinates: Annotated[
        list[Annotated[list[list[float]], msgspec.Meta(max_length=5000)]],
        msgspec.Meta(max_length=50),
    ]


class NwsAlert(msgspec.Struct, kw_only=True):
    """One alert of the NWS alerts API, as `GET /alerts/{id}` answers it."""

    type: Literal["Feature"]
    id: Short
    properties: _Properties
    geometry: _Polygon | None = None


def is_nws(raw: object) -> bool:
    """Whether a decoded JSON value is an NWS alert rather than a USGS quake."""
    props = raw.get("properties") if isinstance(raw, dict) else None
    return isinstance(props, dict) and ("messageType" in props or props.get("@type") == "wx:Alert")


def from_nws(alert: NwsAlert) -> Disaster:
    """A disaster from an NWS alert: its polygon, else its counties (SAME codes)."""
    p = alert.properties
    areas: list[Area] = []
    if alert.geometry is not None:
        for ring in alert.geometry.coordinates:
            areas.append(Polygon(points=[(pt[1], pt[0]) for pt in ring if len(pt) >= 2]))
    severity = p.severity.lower()
    counties = {c[1:]: severity for c in p.geocode.same if re.fullmatch(r"[0-9]{6}", c)}
    # Without SAME, a county UGC (OKC099) names its county all the same.
    counties = counties or dict.fromkeys(ugc.counties(p.geocode.ugc), severity)
    places = [Codes(scheme="fips", levels=dict(sorted(counties.items())))] if counties else []
    sent = xmldoc.time(p.sent, "properties.sent", "NWS alert")
    cancels = p.message_type == "Cancel"
    disaster = Disaster(
        keys=[f"cap:{p.sender}:{p.id}"],
        hazard=cap.hazard_of(p.event),
        title=(p.headline or p.event).strip()[:300],
        # A warning's onset may lie hours ahead of its sending; the disaster is as of now.
        occurred_at=min(sent, xmldoc.time(p.onset, "properties.onset", "NWS alert"))
        if p.onset
        else sent,
        areas=areas,
        countries=["US"],
        updates=[f"cap:{r.sender}:{r.identifier}" for r in p.references],
        places=[] if areas else places,  # a polygon is the warned area; counties are wider
        order=[int(sent.timestamp())],
        cancels=cancels,
    )
    zone_only = not (areas or places) and bool(p.geocode.ugc)
    if not cancels and not zone_only:
        check_areas(areas, "geometry", disaster.places)
    if p.status != "Actual" or p.message_type not in ("Alert", "Update", "Cancel"):
        disaster.actionable = False
        disaster.reason = f"status {p.status}, messageType {p.message_type}"
    elif zone_only and not cancels:
        disaster.actionable = False
        disaster.reason = "no polygon, SAME or county UGC: UGC zones alone place no one"
    elif p.certainty in ("Possible", "Unlikely"):
        disaster.actionable, disaster.reason = False, "certainty Possible: a watch, not a warning"
    return disaster
