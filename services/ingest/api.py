"""Ingest's HTTP API: orders and the catalog."""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from services.ingest import categories, store
from services.ingest.model import CatalogItem, Order
from services.ingest.parsing import split_records
from shared.errors import Invalid, field_error
from shared.http import POOL, json_response, read_body, validation_details
from shared.service import CLOCK, SETTINGS

routes = web.RouteTableDef()


def _convert(record: Any, kind: type[Any]) -> Any:
    """Validate one decoded record, raising the msgspec error for the caller to report."""
    if isinstance(record, msgspec.DecodeError):
        raise record
    return msgspec.convert(record, kind)


@routes.post("/v1/orders")
async def post_orders(request: web.Request) -> web.Response:
    """Accept one order, an array or NDJSON; answer what was accepted, duplicated, rejected."""
    fmt = request.query.get("format", "canonical")
    if fmt != "canonical":
        raise Invalid("unknown format", [field_error("format", f"{fmt!r} is not a known format")])
    body = await read_body(request, request.app[SETTINGS].max_body_bytes)
    records = split_records(body, request.content_type)
    valid: list[tuple[int, Order]] = []
    rejected: list[dict[str, Any]] = []
    for index, record in enumerate(records):
        try:
            valid.append((index, _convert(record, Order)))
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            rejected.append({"index": index, "errors": validation_details(exc)})
    pool = request.app[POOL]
    orders = [order for _, order in valid]
    categorized = await categorize(pool, orders)
    new = await store.accept_orders(
        pool, list(zip(orders, categorized, strict=True)), request.app[CLOCK].now()
    )
    accepted = sum(new)
    return json_response(
        {"accepted": accepted, "duplicates": len(new) - accepted, "rejected": rejected},
        status=202,
    )


async def categorize(pool: Any, orders: list[Order]) -> list[list[tuple[list[str], str]]]:
    """Find each line's categories: the catalog first, then the title rules."""
    skus = {line.sku for o in orders for line in o.lines}
    gtins = {line.gtin for o in orders for line in o.lines if line.gtin}
    by_sku, by_gtin = await store.catalog_categories(pool, skus, gtins)
    result = []
    for order in orders:
        lines = []
        for line in order.lines:
            known = by_sku.get(line.sku) or (by_gtin.get(line.gtin) if line.gtin else None)
            if known:
                lines.append((known, "catalog"))
            else:
                found = categories.from_title(line.title)
                lines.append((found, "rule" if found else "none"))
        result.append(lines)
    return result


@routes.put("/v1/catalog")
async def put_catalog(request: web.Request) -> web.Response:
    """Insert or replace catalog entries (JSON array or NDJSON)."""
    body = await read_body(request, request.app[SETTINGS].max_body_bytes)
    records = split_records(body, request.content_type)
    items: list[CatalogItem] = []
    errors: list[dict[str, Any]] = []
    for index, record in enumerate(records):
        try:
            items.append(_convert(record, CatalogItem))
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            errors.append({"index": index, "errors": validation_details(exc)})
        else:
            unknown = [c for c in items[-1].categories if c not in categories.BY_CODE]
            if unknown:
                items.pop()
                errors.append(
                    {
                        "index": index,
                        "errors": [
                            field_error("categories", f"unknown category {c!r}") for c in unknown
                        ],
                    }
                )
    written = await store.upsert_catalog(request.app[POOL], items)
    return json_response({"written": written, "rejected": errors})
