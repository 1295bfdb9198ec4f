"""Erasure of a customer across the four services, in-process against real servers."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import aiohttp
import msgspec
from prometheus_client.parser import text_string_to_metric_families

from shared.bus import Subjects
from shared.clock import Clock
from shared.config import Settings
from tests.support import mailer as mailer_bus
from tests.support.advisory import eventually, operator, stream_messages
from tests.support.fixtures import run_services
from tests.support.keys import channel_header
from tests.support.privacy import erase, erased, erasure_status, rows, shop_with_mail
from tests.support.shop import expect, order
from tests.support.smtp import SmtpSink

HANAKO = "hanako@example.jp"
PEOPLE = [
    ("A-1", "c-42", HANAKO),
    # A second account of the same address: the shop links it by e-mail.
    ("A-2", "c-43", HANAKO),
    ("A-3", "c-7", "jeanne@example.fr"),
]

# Every place a customer id or an address could be left, per service.
HELD = {
    "ingest orders": "SELECT count(*) FROM ingest.orders WHERE customer_id = ANY($1)",
    "ingest customers": "SELECT count(*) FROM ingest.customers WHERE customer_id = ANY($1)",
    "matcher purchases": "SELECT count(*) FROM matcher.purchases WHERE customer_id = ANY($1)",
    "matcher matches": "SELECT count(*) FROM matcher.matches WHERE customer_id = ANY($1)",
    "matcher schedule": "SELECT count(*) FROM matcher.schedule WHERE customer_id = ANY($1)",
    "mailer contacts": "SELECT count(*) FROM mailer.contacts WHERE customer_id = ANY($1)",
    "mailer ledger": "SELECT count(*) FROM mailer.deliveries WHERE customer_id = ANY($1)",
}


async def _held(settings: Settings, ids: list[str]) -> dict[str, int]:
    return {k: (await rows(settings.database_url, sql, ids))[0][0] for k, sql in HELD.items()}


async def test_an_erasure_leaves_only_pseudonyms_and_a_hashed_suppression(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        urls = await run_services(stack, settings, clock, "ingest", "advisory", "matcher", "mailer")
        ingest, op = urls["ingest"], operator(settings)
        advisory_id, web = await shop_with_mail(http, settings, clock, urls, PEOPLE)
        # Hanako's address bounced later: it must never be mailed again, erased or not.
        await rows(
            settings.database_url,
            "INSERT INTO mailer.suppressions (email, reason) VALUES ($1, 'bounce')",
            HANAKO,
        )
        await rows(
            settings.database_url,
            "INSERT INTO mailer.soft_bounces (email, at) VALUES ($1, now())",
            HANAKO,
        )
        # …and she had turned disaster advice off on her preference page.
        await rows(
            settings.database_url,
            "INSERT INTO mailer.preferences (email, off, at) VALUES ($1, '{disaster}', now())",
            HANAKO,
        )
        before = await _held(settings, ["c-42", "c-43"])
        assert all(n > 0 for k, n in before.items() if "schedule" not in k), before

        # Only operators may erase.
        refused = await http.post(f"{ingest}/v1/customers/c-42/erase")
        assert refused.status == 401

        request_id = await erase(http, ingest, op, "c-42")
        report = await erased(http, ingest, op, "c-42", request_id)
        assert set(report["confirmations"]) == {"ingest", "matcher", "mailer", "customers_stream"}
        assert report["customers"] == 2 and report["waiting"] == []
        assert report["confirmations"]["ingest"]["erased"]["orders"] == 2
        assert report["confirmations"]["mailer"]["erased"]["contacts"] == 2
        assert report["confirmations"]["mailer"]["erased"]["suppressions_hashed"] == 1

        # Nothing of either account is left anywhere; the other customer is untouched.
        assert set((await _held(settings, ["c-42", "c-43"])).values()) == {0}
        assert all(
            n > 0 for k, n in (await _held(settings, ["c-7"])).items() if "schedule" not in k
        )
        mailer_text = await rows(
            settings.database_url,
            "SELECT (SELECT count(*) FROM mailer.suppressions WHERE email = $1)"
            " + (SELECT count(*) FROM mailer.soft_bounces WHERE email = $1)"
            " + (SELECT count(*) FROM mailer.preferences WHERE email = $1)",
            HANAKO,
        )
        assert mailer_text == [(0,)]
        # The ledger keeps the advisory, the time and the outcome under pseudonyms.
        kept = await rows(
            settings.database_url,
            "SELECT customer_id, state, sent_at IS NOT NULL, purchases::text FROM mailer.deliveries"
            " WHERE advisory_id = $1 AND customer_id <> 'c-7' ORDER BY 1",
            advisory_id,
        )
        assert len(kept) == 2 and "sent" in {s for _, s, _, _ in kept}, kept
        assert all(c.startswith("erased:") and p == "[]" for c, _, _, p in kept), kept
        assert "hanako" not in str(kept)
        # The contact data is gone from the stream too.
        held = await stream_messages(settings.nats_url, "CUSTOMERS")
        assert not [s for s, _ in held if s in {Subjects.customer_upserted("c-42")}]

        # The same address imported again under a new id is suppressed again.
        again = order("A-9", clock.now(), customer="c-99", email=HANAKO)
        await expect(await http.post(f"{ingest}/v1/orders", json=again, headers=web), 202)
        suppressed = "SELECT reason FROM mailer.suppressions WHERE email = $1"

        async def suppressed_again() -> bool:
            return await rows(settings.database_url, suppressed, HANAKO) == [("bounce",)]

        await eventually(suppressed_again, timeout=15)

        # Erasing again, or an unknown customer, is a success that erases nothing.
        for customer in ("c-43", "nobody"):
            request_id = await erase(http, ingest, op, customer)
            report = await erased(http, ingest, op, customer, request_id)
            counts = [n for c in report["confirmations"].values() for n in c["erased"].values()]
            assert report["customers"] == 1 and set(counts) == {0}, report


async def test_an_erasure_request_is_reported_only_to_its_customer(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        urls = await run_services(stack, settings, clock, "ingest")
        ingest, op = urls["ingest"], operator(settings)
        request_id = await erase(http, ingest, op, "c-1")
        for path, status in [
            (f"c-1/erase/{request_id}", 200),
            (f"c-2/erase/{request_id}", 404),
            ("c-1/erase/not-a-uuid", 404),
        ]:
            reply = await http.get(f"{ingest}/v1/customers/{path}", headers=op)
            assert reply.status == status, path
        long_id = await http.post(f"{ingest}/v1/customers/{'x' * 201}/erase", headers=op)
        body = await expect(long_id, 400)
        assert body["details"][0]["field"] == "customer_id"


async def test_mail_on_the_wire_is_done_before_the_mailer_confirms(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession, smtp_sink: SmtpSink
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        urls = await run_services(stack, settings, clock, "ingest", "advisory", "matcher", "mailer")
        ingest, op = urls["ingest"], operator(settings)
        smtp_sink.data_delay = 3.0  # a slow relay: the mail stays on the wire
        await shop_with_mail(http, settings, clock, urls, [("A-1", "c-42", HANAKO)], settle=False)

        async def on_the_wire() -> bool:
            return bool(smtp_sink.data_attempts)

        await eventually(on_the_wire, timeout=30)
        assert smtp_sink.messages == []
        request_id = await erase(http, ingest, op, "c-42")

        async def mailer_confirmed() -> bool:
            report = await erasure_status(http, ingest, op, "c-42", request_id)
            return "mailer" in report["confirmations"]

        await eventually(mailer_confirmed, timeout=30)
        # The mail on the wire was answered before the mailer said it held nothing more.
        assert len(smtp_sink.messages) == 1
        await erased(http, ingest, op, "c-42", request_id)
        kept = await rows(settings.database_url, "SELECT customer_id, state FROM mailer.deliveries")
        assert len(kept) == 1 and kept[0][0].startswith("erased:") and kept[0][1] == "sent"


async def test_orders_published_before_the_erasure_are_not_recorded_after_it(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        urls = await run_services(stack, settings, clock, "ingest", "mailer")
        ingest, op = urls["ingest"], operator(settings)
        web = await channel_header(settings, "web")
        # Many orders waiting on the bus while the matcher is away, then the erasure.
        placed = clock.now() - timedelta(days=1)
        many = [order(f"A-{i}", placed, customer="c-42") for i in range(1500)]
        await expect(await http.post(f"{ingest}/v1/orders", json=many, headers=web), 202)
        request_id = await erase(http, ingest, op, "c-42")
        await run_services(stack, settings, clock, "matcher")
        await erased(http, ingest, op, "c-42", request_id, timeout=60)
        assert await _held(settings, ["c-42"]) == dict.fromkeys(HELD, 0)


async def test_a_delivery_requested_from_data_held_before_the_erasure_is_not_kept(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession, smtp_sink: SmtpSink
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        urls = await run_services(stack, settings, clock, "ingest", "mailer")
        ingest, op = urls["ingest"], operator(settings)
        nc = await stack.enter_async_context(mailer_bus.nats(settings.nats_url))
        await mailer_bus.customers(
            nc,
            ("c-42", HANAKO, "ja-JP", "Asia/Tokyo"),
            ("c-7", "jeanne@example.fr", "fr-FR", "UTC"),
        )
        await mailer_bus.advisory(nc, "adv-1")
        await eventually(lambda: _count(settings, "SELECT count(*) FROM mailer.contacts", 2))
        request_id = await erase(http, ingest, op, "c-42")

        async def mailer_confirmed() -> bool:
            report = await erasure_status(http, ingest, op, "c-42", request_id)
            return "mailer" in report["confirmations"]

        await eventually(mailer_confirmed, timeout=30)
        # The matcher's request, made from what it held before its own erasure, arrives late;
        # then another customer's, which shows the first was handled.
        await mailer_bus.deliveries(nc, "adv-1", ["c-42"])
        await mailer_bus.deliveries(nc, "adv-1", ["c-7"])
        await smtp_sink.wait_for(1)
        ledger = "SELECT customer_id FROM mailer.deliveries ORDER BY 1"
        assert await rows(settings.database_url, ledger) == [("c-7",)]


async def _count(settings: Settings, sql: str, expected: int) -> bool:
    return bool((await rows(settings.database_url, sql))[0][0] == expected)


async def _oldest_pending(http: aiohttp.ClientSession, ingest: str) -> float:
    """The gauge of the oldest erasure still waiting, as ingest's /metrics shows it."""
    async with http.get(f"{ingest}/metrics") as reply:
        text = await reply.text()
    for family in text_string_to_metric_families(text):
        if family.name == "anshin_erasure_oldest_pending_seconds":
            return float(family.samples[0].value)
    raise AssertionError("ingest shows no anshin_erasure_oldest_pending_seconds")


async def test_an_erasure_waiting_for_its_erasers_is_measured_until_all_confirm(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    """With the matcher and the mailer down, the request's age shows (the alert's input);
    once they are up and confirm, it is 0."""
    watched = msgspec.structs.replace(settings, erasure_watch_s=0.1)
    async with contextlib.AsyncExitStack() as stack:
        urls = await run_services(stack, watched, clock, "ingest")
        ingest = urls["ingest"]
        await erase(http, ingest, operator(settings), "c-1")
        clock.advance(timedelta(hours=2))

        async def waited_two_hours() -> bool:
            return await _oldest_pending(http, ingest) >= 2 * 3600

        await eventually(waited_two_hours)
        await run_services(stack, watched, clock, "matcher", "mailer")

        async def none_waits() -> bool:
            return await _oldest_pending(http, ingest) == 0

        await eventually(none_waits, timeout=30)
