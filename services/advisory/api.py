"""Advisory's HTTP API for agencies and operators."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from services.advisory import store
from services.advisory.auth import Caller, authenticate
from services.advisory.model import AdvisoryIn, validate
from shared.errors import Invalid, NotFound, field_error
from shared.http import POOL, decode_json, json_response, read_body
from shared.service import CLOCK, SETTINGS

routes = web.RouteTableDef()


@routes.post("/v1/advisories")
async def post_advisory(request: web.Request) -> web.Response:
    """Submit a new advisory; it stays embargoed until `embargo_until`."""
    caller = await authenticate(request)
    body = await read_body(request, request.app[SETTINGS].max_body_bytes)
    advisory = decode_json(body, AdvisoryIn)
    validate(advisory, request.app[CLOCK].now())
    agency_id = caller.agency_id or request.query.get("agency_id")
    if agency_id is None:
        raise Invalid("an operator submits for an agency", [field_error("agency_id", "required")])
    advisory_id = await store.create_advisory(
        request.app[POOL], agency_id, advisory, request.app[CLOCK].now()
    )
    return json_response({"id": advisory_id, "state": "embargoed"}, status=201)


@routes.get("/v1/advisories")
async def list_advisories(request: web.Request) -> web.Response:
    """The caller's advisories (every advisory for operators)."""
    caller = await authenticate(request)
    items = await store.list_advisories(request.app[POOL], caller.agency_id)
    return json_response({"advisories": items})


@routes.get("/v1/advisories/{advisory_id}")
async def get_advisory(request: web.Request) -> web.Response:
    """One advisory, for its agency or an operator."""
    advisory = await _owned(request, await authenticate(request))
    return json_response(advisory)


async def _owned(request: web.Request, caller: Caller) -> dict[str, Any]:
    """Load the advisory of the URL; another agency's gets 403 whether it exists or not."""
    try:
        advisory = await store.get_advisory(request.app[POOL], request.match_info["advisory_id"])
    except NotFound:
        if caller.is_operator:
            raise
        # An agency cannot tell another agency's advisory from a missing one.
        caller.check_owns("")
        raise
    caller.check_owns(advisory["agency_id"])
    return advisory
