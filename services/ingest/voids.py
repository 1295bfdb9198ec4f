"""Which lines of an order a cancellation or return names, and how many of each: pure logic.

A body names whole lines (`line_nos`, `skus`, or `lines` items without a quantity) or part
of a line (`lines` items with a quantity, by line number or by SKU). A quantity by SKU is
taken from the order's lines of that SKU in line order. What covers a line's whole
quantity is the whole line; every line whole is the whole order.
"""

from __future__ import annotations

from typing import NamedTuple

from services.ingest.model import LineRef, OrderEvent
from services.ingest.store import Known
from shared.errors import field_error

Errors = list[dict[str, str]]


class Voided(NamedTuple):
    """The lines named (empty: the whole order) and how many of each (0: the whole line;
    empty: each line named whole)."""

    line_nos: list[int]
    quantities: list[int]


def resolve(e: OrderEvent, order: Known) -> Voided | Errors:
    """The lines and quantities an event names, or each field that names what is not there."""
    count = len(order.skus)
    errors = [
        field_error("line_nos", f"line {n} does not exist (the order has {count})")
        for n in e.line_nos
        if n > count
    ]
    errors += [
        field_error("skus", f"{sku!r} is not in the order")
        for sku in e.skus
        if sku not in order.skus
    ]
    whole = {n for n in e.line_nos if n <= count}
    whole |= {n for n, sku in enumerate(order.skus, 1) if sku in e.skus}
    part: dict[int, int] = {}
    for i, ref in enumerate(e.lines):
        errors += _take(f"lines[{i}]", ref, order, whole, part)
    if errors:
        return errors
    whole |= {n for n, q in part.items() if q >= order.quantities[n - 1]}
    named = sorted(whole | part.keys())
    if len(whole) == count:
        return Voided([], [])  # naming every line whole is the same fact as naming none
    quantities = [0 if n in whole else part[n] for n in named]
    return Voided(named, quantities if any(quantities) else [])


def _take(field: str, ref: LineRef, order: Known, whole: set[int], part: dict[int, int]) -> Errors:
    """Add what one `lines` item names to `whole` and `part`; its errors, if any."""
    if (ref.line_no is None) == (ref.sku is None):
        return [field_error(field, "name the line by line_no or by sku (one of them)")]
    if ref.line_no is not None:
        n, count = ref.line_no, len(order.skus)
        if n > count:
            return [
                field_error(f"{field}.line_no", f"line {n} does not exist (the order has {count})")
            ]
        numbers = [n]
    else:
        numbers = [n for n, sku in enumerate(order.skus, 1) if sku == ref.sku]
        if not numbers:
            return [field_error(f"{field}.sku", f"{ref.sku!r} is not in the order")]
    if ref.quantity is None:
        whole.update(numbers)
        return []
    have = sum(order.quantities[n - 1] for n in numbers)
    if ref.quantity > have:
        what = (
            f"line {numbers[0]} has"
            if ref.line_no is not None
            else f"the order has, of {ref.sku!r},"
        )
        return [field_error(f"{field}.quantity", f"{what} a quantity of {have}")]
    left = ref.quantity
    for n in numbers:
        taken = min(left, max(0, order.quantities[n - 1] - part.get(n, 0)))
        if taken:
            part[n] = part.get(n, 0) + taken
            left -= taken
    if left:  # the rest of this SKU was named already by another item
        part[numbers[-1]] = part.get(numbers[-1], 0) + left
    return []
