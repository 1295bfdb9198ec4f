"""The operators' routes of a customer's rights: erase, follow an erasure, export."""

from __future__ import annotations

import json
import uuid

from aiohttp import web

from services.ingest.api import EMAIL_SECRET
from services.ingest.privacy import erasure, export
from services.ingest.store import privacy as store
from shared.db import unit_of_work
from shared.errors import Invalid, NotFound, field_error
from shared.http import NATS, POOL, json_response
from shared.messages import ERASERS
from shared.operator import require_operator
from shared.service import CLOCK, SETTINGS

routes = web.RouteTableDef()

MAX_ID = 200  # characters of a customer id, as an order's customer.id


def _customer_id(request: web.Request) -> str:
    value = request.match_info["customer_id"]
    if "\x00" in value:
        raise Invalid(
            "invalid path", [field_error("customer_id", "NUL characters are not allowed")]
        )
    if not value.strip() or len(value) > MAX_ID:
        raise Invalid("invalid path", [field_error("customer_id", f"1 to {MAX_ID} characters")])
    return value


@routes.post("/v1/customers/{customer_id}/erase")
async def erase(request: web.Request) -> web.Response:
    """Erase a customer everywhere (and the ids linked by e-mail address): 202 with the id."""
    require_operator(request, request.app[SETTINGS].operator_key)
    customer_id = _customer_id(request)
    request_id = await erasure.request(
        request.app[POOL], request.app[EMAIL_SECRET], customer_id, request.app[CLOCK]
    )
    location = f"/v1/customers/{customer_id}/erase/{request_id}"
    return json_response(
        {"id": request_id, "state": "pending"}, status=202, headers={"Location": location}
    )


@routes.get("/v1/customers/{customer_id}/erase/{request_id}")
async def erase_status(request: web.Request) -> web.Response:
    """Each eraser's confirmation of a request; `done` when all have confirmed."""
    require_operator(request, request.app[SETTINGS].operator_key)
    customer_id = _customer_id(request)
    try:
        request_id = str(uuid.UUID(request.match_info["request_id"]))
    except ValueError:
        raise NotFound("no such erasure request") from None
    key = erasure.customer_key(request.app[EMAIL_SECRET], customer_id)
    async with unit_of_work(request.app[POOL], transaction=False) as conn:
        found = await store.erasure(conn, request_id, key)
    if found is None:
        raise NotFound("no such erasure request of this customer")
    row, confirmations = found
    confirmed = {
        c["service"]: {"confirmed_at": c["confirmed_at"], "erased": _json(c["erased"])}
        for c in confirmations
    }
    waiting = [s for s in ERASERS if s not in confirmed]
    return json_response(
        {
            "id": request_id,
            "state": "pending" if waiting else "done",
            "requested_at": row["requested_at"],
            "customers": row["customers"],
            "confirmations": confirmed,
            "waiting": waiting,
        }
    )


@routes.get("/v1/customers/{customer_id}/export")
async def export_customer(request: web.Request) -> web.Response:
    """Everything held of a customer, from every service, as one JSON document."""
    require_operator(request, request.app[SETTINGS].operator_key)
    document = await export.export(
        request.app[POOL], request.app[NATS], _customer_id(request), request.app[CLOCK]
    )
    return json_response(document)


def _json(value: object) -> object:
    return json.loads(value) if isinstance(value, str) else value
