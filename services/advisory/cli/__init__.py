"""Advisory's commands of the `anshin` CLI: agencies, disaster events, reach, dead letters."""

from __future__ import annotations

import argparse

from services.advisory.cli import commands, dead
from services.advisory.cli.commands import (
    REPORT_STATES,
    agencies,
    create_agency,
    describe_event,
    events_of,
    new_agency,
    reach_table,
)

__all__ = [
    "REPORT_STATES",
    "agencies",
    "create_agency",
    "describe_event",
    "events_of",
    "new_agency",
    "reach_table",
    "register",
]


def register(subcommands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `anshin agency`, `event`, `advisory` and `dead`."""
    commands.register(subcommands)
    dead.register(subcommands)
