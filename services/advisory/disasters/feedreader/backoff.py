"""How long a feed waits before its next poll: its interval, doubled per error in a row up
to a cap."""

from __future__ import annotations


def delay(errors: int, interval_s: float, cap_s: float) -> float:
    """The wait after `errors` failed polls in a row (0: the feed answered)."""
    if errors <= 0:
        return interval_s
    # The exponent is bounded so that a feed down for days does not overflow the float.
    return min(max(cap_s, interval_s), interval_s * 2.0 ** min(errors, 32))
