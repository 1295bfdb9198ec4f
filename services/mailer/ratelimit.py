"""Send rates shared by every mailer replica: token buckets in PostgreSQL, overall and per domain.

A bucket holds at most one second of its rate and refills continuously. Buckets are read
with the database's own clock (every replica agrees on it) and locked in key order inside
the claim's transaction, so two replicas can neither spend the same token nor deadlock
(`store/rates.py`). Here, the tokens a claim got, spent mail by mail.
"""

from __future__ import annotations

from datetime import datetime

OVERALL = ""  # the key of the overall bucket; every other key is a recipient domain


class Rates:
    """Tokens granted for one claim; `allow` spends them mail by mail, in priority order."""

    def __init__(self, available: dict[str, float], at: datetime | None) -> None:
        self.left = available
        self.at = at

    def allow(self, domain: str) -> bool:
        """Spend one overall token and one of the domain, if both buckets have one."""
        overall, per_domain = self.left.get(OVERALL), self.left.get(domain)
        if (overall is not None and overall < 1) or (per_domain is not None and per_domain < 1):
            return False
        if overall is not None:
            self.left[OVERALL] = overall - 1
        if per_domain is not None:
            self.left[domain] = per_domain - 1
        return True

    def exhausted(self) -> bool:
        """True when the overall bucket has no whole token left."""
        return self.left.get(OVERALL, 1.0) < 1
