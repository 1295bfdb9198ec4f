"""/console/suppressions: suppressed addresses by reason, the latest masked, one looked up and
lifted. The mailer owns them: every question goes to it over NATS (`mailer.suppressions`,
`mailer.suppression.lift`); an address the operator types travels in a POST, never a URL."""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from services.advisory.desk.console.overview import operators_only
from services.advisory.desk.web import checked_form, csrf_token, html, refused
from services.advisory.peers.ask import Unavailable, ask
from shared import messages as m
from shared.bus import Subjects
from shared.http import NATS

routes = web.RouteTableDef()

MAX_ADDRESS = 320  # longer than any address: refused here, before it crosses the bus


async def _page(request: web.Request, key: str, address: str = "") -> web.Response:
    problem = request.query.get("problem", "")
    question = m.SuppressionQuery(address=address)
    try:
        answer = await ask(
            request.app[NATS], Subjects.MAILER_SUPPRESSIONS, question, m.SuppressionList, "mailer"
        )
    except Unavailable as exc:
        answer, problem = m.SuppressionList(total=0, by_reason={}), exc.message
    return html(
        request,
        "console_suppressions.html.j2",
        answer=answer,
        looked_up=address,
        problem=answer.problem or problem,
        lifted=request.query.get("lifted", ""),
        requeued=request.query.get("requeued", ""),
        csrf=csrf_token(request, key),
    )


async def _overview(request: web.Request, key: str) -> web.StreamResponse:
    """Suppressions by reason and the latest, masked; a form to look one address up."""
    return await _page(request, key)


async def _find(request: web.Request, key: str) -> web.StreamResponse:
    """The page again, with the one address asked about, in full, and its lift button."""
    form = await checked_form(request, key)
    if form is None:
        return refused(request)
    address = form.get("address", "").strip()
    if not address or len(address) > MAX_ADDRESS:
        raise web.HTTPSeeOther(
            _back({"problem": f"Give an address of at most {MAX_ADDRESS} characters."})
        )
    return await _page(request, key, address)


async def _lift(request: web.Request, key: str) -> web.StreamResponse:
    """Lift one bounce; back to the page, saying what it was (never the address)."""
    form = await checked_form(request, key)
    if form is None:
        return refused(request)
    address = form.get("address", "").strip()
    if not address or len(address) > MAX_ADDRESS:
        raise web.HTTPSeeOther(
            _back({"problem": f"Give an address of at most {MAX_ADDRESS} characters."})
        )
    question = m.SuppressionLift(address=address, resend=form.get("resend") == "yes")
    try:
        answer = await ask(
            request.app[NATS],
            Subjects.MAILER_SUPPRESSION_LIFT,
            question,
            m.SuppressionLifted,
            "mailer",
        )
    except Unavailable as exc:
        raise web.HTTPSeeOther(_back({"problem": exc.message})) from None
    if not answer.lifted:
        raise web.HTTPSeeOther(_back({"problem": answer.problem}))
    raise web.HTTPSeeOther(_back({"lifted": answer.reason, "requeued": str(answer.requeued)}))


def _back(query: dict[str, str]) -> str:
    return f"/console/suppressions?{urlencode(query)}"


routes.get("/console/suppressions")(operators_only(_overview))
routes.post("/console/suppressions/find")(operators_only(_find))
routes.post("/console/suppressions/lift")(operators_only(_lift))
