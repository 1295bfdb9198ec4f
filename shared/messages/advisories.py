"""Published advisories (`advisories.*`) and declared disasters (`disasters.*`)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from shared.messages.base import Message
from shared.messages.rules import AdvisoryRule


class AdvisoryPublished(Message, tag="advisory.published"):
    """An advisory passed its embargo (or was amended after it) and is public now."""

    advisory_id: str
    version: int
    agency_id: str
    agency_name: str
    rule: AdvisoryRule
    title: dict[str, str]
    body: dict[str, str]
    published_at: datetime
    source_url: str = ""
    expires_at: datetime | None = None
    v: int = 1
    # A version after the first made public is a correction: when it went public. Those who
    # received an earlier version get a short correction mail (docs/advisory.md).
    corrected_at: datetime | None = None


class AdvisoryWithdrawn(Message, tag="advisory.withdrawn"):
    """An advisory was withdrawn: pending deliveries stop, notices come down."""

    advisory_id: str
    withdrawn_at: datetime
    v: int = 1
    # The agency asked for a short withdrawal notice to everyone who received the advisory.
    notify_recipients: bool = False


AdvisoryEvent = AdvisoryPublished | AdvisoryWithdrawn


class Circle(msgspec.Struct, tag="circle", kw_only=True):
    """A disc on the earth: centre and radius in kilometres."""

    lat: float
    lon: float
    radius_km: float


class Polygon(msgspec.Struct, tag="polygon", kw_only=True):
    """A closed ring of (lat, lon) points."""

    points: list[tuple[float, float]]


class Regions(msgspec.Struct, tag="regions", kw_only=True):
    """A set of ISO 3166-2 regions (or whole countries as ISO 3166-1 alpha-2 codes)."""

    codes: list[str]


Area = Circle | Polygon | Regions


class Codes(msgspec.Struct, tag="codes", kw_only=True):
    """Places named by code, each with the level reached there.

    `scheme` "jis": Japanese municipalities (JIS X 0402, five digits) with JMA's seismic
    intensity (1, 2, 3, 4, 5-, 5+, 6-, 6+, 7) or warning level (warning, emergency);
    "fips": US counties (five-digit FIPS) with the alert's CAP severity (extreme, severe,
    moderate, minor, unknown). A customer is inside when their code is a key whose level is
    at or above the playbook's condition (services/matcher/rules/disaster.py).
    """

    scheme: Literal["jis", "fips"]
    levels: dict[str, str]


class DisasterDeclared(Message, tag="disaster.declared"):
    """A disaster was declared in an area; it activates the matching disaster advisories."""

    event_id: str
    hazard: str
    title: str
    occurred_at: datetime
    areas: list[Area]
    countries: list[str]
    advisory_ids: list[str]
    v: int = 1
    # Added fields (older readers ignore them): places by code, beside `areas`; the
    # revision of the disaster's area (a correction or update is the next one, the same
    # event_id); whether the feed cancelled it. docs/advisory.md says how to read them.
    places: list[Codes] = []
    revision: int = 1
    cancelled: bool = False
    # A quake's magnitude where its feed gives one (USGS): a playbook's `min_magnitude`.
    magnitude: float | None = None


DisasterEvent = DisasterDeclared
