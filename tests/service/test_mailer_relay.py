"""The mailer against relays as real ones are: STARTTLS, implicit TLS, AUTH, a verified
certificate; and what it refuses: a password in clear, a relay without the TLS it must have."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import msgspec
import pytest

from services.mailer import relay
from services.mailer.app import build
from services.mailer.replies import Outcome, Result
from services.mailer.smtp import Envelope, SmtpPool
from shared.clock import Clock
from shared.config import Settings
from tests.support.fixtures import running
from tests.support.mailer import advisory, customers, deliveries, nats, wait_states
from tests.support.relay import Certificates, Login, TlsRelay, make_certificates

USERS = {"anshin": "correct horse battery staple"}
MAIL = (
    b"From: safety@anshin.example\r\nTo: one@example.jp\r\nSubject: test\r\n"
    b"Message-ID: <t1@anshin.example>\r\n\r\nhello\r\n"
)


@pytest.fixture
def certificates(tmp_path: Path) -> Certificates:
    """A CA of the test's own and a relay certificate it signed."""
    return make_certificates(tmp_path)


@pytest.fixture
async def tls_relay(certificates: Certificates) -> AsyncIterator[TlsRelay]:
    """A relay that offers STARTTLS and takes mail only after AUTH."""
    server = TlsRelay(certificates, users=USERS)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def _send(server: TlsRelay, **settings: object) -> Result:
    """One mail to `server` through a pool built as the mailer builds it."""
    pool = SmtpPool(relay.Relay(host="127.0.0.1", port=server.port, **settings), size=1)  # type: ignore[arg-type]
    try:
        return await pool.send(Envelope("safety@anshin.example", "one@example.jp", MAIL))
    finally:
        await pool.close()


async def test_starttls_and_auth_deliver_with_the_right_password(
    tls_relay: TlsRelay, certificates: Certificates
) -> None:
    result = await _send(
        tls_relay, ca_file=str(certificates.ca), username="anshin", password=USERS["anshin"]
    )
    assert result.outcome is Outcome.SENT, result
    assert tls_relay.logins == [Login("anshin", accepted=True, encrypted=True)]
    assert tls_relay.encrypted == [True]


async def test_starttls_is_used_whenever_the_relay_offers_it(certificates: Certificates) -> None:
    server = TlsRelay(certificates)  # no AUTH: a relay that trusts the network
    await server.start()
    try:
        result = await _send(server, ca_file=str(certificates.ca))
    finally:
        await server.stop()
    assert result.outcome is Outcome.SENT, result
    assert server.encrypted == [True]


async def test_implicit_tls_delivers_encrypted_from_the_first_byte(
    certificates: Certificates,
) -> None:
    server = TlsRelay(certificates, users=USERS, implicit=True)
    await server.start()
    try:
        result = await _send(
            server,
            tls="implicit",
            ca_file=str(certificates.ca),
            username="anshin",
            password=USERS["anshin"],
        )
    finally:
        await server.stop()
    assert result.outcome is Outcome.SENT, result
    assert server.logins == [Login("anshin", accepted=True, encrypted=True)]
    assert server.encrypted == [True]


async def test_the_relays_certificate_is_verified_by_default(tls_relay: TlsRelay) -> None:
    # Signed by a CA the system does not trust: no mail, and no password sent to it.
    result = await _send(tls_relay, username="anshin", password=USERS["anshin"])
    assert result.outcome is Outcome.RETRY
    assert (result.stage, result.code) == ("tls", relay.TLS_FAILED)
    assert "CERTIFICATE_VERIFY_FAILED" in result.error
    assert tls_relay.logins == [] and tls_relay.messages == []


async def test_a_certificate_for_another_host_is_refused(tmp_path: Path) -> None:
    other = make_certificates(tmp_path, hosts=("relay.elsewhere.example",), loopback=False)
    server = TlsRelay(other)
    await server.start()
    try:
        result = await _send(server, ca_file=str(other.ca))  # signed by a trusted CA
    finally:
        await server.stop()
    assert (result.outcome, result.code) == (Outcome.RETRY, relay.TLS_FAILED), result
    assert "127.0.0.1" in result.error and server.messages == []


async def test_required_starttls_refuses_a_relay_without_it(certificates: Certificates) -> None:
    server = TlsRelay(None)  # offers no STARTTLS
    await server.start()
    try:
        result = await _send(server, tls="starttls", ca_file=str(certificates.ca))
        opportunistic = await _send(server, ca_file=str(certificates.ca))
    finally:
        await server.stop()
    assert result.outcome is Outcome.RETRY
    assert (result.stage, result.code) == ("tls", relay.NO_STARTTLS)
    assert server.rcpt_attempts == ["one@example.jp"]  # only the opportunistic mail's
    assert opportunistic.outcome is Outcome.SENT and server.encrypted == [False]


async def test_no_password_over_an_unencrypted_channel() -> None:
    server = TlsRelay(None, users=USERS, auth_in_clear=True)  # AUTH offered, no STARTTLS
    await server.start()
    try:
        result = await _send(server, username="anshin", password=USERS["anshin"])
    finally:
        await server.stop()
    assert result.outcome is Outcome.RETRY
    assert (result.stage, result.code) == ("auth", relay.CLEAR_AUTH)
    assert server.logins == [] and server.rcpt_attempts == []


async def test_a_relay_without_auth_is_not_sent_mail_unauthenticated(
    certificates: Certificates,
) -> None:
    server = TlsRelay(certificates)  # STARTTLS, but no AUTH offered
    await server.start()
    try:
        result = await _send(server, ca_file=str(certificates.ca), username="anshin", password="x")
    finally:
        await server.stop()
    assert (result.outcome, result.stage, result.code) == (Outcome.RETRY, "auth", relay.NO_AUTH)
    assert server.rcpt_attempts == []


async def _ledger(database_url: str) -> tuple[list[tuple[str, str]], int]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT state, error FROM mailer.deliveries")
        suppressed = await conn.fetchval("SELECT count(*) FROM mailer.suppressions")
    finally:
        await conn.close()
    return [(r["state"], r["error"] or "") for r in rows], suppressed


async def test_the_mailer_logs_in_with_the_password_of_its_file(
    settings: Settings,
    clock: Clock,
    tls_relay: TlsRelay,
    certificates: Certificates,
    tmp_path: Path,
) -> None:
    secret = tmp_path / "smtp-password"
    secret.write_text(USERS["anshin"] + "\n")  # as `kubectl create secret` or an editor leaves it
    settings = msgspec.structs.replace(
        settings,
        smtp_port=tls_relay.port,
        smtp_host="localhost",
        smtp_ca_file=str(certificates.ca),
        smtp_username="anshin",
        smtp_password_file=str(secret),
    )
    async with running(build, settings, clock, settings.mailer_port), nats(settings.nats_url) as nc:
        await customers(nc, ("c-1", "one@example.jp", "ja", "Asia/Tokyo"))
        await advisory(nc, "adv-tls")
        await deliveries(nc, "adv-tls", ["c-1"])
        await tls_relay.wait_for(1)
        await wait_states(settings.database_url, {"sent": 1})
    assert tls_relay.logins == [Login("anshin", accepted=True, encrypted=True)]
    assert tls_relay.encrypted == [True]


async def test_a_wrong_password_defers_the_mail_and_suppresses_no_one(
    settings: Settings, clock: Clock, tls_relay: TlsRelay, certificates: Certificates
) -> None:
    settings = msgspec.structs.replace(
        settings,
        smtp_port=tls_relay.port,
        smtp_ca_file=str(certificates.ca),
        smtp_username="anshin",
        smtp_password="wrong",
    )
    people = [(f"c-{n}", f"p{n}@example.jp", "en", "UTC") for n in range(3)]
    async with running(build, settings, clock, settings.mailer_port), nats(settings.nats_url) as nc:
        await customers(nc, *people)
        await advisory(nc, "adv-auth")
        await deliveries(nc, "adv-auth", [c for c, *_ in people])
        await wait_states(settings.database_url, {"deferred": 3})
    rows, suppressed = await _ledger(settings.database_url)
    assert suppressed == 0
    assert all(error.startswith("535") for _, error in rows), rows
    assert tls_relay.logins and not any(login.accepted for login in tls_relay.logins)
    assert all(login.encrypted for login in tls_relay.logins)
    assert tls_relay.rcpt_attempts == [] and tls_relay.messages == []
