"""Suppressions on the console: by reason and masked, one looked up and lifted, over NATS from
the real mailer, behind a CSRF token, the address never in a URL."""

from __future__ import annotations

import contextlib
import re
from urllib.parse import unquote_plus

import aiohttp

from services.mailer import store, suppressions
from shared import db
from shared.clock import Clock
from shared.config import Settings
from tests.service.test_console import basic, page, section
from tests.support.fixtures import run_services
from tests.support.mailer import (
    advisory,
    customers,
    deliveries,
    eventually,
    nats,
    wait_states,
)
from tests.support.smtp import SmtpSink


async def _unsubscribe(settings: Settings, customer_id: str, email: str) -> None:
    """As the one-click link does, once the mailer holds the contact."""
    pool = await db.create_pool(settings.database_url, "mailer", min_size=1)
    try:

        async def known() -> bool:
            async with pool.acquire() as conn:
                return await store.contact(conn, customer_id) is not None

        await eventually(known)
        assert await suppressions.unsubscribe(pool, customer_id, email)
    finally:
        await pool.close()


async def test_a_bounce_is_looked_up_and_lifted_on_the_console(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink, http: aiohttp.ClientSession
) -> None:
    gone = True
    smtp_sink.verdict = lambda rcpt: (
        "550 5.1.1 <gone@example.jp>: User unknown" if gone and rcpt.startswith("gone@") else None
    )
    people = [(f"c-{n}", f"{n}@example.jp", "en", "UTC") for n in ("ok", "gone", "left")]
    async with contextlib.AsyncExitStack() as stack:
        urls = await run_services(stack, settings, clock, "advisory", "mailer")
        base, ops = urls["advisory"], basic(settings)
        nc = await stack.enter_async_context(nats(settings.nats_url))
        await customers(nc, *people)
        await advisory(nc, "adv-1", kind="recall")
        await _unsubscribe(settings, "c-left", "left@example.jp")
        await deliveries(nc, "adv-1", ["c-ok", "c-gone", "c-left"], kind="recall")
        await wait_states(settings.database_url, {"sent": 1, "failed": 1, "suppressed": 1})

        html = await page(http, f"{base}/console/suppressions", ops)
        assert "Suppressions" in html and 'href="/console/suppressions"' in html
        reasons = section(html, "by-reason")
        assert "By reason (2)" in reasons
        assert '<td>bounce</td><td class="n">1</td>' in reasons
        assert '<td>unsubscribe</td><td class="n">1</td>' in reasons
        latest = section(html, "latest")
        assert "<code>g***@example.jp</code>" in latest and "<code>l***@example.jp</code>" in latest
        assert "550 5.1.1" in latest
        assert "gone@example.jp" not in html and "left@example.jp" not in html
        token = re.search(r'name="csrf" value="([0-9a-f]+)"', html).group(1)  # type: ignore[union-attr]

        # Without the page's token, or from another site: refused.
        find, lift = f"{base}/console/suppressions/find", f"{base}/console/suppressions/lift"
        for data, extra in (
            ({"address": "gone@example.jp"}, {}),
            ({"address": "gone@example.jp", "csrf": token}, {"Origin": "http://evil.example"}),
        ):
            refused = await http.post(find, data=data, headers=ops | extra, allow_redirects=False)
            assert refused.status == 403
        anyone = await http.post(find, data={"csrf": token, "address": "gone@example.jp"})
        assert anyone.status == 401

        # Looked up (in a POST: never in a URL), the address shows whole, with its lift.
        found = await http.post(
            find, data={"csrf": token, "address": " Gone@Example.JP "}, headers=ops
        )
        text = await found.text()
        assert found.status == 200, text
        facts = section(text, "look-up")
        assert "<dd>gone@example.jp</dd>" in facts and '<dd class="state">bounce</dd>' in facts
        assert "550 5.1.1" in facts and 'action="/console/suppressions/lift"' in facts
        unsubscribed = await http.post(
            find, data={"csrf": token, "address": "left@example.jp"}, headers=ops
        )
        facts = section(await unsubscribed.text(), "look-up")
        assert "unsubscribe" in facts and "/console/suppressions/lift" not in facts
        free = await http.post(find, data={"csrf": token, "address": "ok@example.jp"}, headers=ops)
        assert "This address is not suppressed." in await free.text()
        junk = await http.post(find, data={"csrf": token, "address": "no address"}, headers=ops)
        assert "not an e-mail address" in await junk.text()
        long = await http.post(
            find, data={"csrf": token, "address": "a" * 400}, headers=ops, allow_redirects=False
        )
        assert long.status == 303 and "at most 320" in unquote_plus(long.headers["Location"])

        # Lifted: the mail it stopped goes out; the answer names the reason, not the address.
        gone = False
        done = await http.post(
            lift,
            data={"csrf": token, "address": "gone@example.jp", "resend": "yes"},
            headers=ops,
            allow_redirects=False,
        )
        assert done.status == 303
        assert done.headers["Location"] == "/console/suppressions?lifted=bounce&requeued=1"
        await wait_states(settings.database_url, {"sent": 2, "suppressed": 1})
        assert sorted(m["To"].addresses[0].username for m in smtp_sink.messages) == ["gone", "ok"]
        after = await page(http, f"{base}{done.headers['Location']}", ops)
        assert "suppressed for bounce" in after and "1 deliveries queued again" in after
        assert "By reason (1)" in after

        again = await http.post(
            lift, data={"csrf": token, "address": "gone@example.jp"}, headers=ops,
            allow_redirects=False,
        )  # fmt: skip
        assert "this address is not suppressed" in unquote_plus(again.headers["Location"])
        # An unsubscribe is the customer's word: not lifted from the console.
        kept = await http.post(
            lift, data={"csrf": token, "address": "left@example.jp"}, headers=ops,
            allow_redirects=False,
        )  # fmt: skip
        assert "the customer asked for this" in unquote_plus(kept.headers["Location"])
        assert "@" not in unquote_plus(kept.headers["Location"])
        await wait_states(settings.database_url, {"sent": 2, "suppressed": 1})
