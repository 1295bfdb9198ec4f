"""/console/providers: each mailbox provider's mails, hard bounces, complaints and policy
refusals over the window of provider health, and whether its routine mail pauses. The mailer
owns the figures: the page asks it over NATS (`mailer.providers`)."""

from __future__ import annotations

from aiohttp import web

from services.advisory.desk.console.overview import operators_only
from services.advisory.desk.web import html
from services.advisory.peers.ask import Unavailable, ask
from shared import messages as m
from shared.bus import Subjects
from shared.http import NATS

routes = web.RouteTableDef()


def percent(part: int, sent: int) -> str:
    """A share of the mail sent, for the table; a dash when none was sent."""
    return f"{100 * part / sent:.2f} %" if sent else "–"


async def _page(request: web.Request, key: str) -> web.StreamResponse:
    """The providers' table as the mailer reads it now."""
    problem = ""
    try:
        answer = await ask(
            request.app[NATS],
            Subjects.MAILER_PROVIDERS,
            m.ProviderQuery(),
            m.ProviderTable,
            "mailer",
        )
    except Unavailable as exc:
        answer = m.ProviderTable(window_hours=0, complaint_rate=0, policy_rate=0, min_sent=0)
        problem = exc.message
    return html(
        request, "console_providers.html.j2", answer=answer, problem=problem, percent=percent
    )


routes.get("/console/providers")(operators_only(_page))
