"""One clock for every service; tests move it instead of sleeping."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path


class Clock:
    """Wall-clock time in UTC, shifted by an offset that tests can move."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self._offset = offset

    def now(self) -> datetime:
        """Return the current time (timezone-aware, UTC)."""
        return datetime.now(UTC) + self.offset()

    def offset(self) -> timedelta:
        """Return how far this clock is ahead of the wall clock."""
        return self._offset

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward by `delta`."""
        self._offset += delta


class FileClock(Clock):
    """A clock whose offset (seconds) is read from a file, so one test can move many processes."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._path = path
        self._mtime_ns = -1

    def offset(self) -> timedelta:
        """Return the offset written in the file; zero where there is none."""
        try:
            mtime_ns = os.stat(self._path).st_mtime_ns
        except FileNotFoundError:
            return timedelta(0)
        if mtime_ns != self._mtime_ns:
            text = self._path.read_text().strip()
            self._offset = timedelta(seconds=float(text or 0))
            self._mtime_ns = mtime_ns
        return self._offset

    def advance(self, delta: timedelta) -> None:
        """Move every process that reads this file forward by `delta`."""
        total = self.offset() + delta
        tmp = self._path.with_suffix(".tmp")
        tmp.write_text(str(total.total_seconds()))
        os.replace(tmp, self._path)


def from_settings(clock_file: str) -> Clock:
    """Return the clock a service should use: file-driven when a clock file is configured."""
    return FileClock(Path(clock_file)) if clock_file else Clock()
