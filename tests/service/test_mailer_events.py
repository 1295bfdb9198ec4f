"""A disaster playbook in the mailer: one mail per declared event, never two for one event."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import aiohttp
import asyncpg
import msgspec

from services.mailer import claim, store, tokens
from services.mailer.app import build
from shared import bus, db
from shared import messages as m
from shared.bus import Subjects
from shared.clock import Clock
from shared.config import Settings
from shared.mail.render import message_id
from tests.support.fixtures import running
from tests.support.mailer import (
    advisory,
    customers,
    deliveries,
    nats,
    set_time,
    states,
    wait_states,
    withdraw,
)
from tests.support.smtp import SmtpSink

DOMAIN = "anshin.example"
HANAKO = ("c-1", "hanako@example.jp", "ja-JP", "Asia/Tokyo")
GUEST = ("c-guest", "hanako@example.jp", "ja-JP", "Asia/Tokyo")  # Hanako's guest checkout
TARO = ("c-2", "taro@example.jp", "ja-JP", "Asia/Tokyo")


def _sent(sink: SmtpSink) -> list[tuple[str, str]]:
    return sorted(
        (str(mail["To"].addresses[0].addr_spec), str(mail["Message-ID"])) for mail in sink.messages
    )


async def _reach(nc: object, advisory_id: str) -> dict[str, int]:
    request = m.encode(m.ReportRequest(advisory_id=advisory_id))
    reply = await nc.request(Subjects.MAILER_REPORT, request, timeout=5)  # type: ignore[attr-defined]
    return msgspec.json.decode(reply.data, type=m.ReachReport).counts


async def test_each_declared_disaster_reaches_the_customer_once(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink
) -> None:
    # 22:30 in Tokyo, quiet hours: a disaster goes out all the same, event after event.
    settings = msgspec.structs.replace(settings, quiet_hours="21-08")
    set_time(clock, datetime(2027, 1, 15, 13, 30, tzinfo=UTC))
    async with running(build, settings, clock, settings.mailer_port), nats(settings.nats_url) as nc:
        await customers(nc, HANAKO, GUEST, TARO)
        await advisory(nc, "quake", "disaster")
        await deliveries(nc, "quake", ["c-1", "c-2"], "disaster", "eq-1")
        await smtp_sink.wait_for(2)
        # The same event again, by a redelivered batch or under Hanako's other id: nothing.
        await deliveries(nc, "quake", ["c-1", "c-2"], "disaster", "eq-1", again=1)
        await deliveries(nc, "quake", ["c-guest"], "disaster", "eq-1")
        await wait_states(settings.database_url, {"sent": 2, "suppressed": 1}, "quake")

        # The next earthquake declared for the same playbook: a new mail, a new Message-ID.
        await deliveries(nc, "quake", ["c-1", "c-guest"], "disaster", "eq-2")
        await smtp_sink.wait_for(3)
        await deliveries(nc, "quake", ["c-1"], "disaster", "eq-2", again=1)
        await wait_states(settings.database_url, {"sent": 3, "suppressed": 2}, "quake")
        await asyncio.sleep(1.0)
        assert _sent(smtp_sink) == sorted(
            [
                ("hanako@example.jp", message_id("quake", "c-1", DOMAIN, "eq-1")),
                ("taro@example.jp", message_id("quake", "c-2", DOMAIN, "eq-1")),
                ("hanako@example.jp", message_id("quake", "c-1", DOMAIN, "eq-2")),
            ]
        )
        eq2 = smtp_sink.messages[2]
        assert eq2["Subject"] == "お知らせ quake" and eq2["X-Anshin-Advisory"] == "quake"
        # The reach of a playbook counts every event's deliveries.
        assert await _reach(nc, "quake") == {"sent": 3, "suppressed": 2}

        # Only a playbook is keyed by its event: a recall with a stray event id is sent once.
        await advisory(nc, "recall", "recall")
        await deliveries(nc, "recall", ["c-2"], "recall", "eq-1")
        await smtp_sink.wait_for(4)
        await deliveries(nc, "recall", ["c-2"], "recall", "eq-2")
        await deliveries(nc, "recall", ["c-2"], "recall")
        await asyncio.sleep(1.0)
        assert await states(settings.database_url, "recall") == {"sent": 1}
        assert smtp_sink.messages[3]["Message-ID"] == message_id("recall", "c-2", DOMAIN)
        assert len(smtp_sink.messages) == 4


async def test_unsubscribe_and_withdrawal_hold_for_every_event(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink
) -> None:
    async with (
        running(build, settings, clock, settings.mailer_port) as url,
        nats(settings.nats_url) as nc,
        aiohttp.ClientSession() as http,
    ):
        await customers(nc, HANAKO, TARO)
        await advisory(nc, "quake", "disaster")
        await deliveries(nc, "quake", ["c-1", "c-2"], "disaster", "eq-1")
        await smtp_sink.wait_for(2)
        token = tokens.make(settings.secret_key, *TARO[:2])
        async with http.post(f"{url}/u/{token}", data={"List-Unsubscribe": "One-Click"}) as reply:
            assert reply.status == 200
        # Taro unsubscribed: the next event does not reach him. c-3 has no contact yet: waits.
        await deliveries(nc, "quake", ["c-1", "c-2", "c-3"], "disaster", "eq-2")
        await smtp_sink.wait_for(3)
        await wait_states(settings.database_url, {"sent": 3, "suppressed": 1, "queued": 1})
        # The withdrawal cancels what waits, whichever event it belongs to.
        await withdraw(nc, "quake")
        await wait_states(settings.database_url, {"sent": 3, "suppressed": 1, "cancelled": 1})
        await deliveries(nc, "quake", ["c-1"], "disaster", "eq-3")
        await wait_states(settings.database_url, {"sent": 3, "suppressed": 1, "cancelled": 2})
        await customers(nc, ("c-3", "jiro@example.jp", "ja-JP", "Asia/Tokyo"))
        await asyncio.sleep(1.0)
        assert len(smtp_sink.messages) == 3
        assert [m["To"].addresses[0].addr_spec for m in smtp_sink.messages[2:]] == [
            "hanako@example.jp"
        ]


async def test_the_sweep_resends_each_events_mail_under_its_own_message_id(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink
) -> None:
    pool = await db.create_pool(settings.database_url, "mailer", min_size=1)
    try:
        await db.migrate(pool, "mailer", "services.mailer")
        now = clock.now()
        async with pool.acquire() as conn:
            contact = m.CustomerUpserted(customer_id="c-1", email="a@x.jp")
            await store.upsert_contact(conn, contact, now)
            await store.save_advisory(
                conn,
                m.AdvisoryPublished(
                    advisory_id="quake",
                    version=1,
                    agency_id="ag",
                    agency_name="Fire Department",
                    rule=m.Disaster(),
                    title={"en": "Generators indoors kill"},
                    body={"en": "Run it outside."},
                    published_at=now,
                ),
            )
            for event_id in ("eq-1", "eq-2"):
                batch = m.DeliveryBatch(
                    batch_id=event_id,
                    advisory_id="quake",
                    kind="disaster",
                    priority=m.Priority.DISASTER,
                    requested_at=now,
                    recipients=[m.Recipient(customer_id="c-1", reason="disaster")],
                    event_id=event_id,
                )
                assert await store.add_deliveries(conn, batch, now) == 1
                assert await store.add_deliveries(conn, batch, now) == 0
        # A replica claims both mails and dies before sending them.
        dead = claim.Config(lease=timedelta(seconds=1), sender_domain=DOMAIN)
        lost = await claim.claim(pool, now, dead)
        assert sorted(mail.message_id for mail in lost.mails) == sorted(
            message_id("quake", "c-1", DOMAIN, e) for e in ("eq-1", "eq-2")
        )
    finally:
        await pool.close()
    async with running(build, settings, clock, settings.mailer_port):
        await smtp_sink.wait_for(2, timeout=15)
        await asyncio.sleep(1.0)
    assert sorted(smtp_sink.message_ids()) == sorted(mail.message_id for mail in lost.mails)
    assert await states(settings.database_url) == {"sent": 2}


async def test_migration_keeps_the_ledger_and_keys_it_by_event(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink
) -> None:
    conn = await asyncpg.connect(settings.database_url)
    try:
        # A ledger as the mailer left it before migration 003.
        await conn.execute("CREATE SCHEMA mailer")
        await conn.execute(
            "CREATE TABLE mailer.schema_migrations (version int PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for version, name, sql in db.migrations_of("services.mailer"):
            if version < 3:
                async with conn.transaction():
                    await conn.execute("SET LOCAL search_path TO mailer, public")
                    await conn.execute(sql)
                    await conn.execute(
                        "INSERT INTO mailer.schema_migrations VALUES ($1, $2)", version, name
                    )
        await conn.execute(
            "INSERT INTO mailer.deliveries (advisory_id, customer_id, state, priority, kind,"
            " reason, requested_at, next_attempt_at, sent_at, message_id) VALUES"
            " ('quake', 'c-1', 'sent', 90, 'disaster', 'disaster', now(), now(), now(), $1),"
            " ('pb', 'c-1', 'sent', 30, 'short_term', 'purchase', now(), now(), now(), $2),"
            " ('pb', 'c-2', 'deferred', 30, 'short_term', 'purchase', now(), now(), NULL, NULL)",
            message_id("quake", "c-1", DOMAIN),
            message_id("pb", "c-1", DOMAIN),
        )
    finally:
        await conn.close()

    async with running(build, settings, clock, settings.mailer_port), nats(settings.nats_url) as nc:
        await customers(nc, HANAKO, TARO)
        await advisory(nc, "pb")
        await advisory(nc, "quake", "disaster")
        # The deferred row kept its place and goes out; the sent one is not sent again.
        await smtp_sink.wait_for(1)
        await deliveries(nc, "pb", ["c-1", "c-2"])
        # A disaster declared after the upgrade reaches Hanako again.
        await deliveries(nc, "quake", ["c-1"], "disaster", "eq-2")
        await smtp_sink.wait_for(2)
        await wait_states(settings.database_url, {"sent": 4})
        await asyncio.sleep(1.0)
    assert _sent(smtp_sink) == sorted(
        [
            ("taro@example.jp", message_id("pb", "c-2", DOMAIN)),
            ("hanako@example.jp", message_id("quake", "c-1", DOMAIN, "eq-2")),
        ]
    )
    conn = await asyncpg.connect(settings.database_url)
    try:
        rows = await conn.fetch(
            "SELECT advisory_id, event_id, customer_id, message_id FROM mailer.deliveries"
            " ORDER BY 1, 2, 3"
        )
        key = await conn.fetchval(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = 'mailer.deliveries'::regclass AND contype = 'p'"
        )
    finally:
        await conn.close()
    assert key == "PRIMARY KEY (advisory_id, event_id, customer_id)"
    assert [tuple(r) for r in rows] == [
        ("pb", "", "c-1", message_id("pb", "c-1", DOMAIN)),
        ("pb", "", "c-2", message_id("pb", "c-2", DOMAIN)),
        ("quake", "", "c-1", message_id("quake", "c-1", DOMAIN)),
        ("quake", "eq-2", "c-1", message_id("quake", "c-1", DOMAIN, "eq-2")),
    ]


async def test_contacts_of_a_customers_batch_keep_the_newest_data(
    settings: Settings, clock: Clock
) -> None:
    now = clock.now()
    older, newer = now - timedelta(days=2), now - timedelta(days=1)

    def contact(n: int, email: str, at: datetime) -> m.CustomerUpserted:
        return m.CustomerUpserted(customer_id=f"c-b{n}", email=email, updated_at=at)

    async with running(build, settings, clock, settings.mailer_port), nats(settings.nats_url) as nc:
        await _publish_contacts(nc, [contact(1, "new@example.jp", newer)], "first")
        # A batch: c-b1's older address must not win; c-b2 twice, the newer one wins.
        batch = [contact(1, "stale@example.jp", older), contact(2, "b2-new@example.jp", newer)]
        batch += [contact(2, "b2-old@example.jp", older), contact(3, "b3@example.jp", older)]
        await _publish_contacts(nc, batch, "second")
        await _publish_contacts(nc, batch, "second-again")  # the same facts again: harmless
        conn = await asyncpg.connect(settings.database_url)
        try:
            for _ in range(100):
                rows = await conn.fetch("SELECT customer_id, email FROM mailer.contacts")
                if len(rows) == 3:
                    break
                await asyncio.sleep(0.05)
        finally:
            await conn.close()
    assert {r["customer_id"]: r["email"] for r in rows} == {
        "c-b1": "new@example.jp",
        "c-b2": "b2-new@example.jp",
        "c-b3": "b3@example.jp",
    }


async def _publish_contacts(nc: object, contacts: list[m.CustomerUpserted], msg_id: str) -> None:
    """Publish contacts as one customers.batch message."""
    event = m.CustomerBatch(customers=contacts)
    subject = Subjects.customer_batch(msg_id)
    await bus.publish(nc, subject, event, msg_id)


async def test_a_cancelled_disaster_cancels_its_waiting_mail_and_what_comes_later(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink
) -> None:
    async with running(build, settings, clock, settings.mailer_port), nats(settings.nats_url) as nc:
        await customers(nc, HANAKO)
        await advisory(nc, "quake", "disaster")
        # c-3 has no contact yet: the mail of both disasters waits for them.
        await deliveries(nc, "quake", ["c-1", "c-3"], "disaster", "eq-1")
        await deliveries(nc, "quake", ["c-3"], "disaster", "eq-2")
        await smtp_sink.wait_for(1)
        await wait_states(settings.database_url, {"sent": 1, "queued": 2})
        cancelled = m.DisasterDeclared(
            event_id="eq-1",
            hazard="earthquake",
            title="Noto",
            occurred_at=clock.now(),
            areas=[],
            countries=["JP"],
            advisory_ids=["quake"],
            revision=2,
            cancelled=True,
        )
        await bus.publish(nc, Subjects.DISASTERS_DECLARED, cancelled, "disaster:eq-1:r2")
        await wait_states(settings.database_url, {"sent": 1, "queued": 1, "cancelled": 1})
        # A shard's batch of the cancelled disaster arriving late starts cancelled.
        await deliveries(nc, "quake", ["c-2"], "disaster", "eq-1")
        await wait_states(settings.database_url, {"sent": 1, "queued": 1, "cancelled": 2})
        await customers(nc, ("c-3", "jiro@example.jp", "ja-JP", "Asia/Tokyo"), TARO)
        await smtp_sink.wait_for(2)
        await wait_states(settings.database_url, {"sent": 2, "cancelled": 2})
        await asyncio.sleep(1.0)
        assert len(smtp_sink.messages) == 2
        assert smtp_sink.messages[1]["Message-ID"] == message_id("quake", "c-3", DOMAIN, "eq-2")
