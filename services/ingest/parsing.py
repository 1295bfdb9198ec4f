"""Turning a request body (JSON object, JSON array or NDJSON) into raw records to decode."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO, Any

import msgspec

from services.ingest.model import Rejection
from shared.errors import Invalid, field_error
from shared.http import validation_details

NDJSON_TYPES = {
    "application/x-ndjson",
    "application/ndjson",
    "application/jsonl",
    "application/x-jsonl",
}

_raw_list = msgspec.json.Decoder(list[msgspec.Raw])


def split(body: bytes, content_type: str) -> list[bytes]:
    """Return the raw records of a body: one object, an array's items, or NDJSON lines.

    Each record is decoded on its own later, so that a bad one is answered by its index
    while the others are accepted.
    """
    stripped = body.lstrip()
    if content_type in NDJSON_TYPES:
        return lines(body.splitlines())
    if stripped.startswith(b"["):
        try:
            return [bytes(raw) for raw in _raw_list.decode(body)]
        except msgspec.DecodeError as exc:
            raise Invalid("body is not valid JSON", [field_error("$", str(exc))]) from exc
    if stripped.startswith(b"{"):
        try:
            msgspec.json.decode(body)
        except msgspec.DecodeError as exc:
            # Several objects one per line without the NDJSON content type: read them so.
            if "trailing characters" in str(exc) and b"\n" in body.strip():
                return lines(body.splitlines())
            raise Invalid("body is not valid JSON", [field_error("$", str(exc))]) from exc
        return [body]
    raise Invalid(
        "body must be a JSON object, an array of objects, or NDJSON",
        [field_error("$", "expected '{' or '['")],
    )


def lines(raw_lines: Iterable[bytes]) -> list[bytes]:
    """Keep the non-blank lines of NDJSON."""
    return [line for line in raw_lines if line.strip()]


def ndjson_chunks(stream: IO[bytes], size: int) -> Iterator[list[bytes]]:
    """Yield the non-blank lines of an NDJSON stream, `size` at a time."""
    chunk: list[bytes] = []
    for line in stream:
        if line.strip():
            chunk.append(line)
            if len(chunk) >= size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def decode(raw: bytes, decoder: msgspec.json.Decoder[Any]) -> Any:
    """Decode one record, or return a Rejection naming the field and the problem."""
    if b"\\u0000" in raw or b"\x00" in raw:
        # PostgreSQL text cannot hold NUL: refuse it here rather than fail the batch later.
        return Rejection([field_error("$", "NUL characters are not allowed")])
    try:
        return decoder.decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        return Rejection(validation_details(exc))
