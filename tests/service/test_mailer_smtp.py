"""The mailer against a real SMTP server: refusals, DKIM, a restart and a crash mid-batch."""

from __future__ import annotations

import asyncio
import base64
import subprocess
from datetime import timedelta
from pathlib import Path

import asyncpg
import dkim
import msgspec
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from services.mailer import claim, policy, store
from services.mailer.app import build
from shared import db
from shared.clock import Clock
from shared.config import Settings
from tests.support.fixtures import running
from tests.support.mailer import (
    advisory,
    customers,
    deliveries,
    eventually,
    nats,
    states,
    stored_deliveries,
    wait_states,
)
from tests.support.smtp import SmtpSink


async def test_4xx_is_retried_with_backoff_and_5xx_suppresses_the_address(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink
) -> None:
    smtp_sink.verdict = lambda rcpt: "550 5.1.1 no such user" if rcpt.startswith("gone") else None
    refused: set[str] = set()

    def greylist(message: object) -> str | None:
        mid = str(message["Message-ID"])  # type: ignore[index]
        if "grey" in str(message["To"]) and mid not in refused:  # type: ignore[index]
            refused.add(mid)
            return "451 4.7.1 greylisted, try again later"
        return None

    smtp_sink.data_verdict = greylist
    people = [(f"c-{n}", f"{n}@example.jp", "en", "UTC") for n in ("ok", "grey", "gone")]
    async with running(build, settings, clock, settings.mailer_port), nats(settings.nats_url) as nc:
        await customers(nc, *people)
        await advisory(nc, "adv-a")
        await deliveries(nc, "adv-a", ["c-ok", "c-grey", "c-gone"])
        await wait_states(settings.database_url, {"sent": 1, "failed": 1, "deferred": 1})
        # Backoff: the greylisted mail is not tried again at once.
        await asyncio.sleep(1.5)
        assert len(smtp_sink.data_attempts) == 2
        clock.advance(timedelta(seconds=6))
        await wait_states(settings.database_url, {"sent": 2, "failed": 1})
        grey = [mid for mid in smtp_sink.data_attempts if mid in refused]
        assert len(grey) == 2 and grey[0] == grey[1]  # the same Message-ID both times
        assert sorted(smtp_sink.message_ids()) == sorted(set(smtp_sink.message_ids()))

        # The bounced address is suppressed: a later advisory never even tries it.
        tried = len(smtp_sink.rcpt_attempts)
        await advisory(nc, "adv-b")
        await deliveries(nc, "adv-b", ["c-ok", "c-gone"])
        await wait_states(settings.database_url, {"sent": 1, "suppressed": 1}, "adv-b")
        assert smtp_sink.rcpt_attempts[tried:] == ["ok@example.jp"]


async def test_an_address_that_is_not_ascii_fails_alone(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink
) -> None:
    # Ingest accepts such an address; without SMTPUTF8 no relay can carry it. It must fail
    # by name, and the rest of its claim go out and be recorded once.
    people = [
        ("c-a", "a@example.jp", "ja", "Asia/Tokyo"),
        ("c-jose", "josé@example.fr", "fr", "Europe/Paris"),
        ("c-b", "b@example.jp", "en", "UTC"),
    ]
    async with running(build, settings, clock, settings.mailer_port), nats(settings.nats_url) as nc:
        await customers(nc, *people)
        await advisory(nc, "adv-intl")
        await deliveries(nc, "adv-intl", ["c-a", "c-jose", "c-b"])
        await wait_states(settings.database_url, {"sent": 2, "failed": 1})
        conn = await asyncpg.connect(settings.database_url)
        try:
            error = await conn.fetchval(
                "SELECT error FROM mailer.deliveries WHERE customer_id = 'c-jose'"
            )
        finally:
            await conn.close()
    assert "not ASCII" in error
    assert sorted(smtp_sink.rcpt_attempts) == ["a@example.jp", "b@example.jp"]
    assert len(smtp_sink.message_ids()) == len(set(smtp_sink.message_ids())) == 2


@pytest.fixture
def dkim_keys(tmp_path: Path) -> tuple[Path, Path, dict[bytes, bytes]]:
    """Fresh RSA and Ed25519 keys (as openssl makes them) and the DNS records of their halves."""
    rsa_key, ed_key = tmp_path / "rsa.pem", tmp_path / "ed.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(rsa_key), "2048"], check=True)
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", str(ed_key)], check=True)
    rsa_public = subprocess.run(
        ["openssl", "rsa", "-in", str(rsa_key), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    # RFC 8463: the record holds the raw 32-byte key, the end of its DER SubjectPublicKeyInfo.
    ed_public = subprocess.run(
        ["openssl", "pkey", "-in", str(ed_key), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout[-32:]
    records = {
        b"s1._domainkey.anshin.example.": b"v=DKIM1; k=rsa; p=" + base64.b64encode(rsa_public),
        b"e1._domainkey.anshin.example.": b"v=DKIM1; k=ed25519; p=" + base64.b64encode(ed_public),
    }
    return rsa_key, ed_key, records


async def test_mail_carries_dkim_signatures_that_verify(
    settings: Settings,
    clock: Clock,
    smtp_sink: SmtpSink,
    dkim_keys: tuple[Path, Path, dict[bytes, bytes]],
) -> None:
    rsa_key, ed_key, records = dkim_keys
    settings = msgspec.structs.replace(
        settings,
        dkim_selector="s1",
        dkim_key_file=str(rsa_key),
        dkim_ed25519_selector="e1",
        dkim_ed25519_key_file=str(ed_key),
    )
    people = [(f"c-{n}", f"p{n}@example.jp", lang, "Asia/Tokyo") for n, lang in
              enumerate(["ja", "en", "fr"])]  # fmt: skip
    async with running(build, settings, clock, settings.mailer_port), nats(settings.nats_url) as nc:
        await customers(nc, *people)
        await advisory(nc, "adv-d")
        await deliveries(nc, "adv-d", [c for c, *_ in people])
        await smtp_sink.wait_for(3)
    lookups: list[bytes] = []

    def dns(name: bytes, timeout: int = 5) -> bytes:
        lookups.append(name)
        return records.get(name, b"")

    for arrival in smtp_sink.arrivals:  # every signature of every mail
        raw = arrival.raw
        assert raw.startswith(b"DKIM-Signature:") and raw.count(b"DKIM-Signature:") == 2
        verifier = dkim.DKIM(raw)
        assert verifier.verify(idx=0, dnsfunc=dns) and verifier.verify(idx=1, dnsfunc=dns)
        forged = raw.replace(b"Subject:", b"Subject: Re:")
        assert not dkim.DKIM(forged).verify(idx=0, dnsfunc=dns)
        assert not dkim.DKIM(forged).verify(idx=1, dnsfunc=dns)
    assert sorted(set(lookups)) == sorted(records)


async def test_a_restart_mid_batch_loses_nothing_and_sends_nothing_twice(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink
) -> None:
    settings = msgspec.structs.replace(
        settings, send_rate_per_second=60.0, send_rate_per_domain=0.0, smtp_connections=2
    )
    ids = [f"c-{n}" for n in range(200)]
    async with running(build, settings, clock, settings.mailer_port), nats(settings.nats_url) as nc:
        await customers(nc, *[(c, f"{c}@example.jp", "en", "UTC") for c in ids])
        await advisory(nc, "adv-r")
        await deliveries(nc, "adv-r", ids)
        await smtp_sink.wait_for(70)
    # Stopped mid-batch: what was claimed finished, the rest waits in the ledger.
    halfway = await states(settings.database_url)
    assert set(halfway) == {"sent", "queued"}, halfway
    assert halfway["sent"] == len(smtp_sink.messages)
    async with running(build, settings, clock, settings.mailer_port):
        await smtp_sink.wait_for(200)
        await asyncio.sleep(1.0)
    assert len(smtp_sink.messages) == 200
    assert len(set(smtp_sink.message_ids())) == 200
    assert await states(settings.database_url) == {"sent": 200}


class _StallingSink(SmtpSink):
    """Accepts `first` messages, then holds every DATA until `go` is set."""

    def __init__(self, port: int, first: int) -> None:
        super().__init__()
        self.port, self.first, self.go = port, first, asyncio.Event()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Hold the message once `first` have been accepted."""
        if len(self.messages) >= self.first:
            await self.go.wait()
        return await super().handle_DATA(server, session, envelope)


async def test_what_smtp_accepted_is_recorded_while_the_claim_is_still_sending(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink
) -> None:
    # A mailer killed now would send again, after the lease, only what it had not recorded.
    await smtp_sink.stop()
    stalling = _StallingSink(smtp_sink.port, first=120)
    await stalling.start()
    settings = msgspec.structs.replace(settings, send_rate_per_second=0.0, send_rate_per_domain=0.0)
    ids = [f"c-p{n}" for n in range(200)]
    async with running(build, settings, clock, settings.mailer_port):
        pass  # the schema is migrated
    pool = await db.create_pool(settings.database_url, "mailer", min_size=1)
    try:
        # Queued before the mailer starts, so that its first claim takes all 200.
        await stored_deliveries(pool, "adv-p", "recall", ids, clock.now())
    finally:
        await pool.close()
    try:
        async with running(build, settings, clock, settings.mailer_port):
            try:
                await stalling.wait_for(120)
                recorded = 120

                async def kept() -> bool:
                    # The claim is still sending; every answer given so far is kept.
                    sent = (await states(settings.database_url)).get("sent", 0)
                    assert sent <= len(stalling.messages)  # never before SMTP said so
                    return sent >= recorded

                await eventually(kept, timeout=10)
                assert "sending" in await states(settings.database_url)
            finally:
                stalling.go.set()  # a failure must not leave the mailer's stop waiting
            await stalling.wait_for(200)
            await wait_states(settings.database_url, {"sent": 200})
    finally:
        await stalling.stop()
    assert len(set(stalling.message_ids())) == len(stalling.messages) == 200


async def test_the_sweep_resends_what_a_crashed_replica_claimed(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink
) -> None:
    pool = await db.create_pool(settings.database_url, "mailer", min_size=1)
    try:
        conn = await asyncpg.connect(settings.database_url)
        await conn.execute("CREATE SCHEMA IF NOT EXISTS mailer")
        await conn.close()
        await db.migrate(pool, "mailer", "services.mailer")
        now = clock.now()
        await stored_deliveries(pool, "adv-s", "recall", [f"c-{n}" for n in range(12)], now)
        # A replica claims five mails and dies before sending them.
        dead = claim.Config(limit=5, lease=timedelta(seconds=1), sender_domain="anshin.example")
        lost = await claim.claim(pool, clock.now(), dead)
        assert len(lost.mails) == 5
    finally:
        await pool.close()
    async with running(build, settings, clock, settings.mailer_port):
        await smtp_sink.wait_for(7)
        # The five come back once their lease has run out and the sweep finds them.
        await smtp_sink.wait_for(12, timeout=15)
        await asyncio.sleep(1.0)
    assert len(set(smtp_sink.message_ids())) == len(smtp_sink.messages) == 12
    assert await states(settings.database_url) == {"sent": 12}


async def test_what_a_crashed_replica_claimed_of_a_withdrawn_advisory_is_cancelled(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink
) -> None:
    async with running(build, settings, clock, settings.mailer_port):
        pass  # the schema is migrated
    pool = await db.create_pool(settings.database_url, "mailer", min_size=1)
    try:
        now = clock.now()
        await stored_deliveries(pool, "adv-w", "short_term", [f"c-w{n}" for n in range(4)], now)
        # A replica claims every mail and dies; then the agency withdraws the advice.
        dead = claim.Config(
            limit=4,
            lease=timedelta(seconds=1),
            sender_domain="anshin.example",
            rules=policy.Rules(quiet=None),  # whatever the hour of the test
        )
        assert len((await claim.claim(pool, now, dead)).mails) == 4
        async with db.unit_of_work(pool) as conn:
            await store.withdraw(conn, "adv-w", now)
    finally:
        await pool.close()
    async with running(build, settings, clock, settings.mailer_port):
        await wait_states(settings.database_url, {"cancelled": 4}, "adv-w")
    assert smtp_sink.messages == []
