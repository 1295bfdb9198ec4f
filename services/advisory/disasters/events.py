"""POST /v1/events: disasters from CAP or JMA XML, USGS or NWS GeoJSON, or plain JSON."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal, NamedTuple

import asyncpg
import msgspec
from aiohttp import web
from prometheus_client import Counter

from services.advisory.agencies.auth import authenticate
from services.advisory.disasters import cap, drill, jma, nws, xmldoc
from services.advisory.disasters import store as store_disasters
from services.advisory.disasters.feeds import (
    Disaster,
    PlainEvent,
    UsgsFeature,
    from_plain,
    from_usgs,
)
from shared.config import Settings
from shared.errors import AnshinError, Invalid, field_error
from shared.http import (
    NATS,
    POOL,
    json_response,
    name_unknown_fields,
    read_body,
    validation_details,
)
from shared.messages import Area, Codes, PlaybookAudience
from shared.service import CLOCK, SETTINGS

routes = web.RouteTableDef()

MAX_EVENT_BYTES = 1024 * 1024
XML_TYPES = ("application/cap+xml", "application/xml", "text/xml")
# An event older than this is history, not a disaster to warn about now.
MAX_AGE = timedelta(days=7)
# Feeds' clocks drift a little; an event further ahead than this is a mistake.
MAX_AHEAD = timedelta(hours=1)
DISASTERS = Counter(
    "anshin_disasters",
    "Disaster events received, by outcome (declared, duplicate, stale, revised, cancelled).",
    ["outcome"],
)


class DisasterOut(msgspec.Struct, kw_only=True):
    """A declared disaster and the playbooks it activated."""

    id: str
    duplicate: bool
    declared: bool
    hazard: str
    title: str
    occurred_at: datetime
    countries: list[str]
    areas: list[Area]
    advisory_ids: list[str]
    reason: str = ""
    places: list[Codes] = []
    revision: int = 1
    cancelled: bool = False
    # ?dry_run=true: nothing declared, stored or sent; each playbook's audience, by area.
    dry_run: bool = False
    audience: list[PlaybookAudience] = []


class Settled(NamedTuple):
    """What a report did: the answer, its HTTP status, and the store's outcome ("heard":
    not actionable, nothing stored)."""

    answer: DisasterOut
    status: int
    outcome: store_disasters.Outcome | Literal["heard", "drill"]


class UnsupportedType(AnshinError):
    """A body in a format /v1/events does not read."""

    status = 415


@routes.post("/v1/events")
async def post_event(request: web.Request) -> web.Response:
    """Declare a disaster (operators, for the feeds they run); the same event twice is one."""
    (await authenticate(request)).require_operator()
    settings = request.app[SETTINGS]
    body = await read_body(request, event_limit(settings))
    dry_run = drill.flag(request)
    disaster = parse(request.content_type, body, settings)
    settled = await settle(
        request.app[POOL], disaster, request.app[CLOCK].now(), _countries(request), dry_run
    )
    if settled.outcome == "drill":
        ids = settled.answer.advisory_ids
        settled.answer.audience = await drill.audience(request.app[NATS], disaster, ids)
    return json_response(settled.answer, status=settled.status)


def event_limit(settings: Settings) -> int:
    """The most bytes one event document may take (a POST body, a feed's document)."""
    return min(settings.max_body_bytes, MAX_EVENT_BYTES)


async def settle(
    pool: asyncpg.Pool,
    disaster: Disaster,
    now: datetime,
    countries: Sequence[str] = (),
    dry_run: bool = False,
) -> Settled:
    """Declare, revise or cancel what a parsed report says; the answer and its HTTP status.

    POST /v1/events and the feed reader (feedreader/) both end here. A dry run declares
    nothing: its answer names the playbooks it would activate ("drill").
    """
    disaster.countries = sorted(set(disaster.countries) | set(countries))
    if disaster.occurred_at > now + MAX_AHEAD:
        raise Invalid("invalid event", [field_error("time", "is in the future")])
    # A drill may replay history: only a declaration must be news.
    if disaster.actionable and disaster.occurred_at < now - MAX_AGE and not dry_run:
        disaster.actionable, disaster.reason = False, "the event is older than 7 days"
    if dry_run and disaster.cancels:
        disaster.actionable, disaster.reason = False, "a cancellation reaches nobody"
    if not disaster.actionable:
        return Settled(_answer(disaster, "", [], duplicate=False), 202, "heard")
    if dry_run:
        ids = await store_disasters.playbooks(pool, disaster, now)
        answer = _answer(disaster, "", ids, duplicate=False)
        answer.dry_run = True
        return Settled(answer, 200, "drill")
    row, outcome = await store_disasters.declare(pool, disaster, now)
    DISASTERS.labels(outcome).inc()
    if row is None:
        disaster.reason = "cancels no disaster declared here"
        return Settled(_answer(disaster, "", [], duplicate=False), 202, outcome)
    # A report answers with the disaster as it stands, not as this copy says.
    stands = Disaster(
        keys=disaster.keys,
        hazard=row.hazard,
        title=row.title,
        occurred_at=row.occurred_at,
        areas=row.areas,
        countries=row.countries,
        places=row.places,
        reason="cancelled by its feed: later reports change nothing"
        if row.cancelled_at is not None
        else _REASONS.get(outcome, disaster.reason),
    )
    answer = _answer(stands, row.id, row.advisory_ids, duplicate=outcome in ("duplicate", "stale"))
    answer.revision, answer.cancelled = row.revision, row.cancelled_at is not None
    return Settled(answer, 201 if outcome == "declared" else 200, outcome)


_REASONS = {
    "stale": "an older report than the last applied: nothing changed",
    "revised": "the area was revised: the disaster went out again as its next revision",
    "cancelled": "cancelled by its feed",
}


def parse(kind: str, body: bytes, settings: Settings) -> Disaster:
    """A report of any format /v1/events reads, by its content type; Invalid otherwise."""
    if kind in XML_TYPES:
        root = xmldoc.parse(body)
        # JMA's documents are recognised by their root namespace; anything else is CAP's.
        return jma.parse(root) if xmldoc.namespace(root) == jma.NS else cap.from_root(root)
    if kind not in ("application/json", "application/geo+json", "application/octet-stream"):
        raise UnsupportedType(
            "unsupported content type",
            [field_error("Content-Type", f"{kind} is not CAP XML, GeoJSON or JSON")],
        )
    try:
        raw = msgspec.json.decode(body)
        # A GeoJSON Feature is one whatever the header says; anything else is plain JSON.
        if kind == "application/geo+json" or (
            isinstance(raw, dict) and raw.get("type") == "Feature"
        ):
            if nws.is_nws(raw):
                return nws.from_nws(msgspec.convert(raw, nws.NwsAlert))
            feature = msgspec.convert(raw, UsgsFeature)
            return from_usgs(feature, settings.quake_radius_km, settings.quake_min_magnitude)
        return from_plain(msgspec.convert(raw, PlainEvent))
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise Invalid("invalid event", name_unknown_fields(validation_details(exc))) from exc


def _countries(request: web.Request) -> list[str]:
    """`?countries=JP,FR`: the countries a feed covers, where its events do not say."""
    codes = [c.strip() for c in request.query.get("countries", "").split(",") if c.strip()]
    if not all(re.fullmatch(r"[A-Z]{2}", c) for c in codes):
        raise Invalid("invalid query", [field_error("countries", "ISO 3166-1 alpha-2 codes")])
    return codes


def _answer(
    disaster: Disaster, disaster_id: str, ids: list[str], *, duplicate: bool
) -> DisasterOut:
    return DisasterOut(
        id=disaster_id,
        duplicate=duplicate,
        declared=bool(disaster_id),
        hazard=disaster.hazard,
        title=disaster.title,
        occurred_at=disaster.occurred_at,
        countries=disaster.countries,
        areas=disaster.areas,
        advisory_ids=ids,
        reason=disaster.reason,
        places=disaster.places,
    )
