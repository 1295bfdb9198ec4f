"""What the portal shows of one advisory: the mail in each language, audience, reach, and
whether its deliver_by will be met (as the API's report and the console say)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from services.advisory.desk.svgchart import reach_chart
from services.advisory.desk.web import reader_language
from services.advisory.lifecycle import Advisory, deadline, embargo, store
from services.advisory.lifecycle.preview import mail_preview
from services.advisory.peers.ask import Unavailable
from services.advisory.peers.audience import audience_of
from services.advisory.peers.reach import SERIES, Reach, reach_of
from shared.errors import NotFound
from shared.http import NATS, POOL
from shared.languages import FALLBACK, SUPPORTED
from shared.service import CLOCK, SETTINGS


async def audience(request: web.Request, advisory: Advisory) -> tuple[int | None, str]:
    """The matcher's estimate (only the rule is asked about, never the words), or why none."""
    try:
        return await audience_of(request.app[NATS], advisory), ""
    except Unavailable as exc:
        return None, exc.message


async def advisory_page(request: web.Request, agency_id: str) -> dict[str, Any] | None:
    """The page's context for an advisory of `agency_id`; None for another's or a missing one."""
    pool = request.app[POOL]
    try:
        advisory = await store.get_advisory(pool, request.match_info["advisory_id"])
    except NotFound:
        return None
    if not embargo.may_see(agency_id, advisory.agency_id):
        return None
    # The mail in the language asked for, else in the reader's own: every one has its tab.
    lang = request.query.get("lang", "") or reader_language(request)
    if lang not in SUPPORTED:
        lang = FALLBACK
    customers, audience_problem = await audience(request, advisory)
    now = request.app[CLOCK].now()
    reach = await reach_of(request.app[NATS], advisory, now)
    return {
        "deadline": _deadline(request, advisory, customers, reach, now),
        "deadline_estimate": not embargo.ever_public(advisory.published_at),
        "a": advisory,
        "title": advisory.headline,
        "now": request.app[CLOCK].now(),
        "mail_lang": lang,
        "languages": SUPPORTED,
        "preview": mail_preview(advisory, lang, request.app[SETTINGS]),
        "customers": customers,
        "audience_problem": audience_problem,
        "reach": reach,
        "series": SERIES,
        "chart": reach_chart(reach.days, f"Reach of {advisory.headline} by day"),
        "versions": await store.versions(pool, advisory.id),
    }


def _deadline(
    request: web.Request, advisory: Advisory, customers: int | None, reach: Reach, now: datetime
) -> deadline.Projection | None:
    """Whether the mail goes out by deliver_by: before publication the estimated audience,
    sent from the embargo's end, stands for what will wait (as in the API's report)."""
    if advisory.deliver_by is None or advisory.state == "withdrawn":
        return None
    settings = request.app[SETTINGS]
    if not embargo.ever_public(advisory.published_at):
        if customers is None:
            return None
        start, waiting, by_domain = max(now, advisory.embargo_until), customers, {}
    elif reach.problem:
        return None
    else:
        start, waiting, by_domain = now, reach.counts["waiting"], reach.waiting_by_domain
    return deadline.at_send_rates(
        settings,
        start=start,
        waiting=waiting,
        by_domain=by_domain,
        deliver_by=advisory.deliver_by,
    )
