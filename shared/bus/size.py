"""How large a bus message may be, and batches split by their encoded size.

The server refuses a message whose headers and payload together exceed its `max_payload`
(1 MiB by default, announced in its INFO), and closes the connection of a client that sends
one. A batch is therefore split until its encoding takes at most half of that: room for
headers, and for a batch whose texts grow a little before the relay sends it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from nats.aio.client import Client

DEFAULT_MAX_PAYLOAD = 1024 * 1024  # NATS's default, until a server says otherwise

T = TypeVar("T")

# Batches are built inside a store's transaction, where no connection is at hand: the
# process keeps what its server announced when it last connected.
_announced = {"max_payload": DEFAULT_MAX_PAYLOAD}


def heard(nc: Client) -> None:
    """Note the max_payload that the server of this connection announced."""
    if nc.is_connected and nc.max_payload > 0:
        _announced["max_payload"] = nc.max_payload


def batch_bytes() -> int:
    """The most a batch message may take: half of the server's max_payload."""
    return _announced["max_payload"] // 2


def wire_size(payload: bytes, headers: dict[str, str]) -> int:
    """The bytes the server counts against max_payload: the header block and the payload."""
    if not headers:
        return len(payload)
    # NATS/1.0\r\n, then `Name: value\r\n` per header, then a blank line.
    block = 10 + sum(len(k.encode()) + len(v.encode()) + 4 for k, v in headers.items()) + 2
    return block + len(payload)


def split(
    items: Sequence[T],
    encode: Callable[[Sequence[T]], bytes],
    *,
    most: int,
    limit: int = 0,
) -> list[tuple[Sequence[T], bytes]]:
    """The items in messages: (items, encoded) of at most `most` items each, every one halved
    while its encoding is over `limit` bytes (half of max_payload by default).

    An item too large even alone stays alone: the outbox relay sets it aside, the others go.
    """
    limit = limit or batch_bytes()
    found: list[tuple[Sequence[T], bytes]] = []
    for start in range(0, len(items), most):
        _fit(items[start : start + most], encode, limit, found)
    return found


def _fit(
    items: Sequence[T],
    encode: Callable[[Sequence[T]], bytes],
    limit: int,
    found: list[tuple[Sequence[T], bytes]],
) -> None:
    payload = encode(items)
    if len(payload) <= limit or len(items) == 1:
        found.append((items, payload))
        return
    # Halves, not as many parts as the size asks for: one item far larger than the rest
    # would have cut all the others into messages of one.
    half = len(items) // 2
    _fit(items[:half], encode, limit, found)
    _fit(items[half:], encode, limit, found)
