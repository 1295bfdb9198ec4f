"""CPU time of every process on the machine from /proc, to show where a benchmark's time went.

py-spy and getrusage see one process; a path through ingest spends nearly as much in
PostgreSQL as in Python, and the machine runs nothing but what the bench starts.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def snapshot() -> dict[int, tuple[str, int]]:
    """(program name, CPU clock ticks used so far) of each running process, by pid."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # it ended meanwhile
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        found[int(entry.name)] = (name, int(fields[11]) + int(fields[12]))  # utime + stime
    return found


class Span:
    """CPU seconds by program between start() and stop(), with the wall time between."""

    def __init__(self) -> None:
        self._before: dict[int, tuple[str, int]] = {}
        self._started = 0.0
        self.wall = 0.0
        self.seconds: dict[str, float] = {}

    def start(self) -> None:
        """Take the first snapshot."""
        self._before, self._started = snapshot(), time.perf_counter()

    def stop(self, names: dict[int, str] | None = None, only_named: bool = False) -> None:
        """Take the second; `names` labels processes by pid (this one is always "bench");
        `only_named`: count those alone (the machine runs other work too)."""
        after, self.wall = snapshot(), time.perf_counter() - self._started
        labels = {os.getpid(): "bench", **(names or {})}
        self.seconds = {}
        for pid, (name, ticks) in after.items():
            # A process that ended inside the span is missed: keep pools open until stop().
            used = ticks - self._before.get(pid, (name, 0))[1]
            if used and (pid in labels or not only_named):
                label = labels.get(pid, name)
                self.seconds[label] = self.seconds.get(label, 0.0) + used / _TICK

    def per_item_us(self, label: str, items: int) -> float:
        """CPU microseconds of `label` per item."""
        return self.seconds.get(label, 0.0) / items * 1e6

    def cores_busy(self) -> float:
        """CPU seconds of every process over the wall time: 2.0 is both cores all along."""
        return sum(self.seconds.values()) / self.wall if self.wall else 0.0
