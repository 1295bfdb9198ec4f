"""The VERP return path: every mail's envelope sender names its delivery, signed.

`bounce+<token>@<domain>`: the token is a reference to the mail (a hash of its Message-ID,
stored in the ledger rows that carry it), a keyed hash of the address it went to, and an
HMAC-SHA256 of both under ANSHIN_SECRET_KEY. It names no address and no customer, fits in
the 64 octets of a local part, and is lower-case base32, since relays may fold the case of
a local part. Nobody without the secret can make one that names another mail or address.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from typing import NamedTuple

PREFIX = "bounce+"
REF_BYTES, ADDRESS_BYTES, MAC_BYTES = 10, 5, 10
TOKEN_CHARS = (REF_BYTES + ADDRESS_BYTES + MAC_BYTES) * 8 // 5  # 40: no base32 padding


class Named(NamedTuple):
    """What a genuine token names."""

    ref: bytes  # the mail: deliveries.mail_ref
    address: bytes  # the keyed hash of the address it was mailed to


def mail_ref(message_id: str) -> bytes:
    """The reference of a mail; the claim stores the same in `deliveries.mail_ref` (SQL)."""
    return hashlib.sha256(message_id.encode()).digest()[:REF_BYTES]


def _keyed(secret: str, label: bytes, data: bytes, size: int) -> bytes:
    return hmac.new(secret.encode(), label + b"\0" + data, hashlib.sha256).digest()[:size]


def address_hash(secret: str, email: str) -> bytes:
    """The keyed hash of an address that a token carries."""
    return _keyed(secret, b"verp-address", email.encode(), ADDRESS_BYTES)


def token(secret: str, message_id: str, email: str) -> str:
    """The signed token of one mail to one address."""
    body = mail_ref(message_id) + address_hash(secret, email)
    raw = body + _keyed(secret, b"verp", body, MAC_BYTES)
    return base64.b32encode(raw).decode().lower()


def return_path(secret: str, domain: str, message_id: str, email: str) -> str:
    """The envelope sender (MAIL FROM) of one mail."""
    return f"{PREFIX}{token(secret, message_id, email)}@{domain}"


def verify(secret: str, text: str) -> Named | None:
    """What a token names, or None when it is malformed or forged."""
    if len(text) != TOKEN_CHARS:
        return None
    try:
        raw = base64.b32decode(text.upper())
    except (binascii.Error, ValueError):
        return None
    body, mac = raw[: REF_BYTES + ADDRESS_BYTES], raw[REF_BYTES + ADDRESS_BYTES :]
    if not hmac.compare_digest(mac, _keyed(secret, b"verp", body, MAC_BYTES)):
        return None
    return Named(body[:REF_BYTES], body[REF_BYTES:])


def parse(secret: str, domain: str, recipient: str) -> Named | None:
    """What a return path (`bounce+token@domain`, any case, <> allowed) names, or None."""
    local, at, host = recipient.strip().strip("<>").rpartition("@")
    if not at or host.lower() != domain.lower() or not local.lower().startswith(PREFIX):
        return None
    return verify(secret, local[len(PREFIX) :].lower())


def same_address(secret: str, named: Named, email: str) -> bool:
    """Whether the token's mail went to this address (the contact may have moved since)."""
    return hmac.compare_digest(named.address, address_hash(secret, email))


def feedback_address(domain: str) -> str:
    """The plain address of the domain (`bounce@…`) for feedback loops: a provider sends its
    complaints to an address registered once, not to each mail's return path."""
    return f"{PREFIX[:-1]}@{domain}"


def enclosed(secret: str, domain: str, raw: bytes) -> Named | None:
    """The first genuine return path of ours that a report quotes (the original mail's
    Return-Path or Original-Mail-From, in a complaint sent to the feedback address)."""
    pattern = rb"bounce\+([a-z2-7]{%d})@%s" % (TOKEN_CHARS, re.escape(domain.encode()))
    for found in re.finditer(pattern, raw, re.IGNORECASE):
        named = verify(secret, found.group(1).decode().lower())
        if named is not None:
            return named
    return None
