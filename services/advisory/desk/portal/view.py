"""What the portal shows of one advisory: the mail in each language, audience, reach."""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from services.advisory.desk.console import store as store_console
from services.advisory.desk.svgchart import reach_chart
from services.advisory.lifecycle import store
from services.advisory.lifecycle.preview import mail_preview
from services.advisory.peers.ask import Unavailable, ask
from services.advisory.peers.reach import SERIES, reach_of
from shared import messages as m
from shared.bus import Subjects
from shared.errors import NotFound
from shared.http import NATS, POOL
from shared.languages import SUPPORTED
from shared.service import CLOCK, SETTINGS


async def audience(request: web.Request, advisory: dict[str, Any]) -> tuple[int | None, str]:
    """The matcher's estimate (only the rule is asked about, never the words), or why none."""
    question = m.AudienceRequest(rule=msgspec.convert(advisory["rule"], m.AdvisoryRule))
    try:
        estimate = await ask(
            request.app[NATS], Subjects.MATCHER_AUDIENCE, question, m.AudienceEstimate, "matcher"
        )
    except Unavailable as exc:
        return None, exc.message
    return estimate.customers, ""


async def advisory_page(request: web.Request, agency_id: str) -> dict[str, Any] | None:
    """The page's context for an advisory of `agency_id`; None for another's or a missing one."""
    pool = request.app[POOL]
    try:
        advisory = await store.get_advisory(pool, request.match_info["advisory_id"])
    except NotFound:
        return None
    if advisory["agency_id"] != agency_id:
        return None
    lang = request.query.get("lang", "en")
    if lang not in SUPPORTED:
        lang = "en"
    now = request.app[CLOCK].now()
    customers, audience_problem = await audience(request, advisory)
    reach = await reach_of(request.app[NATS], advisory)
    title = advisory["title"].get("en") or next(iter(advisory["title"].values()), "")
    return {
        "a": advisory,
        "title": title,
        "now": now,
        "mail_lang": lang,
        "languages": SUPPORTED,
        "preview": mail_preview(advisory, lang, request.app[SETTINGS]),
        "customers": customers,
        "audience_problem": audience_problem,
        "reach": reach,
        "series": SERIES,
        "chart": reach_chart(reach.days, f"Reach of {title} by day"),
        "versions": await store_console.versions(pool, advisory["id"]),
    }
