"""Advisory's commands of the `anshin` CLI: agencies, disaster events, reach, dead letters.

`services/cli.py` registers them all with `register`; the names below are what the demo
and the tests use.
"""

from __future__ import annotations

import argparse

from services.advisory.cli import agency, dead, event, evidence, report
from services.advisory.cli.agency import agencies, create_agency, new_agency
from services.advisory.cli.event import describe_event, events_of
from services.advisory.cli.report import REPORT_STATES, reach_table

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


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `anshin agency`, `event`, `advisory`, `evidence` and `dead`, in that order."""
    for module in (agency, event, report, evidence, dead):
        module.register(commands)
