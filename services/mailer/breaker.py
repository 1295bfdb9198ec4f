"""Circuit breakers of mail paths (the relay, each recipient domain). Pure logic, no I/O.

A path pauses when `threshold` attempts in a row on it failed with the same reply code: a
relay that refuses everyone, a provider that blocks the shop, a relay that is down. While it
is paused, routine mail waits for the pause to end; urgent mail (disasters, recalls) is still
tried, one mail every `probe`. After the pause one mail probes the path: accepted, the path
closes; refused, it pauses again for twice as long (at most `longest`). A single answer that
differs (another code, or a mail accepted) breaks a streak, so scattered bounces and
greylisting never pause a path.

Each failure names its source (for the relay: the recipient's domain, or '' for a refusal
before RCPT). A path given `spread` pauses only when its streak holds a source '' or that many
sources: the relay is not paused for one domain's refusals, which pause that domain.
"""

from __future__ import annotations

from datetime import datetime, timedelta


class _Path:
    """One path's streak of failures, and its pause."""

    __slots__ = ("code", "pause", "probe_at", "since", "sources", "streak", "until")

    def __init__(self, pause: timedelta) -> None:
        self.code = ""  # the code of the streak, and of the pause while paused
        self.streak = 0
        self.sources: set[str] = set()  # of the streak, a few at most
        self.until: datetime | None = None  # paused until then; None: closed
        self.since: datetime | None = None  # paused since
        self.pause = pause
        self.probe_at: datetime | None = None  # when the next mail may probe a paused path


class Breakers:
    """The breakers of every path that has failed lately; a path that works is forgotten."""

    def __init__(
        self,
        threshold: int,
        pause: timedelta,
        *,
        longest: timedelta = timedelta(minutes=10),
        probe: timedelta = timedelta(seconds=5),
    ) -> None:
        self.threshold = max(1, threshold)
        self.pause, self.longest = pause, max(longest, pause)
        self.probe = min(probe, pause)
        self._paths: dict[str, _Path] = {}

    def paused(self, path: str) -> str:
        """The code that paused the path; '' when it is closed."""
        found = self._paths.get(path)
        return found.code if found is not None and found.until is not None else ""

    def pauses(self) -> dict[str, str]:
        """Every paused path and its code."""
        return {name: p.code for name, p in self._paths.items() if p.until is not None}

    def pause_over(self, path: str, now: datetime) -> bool:
        """Whether a paused path's pause has run out: any mail may probe it now."""
        found = self._paths.get(path)
        return found is not None and found.until is not None and now >= found.until

    def heard(self, path: str, code: str, now: datetime, source: str = "", spread: int = 1) -> None:
        """One attempt's answer on the path: '' for a mail accepted, else the reply's code."""
        p = self._paths.get(path)
        if not code:
            self._paths.pop(path, None)  # it works: closed, and nothing left to remember
            return
        if p is None:
            p = self._paths[path] = _Path(self.pause)
        if p.until is not None:
            if now >= p.until:  # the probe after the pause failed: pause again, longer
                p.pause = min(p.pause * 2, self.longest)
                p.code, p.until, p.since = code, now + p.pause, now
                p.probe_at = now + self.probe
            return  # while paused, urgent mail's probes failing change nothing
        if code != p.code:
            p.code, p.streak, p.sources = code, 0, set()
        p.streak += 1
        if len(p.sources) < spread:
            p.sources.add(source)
        if p.streak >= self.threshold and ("" in p.sources or len(p.sources) >= spread):
            p.until, p.since, p.probe_at = now + p.pause, now, now + self.probe

    def forget(self, code: str, keep: str) -> None:
        """Drop the streaks and pauses of `code` but on `keep`: another path explains them."""
        for name in [n for n, p in self._paths.items() if p.code == code and n != keep]:
            del self._paths[name]

    def gate(self, path: str, now: datetime, urgent: bool) -> datetime | None:
        """None if a mail may take the path now (a probe, if it is paused); else when to try.

        A mail let through a paused path is its probe: the next may follow `probe` later.
        """
        p = self._paths.get(path)
        if p is None or p.until is None or p.probe_at is None:
            return None
        if not urgent and now < p.until:
            return p.until
        if now >= p.probe_at:
            p.probe_at = now + self.probe
            return None
        return p.probe_at

    def paused_after(self, path: str, moment: datetime, urgent: bool) -> datetime | None:
        """If the path paused after `moment` (a claim's): when a mail claimed then may go."""
        p = self._paths.get(path)
        if p is None or p.since is None or p.until is None or p.probe_at is None:
            return None
        if p.since <= moment:
            return None
        return p.probe_at if urgent else p.until
