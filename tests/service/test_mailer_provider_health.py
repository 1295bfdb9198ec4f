"""Provider health against the running mailer: complaints taken through the SMTP intake pause
routine mail to that mailbox provider (gmail.com and googlemail.com together) while a recall
still goes and other providers are untouched; the table answers on `mailer.providers`, in
Prometheus and on the console."""

from __future__ import annotations

import contextlib
from pathlib import Path

import aiohttp
import asyncpg
import msgspec
from prometheus_client import REGISTRY

from deploy.servers import free_port
from services.mailer.app import build
from shared import messages as m
from shared.bus import Subjects
from shared.clock import Clock
from shared.config import Settings
from tests.service.test_console import basic, page
from tests.service.test_mailer_bounces_smtp import paths, returned
from tests.support.fixtures import run_services, running
from tests.support.mailer import advisory, customers, deliveries, eventually, nats, wait_states
from tests.support.smtp import SmtpSink

ARF = Path(__file__).parents[1] / "fixtures" / "bounces" / "smtp" / "sisimai-arf-01.eml"

PEOPLE = [
    ("c-g1", "hanako@gmail.com", "en", "UTC"),
    ("c-g2", "taro@googlemail.com", "en", "UTC"),
    ("c-g3", "jiro@gmail.com", "en", "UTC"),
    ("c-g4", "yuki@gmail.com", "en", "UTC"),
    ("c-y", "mary@yahoo.com", "en", "UTC"),
]


async def rows(database_url: str) -> dict[tuple[str, str], tuple[str, str | None]]:
    conn = await asyncpg.connect(database_url)
    try:
        found = await conn.fetch(
            "SELECT advisory_id, customer_id, state, hold FROM mailer.deliveries"
        )
    finally:
        await conn.close()
    return {(r["advisory_id"], r["customer_id"]): (r["state"], r["hold"]) for r in found}


def paused(provider: str, reason: str) -> float | None:
    labels = {"provider": provider, "reason": reason}
    value: float | None = REGISTRY.get_sample_value("anshin_mailer_provider_paused", labels)
    return value


async def test_complaints_pause_routine_mail_to_their_provider_while_a_recall_still_goes(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink
) -> None:
    settings = msgspec.structs.replace(
        settings, bounce_smtp_port=free_port(), provider_min_sent=4, provider_check_s=0
    )
    async with running(build, settings, clock, settings.mailer_port), nats(settings.nats_url) as nc:
        await customers(nc, *PEOPLE)
        await advisory(nc, "adv-1")
        await deliveries(nc, "adv-1", [c for c, *_ in PEOPLE])
        await wait_states(settings.database_url, {"sent": 5})
        # Four mails to Google's domains, then one complaint: 25 %, far past 0.1 %.
        verp = paths(smtp_sink)["hanako@gmail.com"][0]
        assert (await returned(settings.bounce_smtp_port, verp, ARF.read_bytes()))[0] == 250

        reply = await nc.request(Subjects.MAILER_PROVIDERS, m.encode(m.ProviderQuery()), 5)
        table = msgspec.json.decode(reply.data, type=m.ProviderTable)
        by_name = {f.provider: f for f in table.items}
        assert (by_name["gmail"].sent, by_name["gmail"].complaints) == (4, 1)
        assert by_name["gmail"].paused == "complaints"
        assert (by_name["yahoo"].sent, by_name["yahoo"].paused) == (1, "")
        assert by_name.keys() >= {"microsoft", "docomo", "au", "softbank"}

        await advisory(nc, "adv-2")
        await advisory(nc, "adv-recall", kind="recall")
        await deliveries(nc, "adv-2", ["c-g2", "c-y"])
        await deliveries(nc, "adv-recall", ["c-g3"], kind="recall")

        async def settled() -> bool:
            found = await rows(settings.database_url)
            return (
                found.get(("adv-2", "c-y"), ("",))[0] == "sent"
                and found.get(("adv-recall", "c-g3"), ("",))[0] == "sent"
                and found.get(("adv-2", "c-g2")) == ("deferred", "paused")
            )

        await eventually(settled)
        assert paused("gmail", "complaints") == 1.0
        assert not paused("yahoo", "complaints")
        sent_to = {r for _, rcpts in smtp_sink.envelopes for r in rcpts}
        assert "taro@googlemail.com" in sent_to  # adv-1 only
        assert sum(r == "taro@googlemail.com" for _, rs in smtp_sink.envelopes for r in rs) == 1


async def test_the_console_shows_each_providers_figures_from_the_mailer(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink, http: aiohttp.ClientSession
) -> None:
    settings = msgspec.structs.replace(
        settings, bounce_smtp_port=free_port(), provider_min_sent=2, provider_check_s=0
    )
    async with contextlib.AsyncExitStack() as stack:
        urls = await run_services(stack, settings, clock, "advisory", "mailer")
        nc = await stack.enter_async_context(nats(settings.nats_url))
        await customers(nc, *PEOPLE[:2], ("c-d", "keiko@docomo.ne.jp", "ja", "Asia/Tokyo"))
        await advisory(nc, "adv-1")
        await deliveries(nc, "adv-1", ["c-g1", "c-g2", "c-d"])
        await wait_states(settings.database_url, {"sent": 3})
        verp = paths(smtp_sink)["taro@googlemail.com"][0]
        assert (await returned(settings.bounce_smtp_port, verp, ARF.read_bytes()))[0] == 250

        html = await page(http, f"{urls['advisory']}/console/providers", basic(settings))
        assert 'href="/console/providers"' in html and "Over the last 24.0 hours" in html
        gmail = (
            '<tr><td>gmail</td><td class="n">2</td><td class="n">0</td><td class="n">1</td>'
            '<td class="n">50.00 %</td><td class="n">0</td><td class="n">0.00 %</td>'
            '<td class="state">paused: complaints</td></tr>'
        )
        assert gmail in html
        assert '<tr><td>docomo</td><td class="n">1</td>' in html
        assert '<tr><td>au</td><td class="n">0</td>' in html and "paused: policy" not in html
        # Operators only.
        denied = await http.get(f"{urls['advisory']}/console/providers")
        assert denied.status == 401
