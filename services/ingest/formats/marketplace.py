"""The marketplace's CSV order report: a header row, then one row per order line.

    order-id,purchase-date,order-status,buyer-id,buyer-email,buyer-locale,sku,gtin,
    product-name,quantity-purchased,ship-country,ship-state,ship-postal-code

Rows of one order share `order-id`. A row whose `order-status` is Cancelled or Returned
also records that event for its SKU. Buyers carry the marketplace's id: ingest links them
to the shop's customer by e-mail (see intake), else they are `{channel}:{buyer-id}`. The rows
name no channel: they are the channel's of the key that posts them (in a backfill,
`marketplace`). Indexes count data rows from 0.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import IO

import msgspec

from services.ingest.model import (
    Aware,
    Customer,
    Email,
    Line,
    NonEmpty,
    Order,
    OrderEvent,
    Quantity,
    Rejection,
    ShipTo,
)
from shared.errors import Invalid, field_error
from shared.http import validation_details

REQUIRED = ("order-id", "purchase-date", "buyer-id", "buyer-email", "sku", "ship-country")
_EVENTS = {"cancelled": "cancelled", "canceled": "cancelled", "returned": "returned"}


class Row(msgspec.Struct, rename="kebab", kw_only=True):
    """One line of the report."""

    order_id: NonEmpty
    purchase_date: Aware
    buyer_id: NonEmpty
    buyer_email: Email
    sku: NonEmpty
    ship_country: str
    order_status: str = ""
    buyer_name: str = ""
    buyer_locale: str = ""
    gtin: str | None = None
    product_name: str = ""
    quantity_purchased: Quantity = 1
    ship_state: str | None = None
    ship_postal_code: str | None = None


def _row(values: dict[str | None, str | None]) -> Row | Rejection:
    # Empty cells take the column's default; cells beyond the header are ignored.
    cells = {k: v.strip() for k, v in values.items() if k and v and v.strip()}
    if any("\x00" in v for v in cells.values()):
        return Rejection([field_error("$", "NUL characters are not allowed")])
    try:
        return msgspec.convert(cells, Row, strict=False)
    except msgspec.ValidationError as exc:
        return Rejection(validation_details(exc))


def _order(rows: list[Row], channel: str) -> Order:
    first = rows[0]
    return Order(
        order_id=first.order_id,
        channel=channel,
        placed_at=first.purchase_date,
        customer=Customer(
            id=f"{channel}:{first.buyer_id}",
            email=first.buyer_email,
            locale=first.buyer_locale,
            name=first.buyer_name,
        ),
        ship_to=ShipTo(
            country=first.ship_country,
            region=first.ship_state,
            postal_code=first.ship_postal_code,
        ),
        lines=[
            Line(sku=r.sku, title=r.product_name, gtin=r.gtin, quantity=r.quantity_purchased)
            for r in rows
        ],
    )


Parsed = tuple[int, str, Row | Rejection]  # index, the order-id cell as written, the row


def _records(rows: list[Parsed], channel: str) -> list[tuple[int, Order | OrderEvent | Rejection]]:
    """Group rows by order; an order with a bad row is rejected on each of its rows."""
    groups: dict[str, list[Parsed]] = {}
    for parsed in rows:
        groups.setdefault(parsed[1] or f"#{parsed[0]}", []).append(parsed)
    out: list[tuple[int, Order | OrderEvent | Rejection]] = []
    for group in groups.values():
        good = [row for _, _, row in group if isinstance(row, Row)]
        if len(good) < len(group):
            bad = next(i for i, _, row in group if isinstance(row, Rejection))
            problem = [field_error("order-id", f"order rejected with its row {bad}")]
            out += [
                (i, row if isinstance(row, Rejection) else Rejection(problem))
                for i, _, row in group
            ]
            continue
        out.append((group[0][0], _order(good, channel)))
        for index, _, row in group:
            event = _EVENTS.get(row.order_status.lower()) if isinstance(row, Row) else None
            if isinstance(row, Row) and event in ("cancelled", "returned"):
                cancel = OrderEvent(
                    event="cancelled" if event == "cancelled" else "returned",
                    channel=channel,
                    order_id=row.order_id,
                    skus=[row.sku],
                )
                out.append((index, cancel))
    return sorted(out, key=lambda pair: pair[0])


def _check_header(header: Iterable[str] | None) -> list[str]:
    columns = [c.strip() for c in header or []]
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise Invalid(
            "the CSV header lacks required columns",
            [field_error(c, "required column is missing") for c in missing],
        )
    return columns


def read_rows(text: Iterable[str]) -> Iterator[Parsed]:
    """Read the data rows of a CSV text (header first), indexed from 0."""
    reader = csv.DictReader(text)
    index = 0
    try:
        reader.fieldnames = _check_header(reader.fieldnames)
        for index, values in enumerate(reader):
            yield index, (values.get("order-id") or "").strip(), _row(values)
    except (csv.Error, UnicodeDecodeError) as exc:
        # A CSV that cannot be read past this point: the whole input is refused.
        raise Invalid("the CSV cannot be read", [field_error(f"row {index}", str(exc))]) from exc


def parse(
    body: bytes, content_type: str, channel: str
) -> list[tuple[int, Order | OrderEvent | Rejection]]:
    """Read a request body of `channel`'s."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid("the CSV is not UTF-8", [field_error("$", str(exc))]) from exc
    return _records(list(read_rows(io.StringIO(text, newline=""))), channel)


def chunks(
    stream: IO[bytes], size: int, channel: str
) -> Iterator[list[tuple[int, Order | OrderEvent | Rejection]]]:
    """Read a CSV file in chunks of about `size` rows, never splitting an order."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        chunk: list[Parsed] = []
        for parsed in read_rows(text):
            # Rows of one order are consecutive in an export: cut only between orders.
            if len(chunk) >= size and chunk[-1][1] != parsed[1]:
                yield _records(chunk, channel)
                chunk = []
            chunk.append(parsed)
        if chunk:
            yield _records(chunk, channel)
    finally:
        text.detach()  # the caller owns the stream and closes it
