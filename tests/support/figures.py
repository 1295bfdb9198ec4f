"""The figures of the reliability runs, kept as the tests go and printed as one table."""

from __future__ import annotations

import msgspec

COLUMNS = ("load", "faults", "survived", "inputs", "lost", "duplicates", "leaks")
HEADERS = {
    "load": "load held",
    "faults": "faults injected",
    "survived": "survived",
    "inputs": "inputs tried",
    "lost": "mails lost",
    "duplicates": "duplicates",
    "leaks": "leaks",
}


class Row(msgspec.Struct, kw_only=True):
    """One scenario: what it put through, what it broke, and what went wrong."""

    scenario: str
    load: int = 0  # mails (or requests) the run carried
    faults: int = 0
    survived: int = 0
    inputs: int = 0  # hostile or generated inputs tried
    lost: int = 0
    duplicates: int = 0
    leaks: int = 0
    seconds: float = 0.0
    note: str = ""


ROWS: list[Row] = []


def record(scenario: str, **figures: int | float | str) -> Row:
    """Keep one scenario's figures for the table (call it before asserting on them)."""
    row = msgspec.convert({"scenario": scenario, **figures}, Row)
    ROWS.append(row)
    return row


def table(rows: list[Row]) -> str:
    """The rows as a Markdown table, with a total line."""
    total = Row(scenario="**total**")
    for row in rows:
        for column in COLUMNS:
            setattr(total, column, getattr(total, column) + getattr(row, column))
        total.seconds += row.seconds
    header = ["scenario", *(HEADERS[c] for c in COLUMNS), "seconds", "note"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in [*rows, total]:
        cells = [row.scenario, *(f"{getattr(row, c):,}" for c in COLUMNS)]
        cells += [f"{row.seconds:,.0f}", row.note]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
