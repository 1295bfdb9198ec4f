"""Turning a request body (JSON object, JSON array or NDJSON) into records to validate."""

from __future__ import annotations

from typing import Any

import msgspec

from shared.errors import Invalid, field_error

NDJSON_TYPES = {"application/x-ndjson", "application/ndjson", "application/jsonl"}


def split_records(body: bytes, content_type: str) -> list[Any]:
    """Return the raw records of a body: one object, an array's items, or NDJSON lines.

    A malformed NDJSON line becomes a `msgspec.DecodeError` in its slot, so that it is
    answered by index while the other lines are accepted.
    """
    if content_type in NDJSON_TYPES:
        records: list[Any] = []
        for line in body.splitlines():
            if not line.strip():
                continue
            try:
                records.append(msgspec.json.decode(line))
            except msgspec.DecodeError as exc:
                records.append(exc)
        return records
    try:
        data = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise Invalid("body is not valid JSON", [field_error("$", str(exc))]) from exc
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        return [data]
    raise Invalid(
        "body must be a JSON object, an array of objects, or NDJSON",
        [field_error("$", f"got {type(data).__name__}")],
    )
