"""The base of every bus message and the one encoder and decoder factory."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec


class Message(msgspec.Struct, kw_only=True, tag_field="type", omit_defaults=False):
    """A message on the bus; subclasses set `tag=` to their wire type name."""


T = TypeVar("T")

_encoder = msgspec.json.Encoder()


def encode(message: Message) -> bytes:
    """Encode a message to JSON bytes."""
    return _encoder.encode(message)


def decoder(kind: Any) -> msgspec.json.Decoder[Any]:
    """Build a decoder for a message type or tagged union; build it once and reuse it."""
    return msgspec.json.Decoder(kind)
