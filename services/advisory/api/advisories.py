"""Advisory's HTTP API for agencies and operators: submit, read, amend, withdraw."""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from services.advisory.agencies.auth import authenticate
from services.advisory.api.schemas import AdvisoryList, AdvisoryOut, Created, Withdrawal
from services.advisory.lifecycle import (
    Advisory,
    AdvisoryIn,
    AdvisoryPatch,
    State,
    amend,
    amendment,
    embargo,
    store,
    validate,
)
from services.advisory.lifecycle.embargo import Amendment
from shared.errors import Forbidden, Invalid, NotFound, field_error
from shared.http import POOL, decode_json, json_response, name_unknown_fields, read_body
from shared.service import CLOCK, SETTINGS

routes = web.RouteTableDef()

# Advisories are small; a body beyond this is a mistake or an attack, refused with 413.
MAX_ADVISORY_BYTES = 1024 * 1024
# One answer for another agency's advisory and for one that does not exist: no hint.
NOT_YOURS = "this advisory is not one of yours, or does not exist"
# Answers about an advisory may hold embargoed words: no shared cache may keep them.
PRIVATE = {"Cache-Control": "private, no-store"}


@routes.post("/v1/advisories")
async def post_advisory(request: web.Request) -> web.Response:
    """Submit a new advisory; it stays embargoed until `embargo_until`."""
    caller = await authenticate(request)
    advisory = decode(await _body(request), AdvisoryIn)
    now = request.app[CLOCK].now()
    validate(advisory, now)
    agency_id = caller.agency_id or request.query.get("agency_id")
    if agency_id is None:
        raise Invalid("an operator submits for an agency", [field_error("agency_id", "required")])
    advisory_id = await store.create_advisory(request.app[POOL], agency_id, advisory, now)
    created = Created(id=advisory_id, state="embargoed", version=1)
    headers = PRIVATE | {"Location": f"/v1/advisories/{advisory_id}"}
    return json_response(created, status=201, headers=headers)


@routes.get("/v1/advisories")
async def list_advisories(request: web.Request) -> web.Response:
    """The caller's advisories (every advisory for operators)."""
    caller = await authenticate(request)
    items = await store.list_advisories(request.app[POOL], caller.agency_id)
    answer = AdvisoryList(advisories=[out(a) for a in items])
    return json_response(answer, headers=PRIVATE)


@routes.get("/v1/advisories/{advisory_id}")
async def get_advisory(request: web.Request) -> web.Response:
    """One advisory, for its agency or an operator."""
    advisory = await owned(request)
    return json_response(out(advisory), headers=PRIVATE)


@routes.patch("/v1/advisories/{advisory_id}")
async def patch_advisory(request: web.Request) -> web.Response:
    """Amend an advisory: each amendment is a new version; after publication, a correction."""
    advisory = await owned(request)
    patch = decode(await _body(request), AdvisoryPatch)
    now = request.app[CLOCK].now()

    def change(current: AdvisoryIn, what: Amendment) -> AdvisoryIn:
        amended = amend(current, patch)
        validate(amended, now, corrects=current if what == "correction" else None)
        return amended

    pool = request.app[POOL]
    version, what = await amendment.amend_advisory(pool, advisory.id, change, now)
    state: State = "published" if what == "correction" else "embargoed"
    answer = Created(id=advisory.id, state=state, version=version)
    return json_response(answer, headers=PRIVATE)


@routes.post("/v1/advisories/{advisory_id}/withdraw")
async def withdraw_advisory(request: web.Request) -> web.Response:
    """Withdraw an advisory: pending mail stops and its notice leaves the product pages;
    with `notify_recipients`, those who received it get a short withdrawal notice."""
    advisory = await owned(request)
    data = await _body(request)
    options = decode(data, Withdrawal) if data.strip() else Withdrawal()
    now = request.app[CLOCK].now()
    await store.withdraw_advisory(
        request.app[POOL], advisory.id, now, notify_recipients=options.notify_recipients
    )
    answer = Created(id=advisory.id, state="withdrawn", version=advisory.version)
    return json_response(answer, headers=PRIVATE)


def out(advisory: Advisory) -> AdvisoryOut:
    """An advisory as the API answers it."""
    result: AdvisoryOut = msgspec.convert(advisory, AdvisoryOut, from_attributes=True)
    return result


async def owned(request: web.Request) -> Advisory:
    """The advisory of the URL if the caller may see it; 403 alike for others' and missing."""
    caller = await authenticate(request)
    try:
        advisory = await store.get_advisory(request.app[POOL], request.match_info["advisory_id"])
    except NotFound:
        if caller.is_operator:
            raise
        raise Forbidden(NOT_YOURS) from None
    if not embargo.may_see(caller.agency_id, advisory.agency_id):
        raise Forbidden(NOT_YOURS)
    return advisory


def decode(data: bytes, kind: Any) -> Any:
    """Decode a JSON body; an unknown field is named as the field, not as `$`."""
    try:
        return decode_json(data, kind)
    except Invalid as exc:
        name_unknown_fields(exc.details)
        raise


async def _body(request: web.Request) -> bytes:
    limit = min(request.app[SETTINGS].max_body_bytes, MAX_ADVISORY_BYTES)
    return await read_body(request, limit)
