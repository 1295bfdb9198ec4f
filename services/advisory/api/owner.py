"""What only an advisory's agency and operators may ask: preview, audience, reach."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from services.advisory.api.advisories import PRIVATE, owned
from services.advisory.api.schemas import (
    Audience,
    DayCounts,
    Deadline,
    Preview,
    Report,
    Waiting,
)
from services.advisory.lifecycle import Advisory, deadline, embargo
from services.advisory.lifecycle.preview import mail_preview
from services.advisory.peers import reach
from services.advisory.peers.ask import ask
from services.advisory.peers.audience import audience_of
from services.advisory.peers.funnel import funnel_of
from shared import messages as m
from shared.bus import Subjects
from shared.errors import Invalid, field_error
from shared.http import NATS, json_response
from shared.languages import FALLBACK, SUPPORTED
from shared.service import CLOCK, SETTINGS
from shared.waiting import explain

routes = web.RouteTableDef()


@routes.get("/v1/advisories/{advisory_id}/preview")
async def preview(request: web.Request) -> web.Response:
    """The mail as a customer would get it, made by the renderer of every mail."""
    advisory = await owned(request)
    lang = request.query.get("lang", FALLBACK)
    if lang not in SUPPORTED:
        raise Invalid("invalid query", [field_error("lang", f"one of {', '.join(SUPPORTED)}")])
    mail = mail_preview(advisory, lang, request.app[SETTINGS])
    answer = Preview(
        advisory_id=advisory.id, lang=lang, subject=mail.subject, text=mail.text, html=mail.html
    )
    return json_response(answer, headers=PRIVATE)


@routes.get("/v1/advisories/{advisory_id}/audience")
async def audience(request: web.Request) -> web.Response:
    """How many customers the advisory would reach now, as the matcher estimates it."""
    advisory = await owned(request)
    customers = await audience_of(request.app[NATS], advisory)
    return json_response(Audience(advisory_id=advisory.id, customers=customers), headers=PRIVATE)


@routes.get("/v1/advisories/{advisory_id}/report")
async def report(request: web.Request) -> web.Response:
    """How far the advisory has reached: the mailer's ledger states in five series, and the
    funnel from buyers to answers."""
    advisory = await owned(request)
    counts = dict.fromkeys(reach.SERIES, 0)
    by_day: list[DayCounts] = []
    waiting: list[Waiting] = []
    funnel = funnel_of({})
    by_domain: dict[str, int] = {}
    # The API answers 503 where the mailer cannot be asked; a page shows the problem.
    if (ledger := await reach.ledger_of(request.app[NATS], advisory)) is not None:
        counts = reach.five(ledger.counts)
        by_day = [DayCounts(day=d.day, counts=reach.five(d.counts)) for d in ledger.by_day]
        now = request.app[CLOCK].now()
        waiting = [
            Waiting(
                reason=w.reason,
                until=w.until,
                timezone=w.timezone,
                deliveries=w.deliveries,
                says=explain(w, now),
            )
            for w in ledger.waits
        ]
        funnel = funnel_of(ledger.funnel)
        by_domain = ledger.waiting_by_domain
    answer = Report(
        advisory_id=advisory.id, counts=counts, by_day=by_day, waiting=waiting, funnel=funnel
    )
    if advisory.deliver_by is not None:
        due = advisory.deliver_by
        answer.deadline = await _deadline(request, advisory, due, counts["waiting"], by_domain)
    if isinstance(advisory.rule, m.Disaster) and embargo.ever_public(advisory.published_at):
        asked = m.FoldRequest(advisory_id=advisory.id)
        folds = await ask(request.app[NATS], Subjects.MATCHER_FOLDS, asked, m.FoldReport, "matcher")
        answer.folded, answer.folded_by_disaster = folds.folded, folds.by_event
    return json_response(answer, headers=PRIVATE)


async def _deadline(
    request: web.Request,
    advisory: Advisory,
    deliver_by: datetime,
    waiting: int,
    by_domain: dict[str, int],
) -> Deadline:
    """Whether what waits goes out by deliver_by; before publication, the matcher's estimate
    of the audience, sent from the embargo's end, stands for it."""
    settings, now = request.app[SETTINGS], request.app[CLOCK].now()
    estimate = not embargo.ever_public(advisory.published_at)
    start = now
    if estimate:
        waiting = await audience_of(request.app[NATS], advisory)
        start = max(now, advisory.embargo_until)
    p = deadline.at_send_rates(
        settings,
        start=start,
        waiting=waiting,
        by_domain=by_domain,
        deliver_by=deliver_by,
    )
    return Deadline(
        deliver_by=deliver_by,
        projected_finish=p.finish,
        met=bool(p.met),
        waiting=waiting,
        estimate=estimate,
        send_rate_per_second=settings.send_rate_per_second,
        send_rate_per_domain=settings.send_rate_per_domain,
        needed_rate_per_second=p.needed_per_second,
        needed_rate_per_domain=p.needed_per_domain,
        slowest_domain=p.slowest_domain,
        says=deadline.says(p),
    )
