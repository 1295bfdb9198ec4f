"""The evidence export: JSON lines, each row carrying the hash of the one before, then the
chain's head signed with Anshin's Ed25519 key.

A row is `{"seq", "prev", "advisory_id", "event", "at", "customer", …}`; `prev` is the
SHA-256 (hex) of the previous line's bytes, or of `anshin-evidence\\0{advisory_id}` for the
first. The last line is `{"advisory_id", "head", "rows", "signed_at", "algorithm",
"key_id", "signature"}`: `head` is the hash of the last row, and `signature` (base64) signs
that object without its signature, encoded as compact JSON with sorted keys. Changing,
dropping, adding or reordering any row breaks the chain or the head; forging both needs
the key.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from typing import Any, NamedTuple

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from services.advisory.evidence.keys import key_id
from shared import messages as m

ALGORITHM = "Ed25519"


def _canonical(value: dict[str, Any]) -> bytes:
    return msgspec.json.encode(value, order="sorted")


def genesis(advisory_id: str) -> str:
    """The `prev` of an advisory's first row."""
    return hashlib.sha256(f"anshin-evidence\0{advisory_id}".encode()).hexdigest()


class Chain:
    """Rows of one advisory's export, chained as they are written."""

    def __init__(self, advisory_id: str) -> None:
        self.advisory_id = advisory_id
        self.prev = genesis(advisory_id)
        self.rows = 0

    def row(self, event: m.EvidenceEvent) -> bytes:
        """One event as its line (with its newline), chained to the line before."""
        fields = msgspec.to_builtins(event)
        line = _canonical(
            {**fields, "seq": self.rows + 1, "prev": self.prev, "advisory_id": self.advisory_id}
        )
        self.prev = hashlib.sha256(line).hexdigest()
        self.rows += 1
        return line + b"\n"

    def head(self, key: Ed25519PrivateKey, signed_at: datetime) -> bytes:
        """The last line: the chain's head, signed."""
        body = {
            "advisory_id": self.advisory_id,
            "head": self.prev,
            "rows": self.rows,
            "signed_at": msgspec.to_builtins(signed_at),
            "algorithm": ALGORITHM,
            "key_id": key_id(key.public_key()),
        }
        signature = base64.b64encode(key.sign(_canonical(body))).decode()
        return _canonical({**body, "signature": signature}) + b"\n"


class Verdict(NamedTuple):
    """What a check of an export found: `problem` is empty when chain and signature hold."""

    rows: int
    advisory_id: str
    problem: str = ""


def _decode(line: bytes, number: int) -> dict[str, Any]:
    try:
        found = msgspec.json.decode(line)
    except msgspec.DecodeError:
        raise ValueError(f"line {number} is not JSON") from None
    if not isinstance(found, dict):
        raise ValueError(f"line {number} is not a JSON object")
    return found


def _check(data: bytes, key: Ed25519PublicKey) -> tuple[int, str]:
    lines = data.splitlines()
    if not lines:
        raise ValueError("the file is empty")
    *rows, last = lines
    head = _decode(last, len(lines))
    advisory_id = head.get("advisory_id")
    if not isinstance(advisory_id, str) or "signature" not in head:
        raise ValueError("the last line is not a signed head")
    prev = genesis(advisory_id)
    for number, line in enumerate(rows, 1):
        row = _decode(line, number)
        if row.get("prev") != prev:
            raise ValueError(f"line {number} does not follow the line before (prev differs)")
        if row.get("seq") != number or row.get("advisory_id") != advisory_id:
            raise ValueError(f"line {number} is out of place (seq or advisory_id)")
        prev = hashlib.sha256(line).hexdigest()
    if head.get("head") != prev or head.get("rows") != len(rows):
        raise ValueError("the signed head does not match the rows (a row changed or is missing)")
    if head.get("key_id") != key_id(key):
        raise ValueError(f"signed by key {head.get('key_id')}, not by {key_id(key)}")
    signature = head.pop("signature")
    try:
        key.verify(base64.b64decode(str(signature), validate=True), _canonical(head))
    except (InvalidSignature, ValueError):
        raise ValueError("the signature of the head does not verify") from None
    return len(rows), advisory_id


def verify(data: bytes, key: Ed25519PublicKey) -> Verdict:
    """Check an export's chain, its head and the head's signature against `key`."""
    try:
        rows, advisory_id = _check(data, key)
    except ValueError as exc:
        return Verdict(0, "", str(exc))
    return Verdict(rows, advisory_id)
