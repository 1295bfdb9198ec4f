"""Which SMTP answers tell about which path, and what the paths' breakers let through.

There is one relay: every answer tells about it, but a refusal at RCPT or DATA pauses it only
when the refusals in a row came for two domains or more. An answer at RCPT or DATA also tells
about the recipient's domain (`domain:NAME`), unless the relay is paused: then the relay
explains it. A path that pauses or works again is logged, and shown in
`anshin_mailer_path_paused{path, code}`, on which an alert fires (deploy/prometheus/alerts.yaml).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from services.mailer.breaker import Breakers
from services.mailer.metrics import PATH_PAUSED, PATH_PAUSES
from services.mailer.policy import urgent
from services.mailer.replies import Outcome, Result
from shared.messages import Priority

log = logging.getLogger(__name__)

RELAY = "relay"


def domain_path(address: str) -> str:
    """The path of a recipient's domain."""
    return "domain:" + address.rpartition("@")[2].lower()


class Paths:
    """The breakers of the relay and of the recipient domains of one sender."""

    def __init__(self, threshold: int, pause: timedelta) -> None:
        self.breakers = Breakers(threshold, pause)

    def heard(self, address: str, result: Result, now: datetime) -> None:
        """One mail's answer: count it on the paths it tells about."""
        if not result.spoke:
            return  # never reached the relay: an address not ASCII, a mail not composed
        code = "" if result.outcome is Outcome.SENT else result.code
        late = result.stage in ("rcpt", "data")
        domain = domain_path(address)
        self._count(RELAY, code, now, result.stage, domain if late else "")
        if late and not self.breakers.paused(RELAY):
            self._count(domain, code, now, result.stage, "")

    def _count(self, path: str, code: str, now: datetime, stage: str, source: str) -> None:
        before = self.breakers.paused(path)
        self.breakers.heard(path, code, now, source, spread=2 if path == RELAY else 1)
        after = self.breakers.paused(path)
        if after == before:
            return
        if before:
            PATH_PAUSED.labels(path, before).set(0)
        if not after:
            log.info("mail path works again", extra={"path": path, "code": before})
            return
        PATH_PAUSED.labels(path, after).set(1)
        PATH_PAUSES.labels(path, after).inc()
        log.warning(
            "mail path paused",
            extra={"path": path, "code": after, "stage": stage,
                   "failures": self.breakers.threshold},
        )  # fmt: skip
        if path == RELAY:  # the relay's refusal, not each domain's
            explained = [p for p, c in self.breakers.pauses().items() if c == after and p != RELAY]
            self.breakers.forget(after, keep=RELAY)
            for other in explained:
                PATH_PAUSED.labels(other, after).set(0)

    def relay_claim(self, now: datetime, limit: int) -> tuple[int, int] | None:
        """What the next claim may take: (limit, lowest priority); None: nothing now.

        While the relay is paused one mail at a time probes it: urgent mail every few
        seconds, routine mail once the pause is over.
        """
        if not self.breakers.paused(RELAY):
            return limit, 0
        over = self.breakers.pause_over(RELAY, now)
        if self.breakers.gate(RELAY, now, urgent=True) is not None:
            return None
        return 1, 0 if over else int(Priority.RECALL)

    def gate(self, address: str, priority: int, now: datetime) -> datetime | None:
        """For the claim: None if a mail to this address may go now, else when to try again."""
        return self.breakers.gate(domain_path(address), now, urgent(priority))

    def held(self, address: str, priority: int, claimed: datetime) -> datetime | None:
        """For a mail claimed at `claimed`: when it may go, if its relay or domain paused since."""
        waits = [
            self.breakers.paused_after(path, claimed, urgent(priority))
            for path in (RELAY, domain_path(address))
        ]
        return max((w for w in waits if w is not None), default=None)
