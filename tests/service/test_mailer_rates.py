"""Send rates hold across two mailer replicas: overall per second and per recipient domain."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import msgspec

from deploy.servers import free_port
from services.mailer.app import build
from shared.clock import Clock
from shared.config import Settings
from tests.support.fixtures import running
from tests.support.mailer import advisory, customers, deliveries, nats, wait_states
from tests.support.smtp import Arrival, SmtpSink


def busiest_second(arrivals: Sequence[Arrival]) -> int:
    """The most arrivals within any one-second window."""
    times = sorted(a.at for a in arrivals)
    return max(sum(1 for t in times[i:] if t - start < 1.0) for i, start in enumerate(times))


async def test_two_replicas_share_the_overall_and_the_per_domain_rate(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink
) -> None:
    overall, per_domain = 8.0, 3.0
    settings = msgspec.structs.replace(
        settings,
        send_rate_per_second=overall,
        send_rate_per_domain=per_domain,
        smtp_connections=1,
        routine_cap=0,
    )
    slow = [(f"s-{n}", f"s{n}@big.example", "en", "UTC") for n in range(12)]
    fast = [(f"f-{n}", f"f@d{n}.example", "en", "UTC") for n in range(12)]
    async with contextlib.AsyncExitStack() as stack:
        for port in (settings.mailer_port, free_port()):
            await stack.enter_async_context(running(build, settings, clock, port))
        nc = await stack.enter_async_context(nats(settings.nats_url))
        await customers(nc, *slow, *fast)
        await advisory(nc, "adv-rate", "disaster")
        await deliveries(nc, "adv-rate", [c for c, *_ in slow + fast], "disaster")
        await smtp_sink.wait_for(24)
        await wait_states(settings.database_url, {"sent": 24})

    arrivals = smtp_sink.arrivals
    to_big = [a for a in arrivals if str(a.message["To"]).endswith("@big.example")]
    # A bucket holds one second of its rate: a window of one second sees at most two.
    assert busiest_second(arrivals) <= 2 * overall
    assert busiest_second(to_big) <= 2 * per_domain
    assert arrivals[-1].at - arrivals[0].at >= (24 - overall) / overall * 0.9
    assert to_big[-1].at - to_big[0].at >= (12 - per_domain) / per_domain * 0.9
    # The busy domain did not hold up the others, and both replicas sent.
    others = [a for a in arrivals if a not in to_big]
    assert others[-1].at < to_big[-1].at
    assert len({a.peer for a in arrivals}) == 2
