"""Ingest's HTTP API: orders in every channel format, order events, the catalog.

Every write needs a key (see access): a channel's for its own orders, a catalog key or the
operator's for the catalog. The key is checked before the body is read.
"""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from services.ingest import access, catalog, categories, formats, intake, parsing, store
from services.ingest.model import CatalogItem, EventBody, OrderEvent, Rejection
from shared.db import unit_of_work
from shared.errors import Forbidden, Invalid, NotFound, field_error
from shared.http import POOL, decode_json, json_response, read_body
from shared.service import CLOCK, SETTINGS

routes = web.RouteTableDef()
EMAIL_SECRET = web.AppKey("email_secret", bytes)

_catalog_item = msgspec.json.Decoder(CatalogItem)


@routes.post("/v1/orders")
async def post_orders(request: web.Request) -> web.Response:
    """Accept orders and order events in a channel's format; answer what became of each.

    A channel key writes its own channel's records only: one naming another refuses the
    whole request (403), nothing written.
    """
    writer = await access.authenticate(request)
    fmt = formats.get(request.query.get("format", "canonical"))
    channel = access.default_channel(writer, fmt)
    body = await read_body(request, request.app[SETTINGS].max_body_bytes)
    records = fmt.parse(body, request.content_type, channel)
    access.claim(writer, records)
    outcome = await intake.ingest(
        request.app[POOL],
        records,
        secret=request.app[EMAIL_SECRET],
        now=request.app[CLOCK].now(),
        link_by_email=fmt.link_by_email,
        trusted=writer.kind == "operator",
    )
    return json_response(outcome, status=202)


def _path_part(request: web.Request, name: str) -> str:
    """A part of the URL, refused when PostgreSQL could not store it (NUL), as bodies are."""
    value = request.match_info[name]
    if "\x00" in value:
        raise Invalid("invalid path", [field_error(name, "NUL characters are not allowed")])
    return value


async def _order_event(request: web.Request, event: str) -> web.Response:
    writer = await access.authenticate(request)
    channel = _path_part(request, "channel")
    access.require_channel(writer, channel)
    body = await read_body(request, request.app[SETTINGS].max_body_bytes)
    details = decode_json(body, EventBody) if body.strip() else EventBody()
    record = OrderEvent(
        event="cancelled" if event == "cancelled" else "returned",
        channel=channel,
        order_id=_path_part(request, "order_id"),
        at=details.at,
        line_nos=details.line_nos,
        skus=details.skus,
        lines=details.lines,
        ref=details.ref,
    )
    outcome = await intake.ingest(
        request.app[POOL],
        [(0, record)],
        secret=request.app[EMAIL_SECRET],
        now=request.app[CLOCK].now(),
    )
    if outcome.rejected:
        errors = outcome.rejected[0]["errors"]
        if errors[0]["problem"].startswith(intake.UNKNOWN_ORDER):
            raise NotFound(intake.UNKNOWN_ORDER, errors)
        raise Invalid(f"the {event} event names lines the order does not have", errors)
    return json_response(outcome, status=202)


@routes.post("/v1/orders/{channel}/{order_id}/cancel")
async def cancel_order(request: web.Request) -> web.Response:
    """Cancel an order, or some of its lines (`line_nos`, `skus`, or `lines` with quantities)."""
    return await _order_event(request, "cancelled")


@routes.post("/v1/orders/{channel}/{order_id}/return")
async def return_order(request: web.Request) -> web.Response:
    """Record the return of an order, or of some of its lines."""
    return await _order_event(request, "returned")


@routes.get("/v1/orders/{channel}/{order_id}")
async def get_order(request: web.Request) -> web.Response:
    """For operators: the stored order, its lines' categories and how they were found."""
    if (await access.authenticate(request)).kind != "operator":
        raise Forbidden(
            "only operators may read stored orders",
            [field_error("Authorization", "the operator key is required")],
        )
    channel, order_id = _path_part(request, "channel"), _path_part(request, "order_id")
    async with unit_of_work(request.app[POOL], transaction=False) as conn:
        found = await store.order_audit(conn, channel, order_id)
    if found is None:
        raise NotFound(intake.UNKNOWN_ORDER)
    return json_response(found)


@routes.put("/v1/catalog")
async def put_catalog(request: web.Request) -> web.Response:
    """Insert or replace catalog entries (JSON array or NDJSON): a catalog or operator key."""
    access.require_catalog(await access.authenticate(request))
    body = await read_body(request, request.app[SETTINGS].max_body_bytes)
    items: list[CatalogItem] = []
    errors: list[dict[str, Any]] = []
    for index, raw in enumerate(parsing.split(body, request.content_type)):
        item = parsing.decode(raw, _catalog_item)
        if not isinstance(item, Rejection):
            item = catalog.check(item)
        if isinstance(item, Rejection):
            errors.append({"index": index, "errors": item.errors})
        else:
            items.append(item)
    async with unit_of_work(request.app[POOL]) as conn:
        written = await store.upsert_catalog(conn, items)
    return json_response({"written": written, "rejected": errors})


@routes.get("/v1/categories")
async def get_categories(_: web.Request) -> web.Response:
    """The safety categories: the codes agencies name in their advisories."""
    return json_response(
        [
            {
                "code": c.code,
                "names": c.names,
                "google_taxonomy_id": c.google_taxonomy_id,
                "implies": list(c.implies),
            }
            for c in categories.CATEGORIES
        ]
    )
