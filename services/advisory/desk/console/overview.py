"""/console: the operators' pages: advisories by state, disasters, consumer lag, dead letters."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from aiohttp import web

from services.advisory.desk.console import deadletters
from services.advisory.desk.console.bus import OPERATOR_NATS, consumer_lag
from services.advisory.desk.web import checked_form, csrf_token, html, refused
from services.advisory.disasters import store as store_disasters
from services.advisory.lifecycle import STATES, Advisory, State, store
from shared.errors import AnshinError, Unauthorized
from shared.http import POOL
from shared.languages import N_
from shared.operator import require_operator
from shared.service import CLOCK, SETTINGS

routes = web.RouteTableDef()

# A browser cannot send a Bearer key from an address bar; Basic (any user name, the
# operator key as password) lets an operator open the page directly.
CHALLENGE = {"WWW-Authenticate": 'Basic realm="Anshin console", charset="UTF-8"'}

Page = Callable[[web.Request, str], Awaitable[web.StreamResponse]]


def operators_only(page: Page) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Run `page(request, key)` for an operator; anyone else gets 401 and nothing else."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        try:
            key = require_operator(request, request.app[SETTINGS].operator_key)
        except Unauthorized:
            message = N_("Operators only: sign in with the operator key as the password.")
            response = html(
                request, "desk_message.html.j2", 401, heading=N_("Sign in"), message=message
            )
            response.headers.update(CHALLENGE)
            return response
        return await page(request, key)

    guarded.__doc__ = page.__doc__
    return guarded


async def _overview(request: web.Request, key: str) -> web.StreamResponse:
    """Every advisory by state, the latest disasters, consumer lag and dead letters."""
    pool, nc = request.app[POOL], request.app[OPERATOR_NATS]
    by_state: dict[State, list[Advisory]] = {state: [] for state in STATES}
    for advisory in await store.list_advisories(pool, None):
        by_state[advisory.state].append(advisory)
    by_state["embargoed"].sort(key=lambda a: a.embargo_until)
    dead_total, dead = await deadletters.recent(nc, pool)
    return html(
        request,
        "console.html.j2",
        now=request.app[CLOCK].now(),
        states=STATES,
        by_state=by_state,
        disasters=await store_disasters.recent(pool),
        lags=await consumer_lag(nc),
        dead_total=dead_total,
        dead=dead,
        csrf=csrf_token(request, key),
        replayed=request.query.get("replayed", ""),
        problem=request.query.get("problem", ""),
    )


async def _replay(request: web.Request, key: str) -> web.StreamResponse:
    """Replay one dead letter to its original subject, once; back to the list."""
    if await checked_form(request, key) is None:
        return refused(request)
    seq = request.match_info["seq"]
    try:
        replay_id = await deadletters.replay(
            request.app[OPERATOR_NATS], request.app[POOL], int(seq), request.app[CLOCK].now()
        )
    except AnshinError as exc:
        raise web.HTTPSeeOther(_back({"problem": exc.message})) from None
    raise web.HTTPSeeOther(_back({"replayed": replay_id}))


def _back(query: dict[str, str]) -> str:
    return f"/console?{urlencode(query)}#dead-letters"


routes.get("/console")(operators_only(_overview))
routes.post(r"/console/dead-letters/{seq:\d+}/replay")(operators_only(_replay))
