"""The resident memory of this process, and its peak since a chosen moment (Linux /proc)."""

from __future__ import annotations

import re
from pathlib import Path

_STATUS = Path("/proc/self/status")


def _kib(field: str) -> int:
    found = re.search(rf"^{field}:\s+(\d+) kB", _STATUS.read_text(), re.MULTILINE)
    return int(found.group(1)) if found else 0


def reset_peak() -> int:
    """Start the peak over from now (writing 5 to clear_refs); return the resident KiB now."""
    Path("/proc/self/clear_refs").write_text("5")
    return _kib("VmRSS")


def peak() -> int:
    """The largest resident size, in KiB, since the last reset (or the process's start)."""
    return _kib("VmHWM")
