"""One canonical order, normalized: customer, ship-to with coordinates, and hashing keys."""

from __future__ import annotations

from datetime import UTC

import msgspec

from services.ingest import areas, geo, people
from services.ingest.model import Order, Rejection
from shared import gtin
from shared.errors import field_error
from shared.text import control_in, inert

# An order's fact must fit one bus message (NATS refuses payloads over 1 MB), in whichever
# channel format it came: 200 lines of 500 characters stay well under that.
MAX_LINES = 200
MAX_TITLE = 500
MAX_ID = 200  # ids, SKUs and names: what the canonical decoder allows, for every format
MAX_EMAIL = 320  # RFC 3696's longest address


class Prepared(msgspec.Struct, kw_only=True):
    """An order ready to store: normalized, located, with the keys of its customer."""

    order: Order
    geo_source: str
    area: str | None = None  # the ship-to's municipality (JP) or county (US) code
    area_outcome: str = areas.NONE
    email_key: bytes
    contact_key: bytes
    link_by_email: bool = False
    categories: list[tuple[list[str], str]] = []


def _text_problems(order: Order) -> list[dict[str, str]]:
    """Ids that carry a control character, and any text over its length, for every format.

    Ids travel in bus headers (Nats-Msg-Id) and in mail: cleaning one would make it name
    another order, so it is refused. Names and titles are cleaned instead (`inert`).
    """
    c = order.customer
    ids = [("order_id", order.order_id), ("channel", order.channel), ("customer.id", c.id)]
    ids.append(("customer.email", c.email))
    ids += [(f"lines[{n}].sku", line.sku) for n, line in enumerate(order.lines)]
    errors = [
        field_error(name, f"must not hold control characters ({found})")
        for name, value in ids
        if (found := control_in(value))
    ]
    texts = [*ids[:3], ("customer.name", c.name), *ids[3:]]
    texts += [(f"lines[{n}].title", line.title) for n, line in enumerate(order.lines)]
    errors += [
        field_error(name, f"at most {limit} characters")
        for name, value in texts
        if len(value) > (limit := _limit(name))
    ]
    return errors


def _limit(field: str) -> int:
    if field.endswith("title"):
        return MAX_TITLE
    return MAX_EMAIL if field == "customer.email" else MAX_ID


def _gtins(order: Order) -> tuple[list[str | None], list[dict[str, str]]]:
    """Each line's GTIN as GTIN-14 (None where it gives none), and each one that is no GTIN."""
    found: list[str | None] = []
    errors = []
    for n, line in enumerate(order.lines):
        value = None
        if line.gtin is not None and line.gtin.strip():  # a blank column gives none
            try:
                value = gtin.normalize(line.gtin)
            except gtin.InvalidGtin as exc:
                errors.append(field_error(f"lines[{n}].gtin", str(exc)))
        found.append(value)
    return found, errors


def prepare(order: Order, secret: bytes, *, link_by_email: bool = False) -> Prepared | Rejection:
    """Normalize an order, or name each field that cannot be normalized."""
    s, c = order.ship_to, order.customer
    errors = [
        field_error(name, "must not be blank")
        for name, value in (
            ("order_id", order.order_id),
            ("channel", order.channel),
            ("customer.id", c.id),
        )
        if not value.strip()
    ]
    if len(order.lines) > MAX_LINES:
        errors.append(field_error("lines", f"at most {MAX_LINES} lines per order"))
    errors += _text_problems(order)
    gtins, wrong = _gtins(order)
    errors += wrong
    country = s.country.upper()
    try:
        place = geo.locate(country, s.region, s.postal_code, s.lat, s.lon)
    except geo.PlaceError as exc:
        errors.append(field_error(f"ship_to.{exc.field}", str(exc)))
        place = geo.Place(
            country=country, region=None, postal_code=None, lat=None, lon=None, source="none"
        )
    address = people.email(c.email)
    try:
        language = people.locale(c.locale, country)
    except ValueError as exc:
        errors.append(field_error("customer.locale", str(exc)))
        language = "en"
    try:
        zone = people.timezone(c.timezone, country, place.timezone, order.placed_at)
    except ValueError as exc:
        errors.append(field_error("customer.timezone", str(exc)))
        zone = "UTC"
    if errors:
        return Rejection(errors)
    # The order was decoded for this call alone: normalize it in place, it is cheaper.
    order.order_id, order.channel = order.order_id.strip(), order.channel.strip()
    order.placed_at = order.placed_at.astimezone(UTC)
    c.id, c.email, c.locale, c.timezone, c.name = (
        c.id.strip(),
        address,
        language,
        zone,
        inert(c.name),
    )
    for line, code in zip(order.lines, gtins, strict=True):
        line.title, line.gtin = inert(line.title), code
    s.country, s.region, s.postal_code = country, place.region, place.postal_code
    s.lat, s.lon = place.lat, place.lon
    return Prepared(
        order=order,
        geo_source=place.source,
        area=place.area,
        area_outcome=place.area_outcome,
        email_key=people.email_key(secret, address),
        contact_key=people.contact_key(address, language, zone, c.name),
        link_by_email=link_by_email,
    )
