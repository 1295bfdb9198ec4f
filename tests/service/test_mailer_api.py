"""The mailer's HTTP API: one-click unsubscribe that cannot be forged, and the preview."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from email.message import EmailMessage

import aiohttp
import asyncpg
import msgspec
from nats.aio.client import Client

from services.mailer import tokens
from services.mailer.app import build
from shared import messages as m
from shared.clock import Clock
from shared.config import Settings
from tests.support.fixtures import running
from tests.support.mailer import (
    advisory,
    customers,
    deliveries,
    eventually,
    nats,
    publish_contact,
    states,
    wait_states,
)
from tests.support.shop import expect
from tests.support.smtp import SmtpSink


async def _advise(nc: Client, advisory_id: str, customer_id: str) -> None:
    """Publish an advisory and request it for one customer."""
    await advisory(nc, advisory_id)
    await deliveries(nc, advisory_id, [customer_id])


async def _holds(database_url: str, customer_id: str, address: str) -> bool:
    """Whether the mailer holds this address of the customer yet."""
    conn = await asyncpg.connect(database_url)
    try:
        email = await conn.fetchval(
            "SELECT email FROM mailer.contacts WHERE customer_id = $1", customer_id
        )
    finally:
        await conn.close()
    return bool(email == address)


def _unsubscribe_link(url: str, mail: EmailMessage) -> str:
    """A mail's unsubscribe link on this test's mailer (the mail names the public URL)."""
    header: str = mail["List-Unsubscribe"]
    return f"{url}/u/" + header.strip("<>").partition("/u/")[2]


async def test_one_click_unsubscribe_works_and_cannot_be_forged(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink, http: aiohttp.ClientSession
) -> None:
    async with (
        running(build, settings, clock, settings.mailer_port) as url,
        nats(settings.nats_url) as nc,
    ):
        await customers(
            nc,
            ("c-a", "alice@example.jp", "ja-JP", "Asia/Tokyo"),
            ("c-b", "bob@example.jp", "en", "UTC"),
        )
        await advisory(nc, "adv-1")
        await deliveries(nc, "adv-1", ["c-a", "c-b"])
        mails = await smtp_sink.wait_for(2)
        link = {str(m["To"]): _unsubscribe_link(url, m) for m in mails}
        alice = next(v for k, v in link.items() if "alice" in k)
        bob_token = next(v for k, v in link.items() if "bob" in k).partition("/u/")[2]

        # Alice tries to unsubscribe Bob: his id with her signature, or a guessed secret.
        her_signature = alice.rpartition(".")[2]
        forged = [
            bob_token.partition(".")[0] + "." + her_signature,
            tokens.make("dev-secret-change-me", "c-b", "bob@example.jp"),
            "not-a-token",
        ]
        for token in forged:
            body = await expect(await http.post(f"{url}/u/{token}"), 404)
            assert body["error"] == "unknown or invalid unsubscribe link"
            await expect(await http.get(f"{url}/u/{token}"), 404)

        # GET shows a page and changes nothing (mail scanners follow links).
        page = await http.get(alice)
        assert page.status == 200
        assert "配信を停止" in await page.text() and "al***@example.jp" in await page.text()
        # RFC 8058: a POST with List-Unsubscribe=One-Click unsubscribes at once.
        done = await http.post(alice, data={"List-Unsubscribe": "One-Click"})
        assert done.status == 200 and "停止しました" in await done.text()

        await advisory(nc, "adv-2")
        await deliveries(nc, "adv-2", ["c-a", "c-b"])
        await smtp_sink.wait_for(3)
        await wait_states(settings.database_url, {"sent": 1, "suppressed": 1}, "adv-2")
        await asyncio.sleep(1.0)
        assert [str(m["To"]) for m in smtp_sink.messages[2:]] == ["bob@example.jp"]
        assert "alice@example.jp" not in smtp_sink.rcpt_attempts[2:]
        assert await states(settings.database_url, "adv-1") == {"sent": 2}


async def test_a_link_mailed_to_an_earlier_address_never_unsubscribes_the_new_one(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink, http: aiohttp.ClientSession
) -> None:
    async with (
        running(build, settings, clock, settings.mailer_port) as url,
        nats(settings.nats_url) as nc,
    ):
        await customers(nc, ("c-m", "old@example.jp", "en", "UTC"))
        await _advise(nc, "adv-1", "c-m")
        (first,) = await smtp_sink.wait_for(1)
        old_link = _unsubscribe_link(url, first)

        # The customer moves to a new address; the old mailbox, and its link, stay behind.
        moved = m.CustomerUpserted(customer_id="c-m", email="new@example.jp")
        await publish_contact(nc, moved)
        await eventually(lambda: _holds(settings.database_url, "c-m", "new@example.jp"))
        await _advise(nc, "adv-2", "c-m")
        second = (await smtp_sink.wait_for(2))[1]
        assert second["To"].addresses[0].addr_spec == "new@example.jp"

        page = await http.get(old_link)
        assert page.status == 200
        assert "no longer uses" in await page.text()
        assert "ne***@example.jp" not in await page.text()  # not even masked
        done = await http.post(old_link, data={"List-Unsubscribe": "One-Click"})
        assert done.status == 200 and "nothing was changed" in await done.text()
        await _advise(nc, "adv-3", "c-m")
        third = (await smtp_sink.wait_for(3))[2]
        assert third["To"].addresses[0].addr_spec == "new@example.jp"

        # The new mail's own link unsubscribes the new address.
        new_link = _unsubscribe_link(url, third)
        done = await http.post(new_link, data={"List-Unsubscribe": "One-Click"})
        assert done.status == 200 and "ne***@example.jp" in await done.text()
        await _advise(nc, "adv-4", "c-m")
        await wait_states(settings.database_url, {"suppressed": 1}, "adv-4")
        assert len(smtp_sink.messages) == 3


LEGACY = "Yy00Mg.KFEg8fTxXPutLdsC2_sI5NR3"  # the earlier code's link for c-42, "secret"


async def _from_before_two_part_links_retired(database_url: str, customer_id: str) -> None:
    """Mark a contact as migration 004 found it: its address held since before then."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "UPDATE mailer.contacts SET email_since = NULL WHERE customer_id = $1", customer_id
        )
    finally:
        await conn.close()


async def test_a_two_part_link_mailed_before_addresses_were_named_still_unsubscribes(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink, http: aiohttp.ClientSession
) -> None:
    settings = msgspec.structs.replace(settings, secret_key="secret")
    async with (
        running(build, settings, clock, settings.mailer_port) as url,
        nats(settings.nats_url) as nc,
    ):
        await customers(nc, ("c-42", "hanako@example.jp", "ja-JP", "Asia/Tokyo"))
        await _advise(nc, "adv-1", "c-42")
        await smtp_sink.wait_for(1)
        await _from_before_two_part_links_retired(settings.database_url, "c-42")
        done = await http.post(f"{url}/u/{LEGACY}", data={"List-Unsubscribe": "One-Click"})
        assert done.status == 200 and "停止しました" in await done.text()
        await _advise(nc, "adv-2", "c-42")
        await wait_states(settings.database_url, {"suppressed": 1}, "adv-2")


async def test_a_two_part_link_never_unsubscribes_an_address_taken_since(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink, http: aiohttp.ClientSession
) -> None:
    settings = msgspec.structs.replace(settings, secret_key="secret")
    async with (
        running(build, settings, clock, settings.mailer_port) as url,
        nats(settings.nats_url) as nc,
    ):
        await customers(nc, ("c-42", "hanako@example.jp", "ja-JP", "Asia/Tokyo"))
        await eventually(lambda: _holds(settings.database_url, "c-42", "hanako@example.jp"))
        await _from_before_two_part_links_retired(settings.database_url, "c-42")
        # She moves; whoever reads her old mailbox still has a two-part link of hers.
        moved = m.CustomerUpserted(customer_id="c-42", email="new@example.jp", locale="ja-JP")
        await publish_contact(nc, moved)
        await eventually(lambda: _holds(settings.database_url, "c-42", "new@example.jp"))
        page = await http.get(f"{url}/u/{LEGACY}")
        assert page.status == 200 and "ne***@example.jp" not in await page.text()
        done = await http.post(f"{url}/u/{LEGACY}", data={"List-Unsubscribe": "One-Click"})
        assert done.status == 200 and "変更していません" in await done.text()
        await _advise(nc, "adv-1", "c-42")
        [mail] = await smtp_sink.wait_for(1)
        assert mail["To"].addresses[0].addr_spec == "new@example.jp"


async def test_a_two_part_link_expires_sixty_days_after_such_links_were_retired(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink, http: aiohttp.ClientSession
) -> None:
    settings = msgspec.structs.replace(settings, secret_key="secret")
    async with (
        running(build, settings, clock, settings.mailer_port) as url,
        nats(settings.nats_url) as nc,
    ):
        await customers(nc, ("c-42", "hanako@example.jp", "en-GB", "Europe/London"))
        await eventually(lambda: _holds(settings.database_url, "c-42", "hanako@example.jp"))
        await _from_before_two_part_links_retired(settings.database_url, "c-42")
        clock.advance(timedelta(days=61))
        page = await http.get(f"{url}/u/{LEGACY}")
        assert page.status == 200 and "too old" in await page.text()
        assert "<form" not in await page.text()
        done = await http.post(f"{url}/u/{LEGACY}", data={"List-Unsubscribe": "One-Click"})
        assert done.status == 200 and "nothing was changed" in await done.text()
        await _advise(nc, "adv-1", "c-42")
        [mail] = await smtp_sink.wait_for(1)
        assert mail["To"].addresses[0].addr_spec == "hanako@example.jp"


async def test_operators_preview_an_advisory_in_each_language(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    async with (
        running(build, settings, clock, settings.mailer_port) as url,
        nats(settings.nats_url) as nc,
    ):
        await advisory(nc, "adv-p", "recall")
        operator = {"Authorization": f"Bearer {settings.operator_key}"}
        await expect(await http.get(f"{url}/v1/preview/adv-p"), 401)
        wrong = {"Authorization": "Bearer nope"}
        await expect(await http.get(f"{url}/v1/preview/adv-p", headers=wrong), 401)
        await expect(await http.get(f"{url}/v1/preview/nope", headers=operator), 404)
        body = await expect(
            await http.get(f"{url}/v1/preview/adv-p?lang=de", headers=operator), 400
        )
        assert body["details"][0]["field"] == "lang"
        for _ in range(50):
            reply = await http.get(f"{url}/v1/preview/adv-p?lang=fr", headers=operator)
            if reply.status == 200:
                break
            await asyncio.sleep(0.1)
        preview = await expect(reply, 200)
        assert preview["subject"] == "Conseil adv-p"
        assert "Consumer Safety Institute" in preview["text"]
        assert "fait l'objet d'un rappel" in preview["text"]  # why: a recall
        assert f"{settings.public_url}/safety/adv-p" in preview["html"]
        assert preview["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        html = await http.get(f"{url}/v1/preview/adv-p?lang=ja&format=html", headers=operator)
        assert html.content_type == "text/html" and "お知らせ adv-p" in await html.text()
