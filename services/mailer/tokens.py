"""Unsubscribe tokens: signed, so that nobody can unsubscribe someone else."""

from __future__ import annotations

import base64
import hashlib
import hmac


def _sign(secret: str, customer_id: str) -> str:
    mac = hmac.new(secret.encode(), f"unsubscribe:{customer_id}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:18]).decode()


def make(secret: str, customer_id: str) -> str:
    """A token naming a customer, signed with the service secret."""
    encoded = base64.urlsafe_b64encode(customer_id.encode()).decode().rstrip("=")
    return f"{encoded}.{_sign(secret, customer_id)}"


def verify(secret: str, token: str) -> str | None:
    """Return the customer a token names, or None when it is malformed or forged."""
    encoded, _, signature = token.partition(".")
    try:
        customer_id = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    # As bytes: compare_digest refuses str with non-ASCII characters, which anyone can send.
    if not hmac.compare_digest(signature.encode(), _sign(secret, customer_id).encode()):
        return None
    return customer_id
