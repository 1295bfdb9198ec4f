"""Plain-text tables and JSON, as the CLI prints them."""

from __future__ import annotations

from collections.abc import Container
from typing import Any

import msgspec


def table(header: tuple[str, ...], rows: list[tuple[str, ...]], right: Container[int] = ()) -> str:
    """A plain-text table: columns as wide as their widest cell, numbers to the right."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        cells = [
            str(c).rjust(w) if i in right else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    return "\n".join([line(header), line(tuple("-" * w for w in widths)), *map(line, rows)])


def as_json(value: Any) -> str:
    """`--json` output: indented, times as ISO 8601, for scripts (`jq -r .key`)."""
    return msgspec.json.format(msgspec.json.encode(value)).decode()
