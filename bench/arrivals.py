"""What reached the local mailbox: each new mail's arrival time (its Maildir name begins
with it, every digit: deploy/maildir.py) and recipient (the X-RcptTo line the mailbox puts
on top), and the verdict against the addresses that should have received it."""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections import Counter
from pathlib import Path
from typing import NamedTuple

_ARRIVED = re.compile(r"(\d{10})\.N(\d{9})P")
_RCPT = re.compile(rb"^X-RcptTo: *([^\r\n]*)", re.MULTILINE)


def keys(maildir: Path) -> set[str]:
    """The names of every mail in the Maildir."""
    return {e.name for sub in ("new", "cur") for e in os.scandir(maildir / sub)}


class Mail(NamedTuple):
    """One mail as it arrived."""

    at: float  # seconds since the epoch (the mailbox's wall clock)
    to: str


def read(maildir: Path, names: set[str]) -> list[Mail]:
    """The arrival time and recipient of each named mail."""
    found = []
    for name in names:
        arrived = _ARRIVED.match(name)
        path = maildir / "new" / name
        if not path.exists():
            path = maildir / "cur" / name
        with open(path, "rb") as source:
            rcpt = _RCPT.search(source.read(2048))
        seconds = int(arrived.group(1)) + int(arrived.group(2)) / 1e9 if arrived else 0.0
        found.append(Mail(seconds, rcpt.group(1).decode().strip().lower() if rcpt else ""))
    return found


async def wait(
    maildir: Path, before: set[str], expected: int, quiet: float = 3.0, timeout: float = 600.0
) -> set[str]:
    """The names of the mails that arrived after `before`, once `expected` of them came and
    nothing more for `quiet` seconds (a duplicate or a stray would show then); or once
    nothing came for a minute, or after `timeout`."""
    started = time.monotonic()
    count, changed = 0, time.monotonic()
    while time.monotonic() - started < timeout:
        await asyncio.sleep(0.5)
        # Counted by name only: on a 2-core machine the bench's own CPU is the stack's loss.
        now = sum(len(os.listdir(maildir / sub)) for sub in ("new", "cur")) - len(before)
        if now != count:
            count, changed = now, time.monotonic()
        idle = time.monotonic() - changed
        if (count >= expected and idle >= quiet) or (idle >= 60 and count > 0):
            break
    return keys(maildir) - before


class Verdict(NamedTuple):
    """Where the mail of one event went, and when (seconds after the event)."""

    mails: int
    first_s: float
    last_s: float
    each_s: tuple[float, ...]  # when each tenth of the mail had arrived: 10 %, 20 %, … 100 %
    delivered: int
    wrong: int  # mails to an address outside the area
    missing: int
    duplicates: int  # copies beyond the first to an address of the area


def verdict(mails: list[Mail], expected: set[str], event_at: float) -> Verdict:
    """Compare what arrived with the addresses that should have received one mail each."""
    got = Counter(m.to for m in mails)
    times = sorted(m.at for m in mails)
    return Verdict(
        mails=len(mails),
        first_s=times[0] - event_at if times else float("nan"),
        last_s=times[-1] - event_at if times else float("nan"),
        each_s=tuple(times[len(times) * k // 10 - 1] - event_at for k in range(1, 11))
        if times
        else (),
        delivered=len(expected & set(got)),
        wrong=sum(n for to, n in got.items() if to not in expected),
        missing=len(expected - set(got)),
        duplicates=sum(n - 1 for to, n in got.items() if to in expected and n > 1),
    )
