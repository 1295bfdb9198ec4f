"""GTINs as GTIN-14, the one form Anshin stores and compares them in.

A product's GTIN is written as EAN-8, UPC-A (12 digits), EAN-13 or GTIN-14 depending on who
writes it: the same product is `4901234567894` on a Japanese label and `04901234567894` in
a GS1 feed, and a recall naming one must reach the buyer whose order carried the other.
Every GTIN that enters (catalog, orders, advisories) is checked here, GS1 mod-10 check digit
included (python-stdnum's EAN module), and kept zero-padded to 14 digits.
"""

from __future__ import annotations

from stdnum import ean
from stdnum.exceptions import ValidationError

LENGTH = 14
LENGTHS = (8, 12, 13, 14)  # EAN-8, UPC-A, EAN-13, GTIN-14
MAX_INPUT = 32  # digits with spaces or hyphens between groups, as labels print them


class InvalidGtin(ValueError):
    """Not a GTIN: the message says why, fit for the `problem` of an HTTP error."""


def normalize(value: str) -> str:
    """The GTIN-14 of an EAN-8, UPC-A, EAN-13 or GTIN-14; InvalidGtin if it is none of them."""
    if len(value) > MAX_INPUT:
        raise InvalidGtin(f"at most {MAX_INPUT} characters")
    try:
        digits = ean.validate(value.strip())
    except ValidationError as exc:
        raise InvalidGtin(_problem(value.strip(), exc)) from None
    if not digits.strip("0"):
        raise InvalidGtin("all zeros names no product: leave the GTIN out")
    return digits.zfill(LENGTH)


def _problem(value: str, exc: ValidationError) -> str:
    compact = ean.compact(value)
    if not compact.isascii() or not compact.isdigit():
        return "digits only (EAN-8, UPC-A, EAN-13 or GTIN-14)"
    if len(compact) not in LENGTHS:
        return f"{len(compact)} digits: a GTIN has 8, 12, 13 or 14"
    expected = ean.calc_check_digit(compact[:-1])
    if compact[-1] != expected:
        return f"wrong check digit {compact[-1]} (GS1 mod 10 gives {expected})"
    return str(exc)


def canonical(value: str | None) -> str | None:
    """A GTIN accepted before (a bus message, a stored row, a rule) as GTIN-14, for comparing:
    8, 12 or 13 digits are padded with zeros, as migrations padded the stored ones; anything
    else is returned as it is (it matches nothing validated). The check digit was judged
    where the value entered, or never: judging it here would set old data apart."""
    if value is not None and value.isascii() and value.isdigit() and len(value) in LENGTHS:
        return value.zfill(LENGTH)
    return value
