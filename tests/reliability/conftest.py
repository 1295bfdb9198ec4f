"""The reliability runs print their figures as one table at the end of the session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support import figures


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the table of every scenario that recorded its figures."""
    if not figures.ROWS:
        return
    text = figures.table(figures.ROWS)
    terminalreporter.write_sep("=", "reliability")
    terminalreporter.write_line(text)
    if out := os.environ.get("ANSHIN_RELIABILITY_TABLE"):
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text + "\n")
