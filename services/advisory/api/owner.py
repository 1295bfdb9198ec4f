"""What only an advisory's agency and operators may ask: preview, audience, reach."""

from __future__ import annotations

import msgspec
from aiohttp import web

from services.advisory.api.advisories import PRIVATE, owned
from services.advisory.api.schemas import Audience, DayCounts, Report
from services.advisory.lifecycle.preview import mail_preview
from services.advisory.peers import reach
from services.advisory.peers.ask import ask
from shared import messages as m
from shared.bus import Subjects
from shared.errors import Invalid, field_error
from shared.http import NATS, json_response
from shared.languages import SUPPORTED
from shared.service import SETTINGS

routes = web.RouteTableDef()


@routes.get("/v1/advisories/{advisory_id}/preview")
async def preview(request: web.Request) -> web.Response:
    """The mail as a customer would get it, rendered by the mailer's own templates."""
    advisory = await owned(request)
    lang = request.query.get("lang", "en")
    if lang not in SUPPORTED:
        raise Invalid("invalid query", [field_error("lang", f"one of {', '.join(SUPPORTED)}")])
    answer = mail_preview(advisory, lang, request.app[SETTINGS])
    return json_response(answer, headers=PRIVATE)


@routes.get("/v1/advisories/{advisory_id}/audience")
async def audience(request: web.Request) -> web.Response:
    """How many customers the advisory would reach now, as the matcher estimates it."""
    advisory = await owned(request)
    # Only the rule travels: who is concerned, never the embargoed words.
    question = m.AudienceRequest(rule=msgspec.convert(advisory["rule"], m.AdvisoryRule))
    estimate = await ask(
        request.app[NATS], Subjects.MATCHER_AUDIENCE, question, m.AudienceEstimate, "matcher"
    )
    answer = Audience(advisory_id=advisory["id"], customers=estimate.customers)
    return json_response(answer, headers=PRIVATE)


@routes.get("/v1/advisories/{advisory_id}/report")
async def report(request: web.Request) -> web.Response:
    """How far the advisory has reached: the mailer's ledger states in five series."""
    advisory = await owned(request)
    counts = dict.fromkeys(reach.SERIES, 0)
    by_day: list[DayCounts] = []
    # Before publication nothing was sent, and the embargoed id need not cross the bus.
    if advisory["published_at"] is not None:
        question = m.ReportRequest(advisory_id=advisory["id"])
        ledger = await ask(
            request.app[NATS], Subjects.MAILER_REPORT, question, m.ReachReport, "mailer"
        )
        counts = reach.five(ledger.counts)
        by_day = [DayCounts(day=d.day, counts=reach.five(d.counts)) for d in ledger.by_day]
    answer = Report(advisory_id=advisory["id"], counts=counts, by_day=by_day)
    return json_response(answer, headers=PRIVATE)
