"""When to read a feed next: just after its next rewrite, when it is rewritten on a cycle.

JMA rewrites its Atom feeds once a minute (http://xml.kishou.go.jp/xmlpull.html). Read at a
fixed interval from whenever the reader started, a new entry waits up to a whole interval
after it appeared; read just after each rewrite, it waits a couple of seconds. The rewrite
times come from the server's own clock, Date against Last-Modified, so the reader's clock
may be off. A feed that changes at any moment (the NWS alerts API) is still read once an
interval, plus at most one early read per change: a read that came early because a rewrite
was due, and found none, is not followed by another early one until the feed changes (a
server whose dates always promise a rewrite in a moment is read once an interval).
"""

from __future__ import annotations

from datetime import datetime

MARGIN_S = 2.0  # after the expected rewrite: HTTP dates are whole seconds, and writing takes time
MARGIN_SHARE = 0.05  # of the interval, when that is smaller (the tests poll every 0.1 s)


def next_poll(interval_s: float, served: datetime | None, modified: datetime | None) -> float:
    """Seconds from the read served at `served` (the Date header) to the next one."""
    if served is None or modified is None:
        return interval_s
    age = (served - modified).total_seconds()
    if age < 0:  # a rewrite after the answer: the server's dates say nothing
        return interval_s
    margin = min(MARGIN_S, interval_s * MARGIN_SHARE)
    return interval_s - age % interval_s + margin


class Cadence:
    """The reads of one feed: `next_poll`, with no early read twice on the same promise."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._early_for: datetime | None = None  # the Last-Modified that made a read early

    def after(self, served: datetime | None, modified: datetime | None) -> float:
        """Seconds from this read to the next."""
        wait = next_poll(self.interval_s, served, modified)
        if wait < self.interval_s and modified == self._early_for:
            wait = self.interval_s  # the rewrite promised last time never came
        self._early_for = modified if wait < self.interval_s else None
        return wait
