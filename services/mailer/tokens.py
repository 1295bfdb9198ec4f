"""Unsubscribe tokens: signed, so that nobody can unsubscribe someone else.

A token names the customer and the address it was mailed to (as a keyed hash, never the
address itself): a customer who has moved to a new address since cannot have it
unsubscribed by whoever still reads the old one. Tokens of two parts were mailed before
addresses were named; they still unsubscribe the customer's current address.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import NamedTuple


class Link(NamedTuple):
    """What a genuine token names."""

    customer_id: str
    address: str | None  # the keyed hash of the address mailed; None in a two-part token


def _mac(secret: str, message: str, size: int) -> str:
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:size]).decode()


def _legacy(secret: str, customer_id: str) -> str:
    return _mac(secret, f"unsubscribe:{customer_id}", 18)


def _signed(secret: str, customer_id: str, address: str) -> str:
    # NUL-separated: never the text a two-part token's signature was made of.
    return _mac(secret, f"unsubscribe\0{customer_id}\0{address}", 18)


def address(secret: str, customer_id: str, email: str) -> str:
    """The keyed hash a token carries of the address it was mailed to."""
    return _mac(secret, f"unsubscribe-address\0{customer_id}\0{email}", 9)


def make(secret: str, customer_id: str, email: str) -> str:
    """A token naming a customer and the address it is mailed to, signed with the secret."""
    encoded = base64.urlsafe_b64encode(customer_id.encode()).decode().rstrip("=")
    mailed = address(secret, customer_id, email)
    return f"{encoded}.{mailed}.{_signed(secret, customer_id, mailed)}"


def _same(given: str, expected: str) -> bool:
    # As bytes: compare_digest refuses str with non-ASCII characters, which anyone can send.
    return hmac.compare_digest(given.encode(), expected.encode())


def verify(secret: str, token: str) -> Link | None:
    """What a token names, or None when it is malformed or forged."""
    encoded, *rest = token.split(".")
    try:
        customer_id = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    match rest:
        case [mailed, signature] if _same(signature, _signed(secret, customer_id, mailed)):
            return Link(customer_id, mailed)
        case [signature] if _same(signature, _legacy(secret, customer_id)):
            return Link(customer_id, None)
    return None
