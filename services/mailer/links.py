"""A mail's per-delivery links: read the safety page, "I have checked it", "I no longer have it".

Each link names one ledger row (advisory, event, customer) and what it does, signed with the
secret: nobody can count a read or an answer for someone else's mail. The link carries ids
only, never an address.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import NamedTuple

import msgspec

from shared.config import Settings
from shared.mail.delivery import Delivery

READ = "r"
# What an action link answers, as the ledger's `acted` column names it.
ACTIONS = {"c": "checked", "g": "gone"}


class Link(NamedTuple):
    """What a genuine link names: what it does and the ledger row it does it to."""

    purpose: str  # READ, or a key of ACTIONS
    advisory_id: str
    event_id: str
    customer_id: str


def _mac(secret: str, purpose: str, payload: str) -> str:
    message = f"delivery-link\0{purpose}\0{payload}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def make(secret: str, purpose: str, advisory_id: str, event_id: str, customer_id: str) -> str:
    """A signed token for one delivery's link."""
    raw = "\0".join((advisory_id, event_id, customer_id)).encode()
    payload = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return f"{purpose}.{payload}.{_mac(secret, purpose, payload)}"


def verify(secret: str, token: str, purposes: str) -> Link | None:
    """What a token names, if genuine and of one of `purposes`; else None."""
    if len(token) > 2000:
        return None
    parts = token.split(".")
    if len(parts) != 3 or parts[0] not in purposes:
        return None
    purpose, payload, signature = parts
    # As bytes: compare_digest refuses str with non-ASCII characters, which anyone can send.
    if not hmac.compare_digest(signature.encode(), _mac(secret, purpose, payload).encode()):
        return None
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    ids = raw.split("\0")
    return Link(purpose, *ids) if len(ids) == 3 else None


def linked(delivery: Delivery, settings: Settings) -> Delivery:
    """The delivery with its own signed links: the safety page's (when there is a public page
    to send the reader on to) and the two answers."""
    key = (delivery.advisory_id, delivery.event_id, delivery.customer_id)
    base = f"{settings.mailer_public_url.rstrip('/')}"

    def url(path: str, purpose: str) -> str:
        return f"{base}/{path}/{make(settings.secret_key, purpose, *key)}"

    page = url("r", READ) if delivery.page_url else ""
    if delivery.notice == "withdrawal":  # advice withdrawn: nothing to answer
        return msgspec.structs.replace(delivery, page_url=page)
    return msgspec.structs.replace(
        delivery, page_url=page, checked_url=url("a", "c"), gone_url=url("a", "g")
    )
