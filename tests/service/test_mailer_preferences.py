"""The preference page against the running mailer: a family turned off is declined by the next
claim and counted in the report, the others still come; a form the page does not offer is
refused by field; RFC 8058 one-click and the page's "stop all" still stop every mail."""

from __future__ import annotations

import aiohttp
import asyncpg

from services.mailer.app import build
from shared.clock import Clock
from shared.config import Settings
from tests.service.test_mailer_api import _unsubscribe_link
from tests.support.fixtures import running
from tests.support.mailer import (
    advisory,
    customers,
    deliveries,
    nats,
    reach_report,
    states,
    wait_states,
)
from tests.support.shop import expect
from tests.support.smtp import SmtpSink


async def suppressed_by(database_url: str) -> dict[str, str | None]:
    """Each advisory's suppressed delivery, and why."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT advisory_id, suppressed_by FROM mailer.deliveries WHERE state = 'suppressed'"
        )
    finally:
        await conn.close()
    return {r["advisory_id"]: r["suppressed_by"] for r in rows}


def ticked(page: str, family: str) -> bool:
    return f'name="{family}" value="on" checked' in page


async def html(reply: aiohttp.ClientResponse) -> str:
    """The page of a 200 reply."""
    text = await reply.text()
    assert reply.status == 200 and reply.content_type == "text/html", text
    return text


async def test_a_family_turned_off_is_declined_and_counted_while_the_others_still_come(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink, http: aiohttp.ClientSession
) -> None:
    async with (
        running(build, settings, clock, settings.mailer_port) as url,
        nats(settings.nats_url) as nc,
    ):
        await customers(nc, ("c-1", "hanako@example.jp", "ja-JP", "Asia/Tokyo"))
        await advisory(nc, "adv-1")
        await deliveries(nc, "adv-1", ["c-1"])
        await wait_states(settings.database_url, {"sent": 1})
        link = _unsubscribe_link(url, smtp_sink.messages[0])

        page = await html(await http.get(link))
        assert '<html lang="ja">' in page and "ha***@example.jp" in page
        assert all(ticked(page, f) for f in ("short_term", "long_term", "combination", "disaster"))

        # A form the page does not offer: refused by field, nothing kept.
        for data, field in (
            ({"action": "delete"}, "action"),
            ({"action": "save", "short_term": "yes"}, "short_term"),
            ({"action": "save", "recall": "on"}, "recall"),
        ):
            body = await expect(await http.post(link, data=data), 400)
            assert body["details"][0]["field"] == field
        again = await html(await http.get(link))
        assert ticked(again, "short_term")

        keep = {"action": "save", "long_term": "on", "combination": "on", "disaster": "on"}
        saved = await html(await http.post(link, data=keep))
        assert "保存しました" in saved and not ticked(saved, "short_term")
        assert ticked(saved, "long_term")
        shown = await html(await http.get(link))
        assert not ticked(shown, "short_term") and ticked(shown, "disaster")

        # The next short-term advice is declined; long-term advice still comes.
        await advisory(nc, "adv-2")
        await advisory(nc, "adv-3", kind="long_term")
        await deliveries(nc, "adv-2", ["c-1"])
        await deliveries(nc, "adv-3", ["c-1"], kind="long_term")
        await wait_states(settings.database_url, {"sent": 2, "suppressed": 1})
        assert await states(settings.database_url, "adv-2") == {"suppressed": 1}
        assert await suppressed_by(settings.database_url) == {"adv-2": "preference"}
        report = await reach_report(nc, "adv-2")
        assert (report.counts, report.declined) == ({"suppressed": 1}, 1)
        assert (await reach_report(nc, "adv-3")).declined == 0
        assert len(smtp_sink.messages) == 2

        # Turned on again: the next one comes.
        every = keep | {"short_term": "on"}
        await html(await http.post(link, data=every))
        await advisory(nc, "adv-4")
        await deliveries(nc, "adv-4", ["c-1"])
        await wait_states(settings.database_url, {"sent": 3, "suppressed": 1})

        # RFC 8058 one-click still stops everything, recalls too.
        done = await html(await http.post(link, data={"List-Unsubscribe": "One-Click"}))
        assert "停止しました" in done and "<form" not in done
        await advisory(nc, "adv-5", kind="recall")
        await deliveries(nc, "adv-5", ["c-1"], kind="recall")
        await wait_states(settings.database_url, {"sent": 3, "suppressed": 2})
        assert (await reach_report(nc, "adv-5")).declined == 0
    assert len(smtp_sink.messages) == 3


async def test_the_pages_stop_all_button_stops_every_mail(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink, http: aiohttp.ClientSession
) -> None:
    async with (
        running(build, settings, clock, settings.mailer_port) as url,
        nats(settings.nats_url) as nc,
    ):
        await customers(nc, ("c-1", "mary@example.com", "fr-FR", "Europe/Paris"))
        await advisory(nc, "adv-1")
        await deliveries(nc, "adv-1", ["c-1"])
        await wait_states(settings.database_url, {"sent": 1})
        link = _unsubscribe_link(url, smtp_sink.messages[0])
        page = await html(await http.get(link))
        assert '<html lang="fr">' in page and "Arrêter tous les messages" in page
        done = await html(await http.post(link, data={"action": "stop"}))
        assert "C&#39;est fait" in done
        await advisory(nc, "adv-2", kind="disaster")
        await deliveries(nc, "adv-2", ["c-1"], kind="disaster", event_id="ev-1")
        await wait_states(settings.database_url, {"sent": 1, "suppressed": 1})
    assert len(smtp_sink.messages) == 1
