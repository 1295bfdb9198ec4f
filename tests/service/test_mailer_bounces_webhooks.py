"""The relays' webhooks against the running mailer: SES through signed SNS messages (with
their subscription confirmed), SendGrid's signed events, Postmark behind basic auth, each
with its published examples; forged, foreign or malformed posts get a 4xx naming the field
and suppress no one."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import msgspec
from nats.aio.client import Client
from prometheus_client import REGISTRY

from services.mailer.app import build
from shared.clock import Clock
from shared.config import Settings
from tests.support.fixtures import running
from tests.support.mailer import advisory, customers, deliveries, nats, wait_states
from tests.support.relays import FakeSns, SendGridSigner
from tests.support.smtp import SmtpSink

FIXTURES = Path(__file__).parents[1] / "fixtures" / "bounces"
TOPIC = "arn:aws:sns:us-east-1:123456789012:ses-feedback"


async def mailed(nc: Client, database_url: str, *emails: str) -> None:
    """One sent mail to each address: the mail a report will name."""
    people = [(f"c-{i}", e, "en", "UTC") for i, e in enumerate(emails)]
    await customers(nc, *people)
    await advisory(nc, "adv-1")
    await deliveries(nc, "adv-1", [c for c, *_ in people])
    await wait_states(database_url, {"sent": len(people)})


async def suppressions(database_url: str) -> dict[str, str]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT email, reason FROM mailer.suppressions")
    finally:
        await conn.close()
    return {r["email"]: r["reason"] for r in rows}


async def feedback(database_url: str) -> dict[str, str | None]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT c.email, d.feedback FROM mailer.deliveries d JOIN mailer.contacts c"
            " USING (customer_id)"
        )
    finally:
        await conn.close()
    return {r["email"]: r["feedback"] for r in rows}


async def post(
    http: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    async with http.post(url, data=body, headers=headers or {}) as answer:
        return answer.status, await answer.json()


def refused(intake: str) -> float:
    labels = {"intake": intake, "outcome": "refused"}
    return REGISTRY.get_sample_value("anshin_mailer_feedback_total", labels) or 0.0


async def test_ses_through_sns_confirms_its_subscription_and_acts_on_signed_notifications(
    settings: Settings,
    clock: Clock,
    smtp_sink: SmtpSink,
    tmp_path: Path,
    http: aiohttp.ClientSession,
) -> None:
    fake = FakeSns(tmp_path)
    settings = msgspec.structs.replace(
        settings,
        bounce_ses_topics=TOPIC,
        bounce_sns_cert_hosts="localhost",
        bounce_sns_ca_file=str(fake.ca_file),
    )
    before = refused("ses")
    async with (
        fake.serving(),
        running(build, settings, clock, settings.mailer_port) as base,
        nats(settings.nats_url) as nc,
    ):
        url = f"{base}/v1/bounces/ses"
        await mailed(
            nc, settings.database_url, "jane@example.com", "richard@example.com", "mary@example.com"
        )
        status, body = await post(http, url, json.dumps(fake.subscription(TOPIC)).encode())
        assert (status, body) == (200, {"confirmed": True}) and len(fake.confirmed) == 1

        def note(name: str) -> dict[str, str]:
            return fake.notification(TOPIC, (FIXTURES / "ses" / f"{name}.json").read_text())

        # Forged, foreign and malformed posts first: each refused by name, nothing done.
        tampered = note("bounce-with-dsn") | {
            "Message": (FIXTURES / "ses" / "bounce-without-dsn.json").read_text()
        }
        status, body = await post(http, url, json.dumps(tampered).encode())
        assert status == 403 and body["details"] == [
            {"field": "Signature", "problem": "does not verify with the signing certificate"}
        ]
        elsewhere = note("bounce-with-dsn") | {
            "SigningCertURL": "https://sns.us-east-1.amazonaws.com.evil.example/x.pem"
        }
        status, body = await post(http, url, json.dumps(elsewhere).encode())
        assert status == 403 and body["details"][0]["field"] == "SigningCertURL"
        foreign = fake.notification(
            TOPIC + "-other", (FIXTURES / "ses" / "bounce-with-dsn.json").read_text()
        )
        status, body = await post(http, url, json.dumps(foreign).encode())
        assert status == 401 and body["details"][0]["field"] == "TopicArn"
        status, body = await post(http, url, b'{"Type": "Notification"}')
        assert status == 400 and body["details"][0]["field"] == "MessageId"
        status, body = await post(http, url, json.dumps(fake.notification(TOPIC, "{}")).encode())
        assert status == 400 and body["details"][0]["field"] == "Message.mail"
        assert await suppressions(settings.database_url) == {}
        assert refused("ses") == before + 5

        # The AWS documentation's examples: a hard bounce, a complaint, a delivery.
        bounce = json.dumps(note("bounce-with-dsn")).encode()
        assert await post(http, url, bounce) == (
            200,
            {"accepted": 1, "suppressed": 1, "duplicates": 0},
        )
        assert await post(http, url, bounce) == (
            200,
            {"accepted": 1, "suppressed": 0, "duplicates": 1},
        )
        complaint = json.dumps(note("complaint-with-feedback")).encode()
        assert (await post(http, url, complaint))[1]["suppressed"] == 1
        delivery = json.dumps(note("delivery")).encode()
        assert await post(http, url, delivery) == (
            200,
            {"accepted": 0, "suppressed": 0, "duplicates": 0},
        )
    assert await suppressions(settings.database_url) == {
        "jane@example.com": "bounce",
        "richard@example.com": "complaint",
    }
    assert await feedback(settings.database_url) == {
        "jane@example.com": "hard",
        "richard@example.com": "complaint",
        "mary@example.com": None,
    }


async def test_sendgrid_events_act_only_when_signed_with_the_configured_key(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink, http: aiohttp.ClientSession
) -> None:
    signer, stranger = SendGridSigner(), SendGridSigner()
    settings = msgspec.structs.replace(settings, bounce_sendgrid_key=signer.public_key)
    events = (FIXTURES / "sendgrid" / "events.json").read_bytes()
    async with (
        running(build, settings, clock, settings.mailer_port) as base,
        nats(settings.nats_url) as nc,
    ):
        url = f"{base}/v1/bounces/sendgrid"
        await mailed(nc, settings.database_url, "example@test.com")
        status, body = await post(http, url, events)
        assert (
            status == 401
            and body["details"][0]["field"] == "X-Twilio-Email-Event-Webhook-Signature"
        )
        status, _ = await post(http, url, events, stranger.headers(events))
        assert status == 401
        status, _ = await post(
            http, url, events.replace(b"bounce", b"bounced"), signer.headers(events)
        )
        assert status == 401
        status, body = await post(
            http, url, b'[{"event": "bounce"}]', signer.headers(b'[{"event": "bounce"}]')
        )
        assert status == 400 and body["details"][0]["field"] == "[0].email"
        assert await suppressions(settings.database_url) == {}
        # SendGrid's sample post: a bounce (5.0.0) then a spam report of the same address.
        status, body = await post(http, url, events, signer.headers(events))
        assert (status, body) == (200, {"accepted": 2, "suppressed": 2, "duplicates": 0})
    assert await suppressions(settings.database_url) == {"example@test.com": "complaint"}


async def test_postmark_webhooks_need_the_configured_basic_auth(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink, http: aiohttp.ClientSession
) -> None:
    settings = msgspec.structs.replace(settings, bounce_postmark_auth="postmark:s3cret-pass")
    good = {"Authorization": "Basic " + base64.b64encode(b"postmark:s3cret-pass").decode()}
    bad = {"Authorization": "Basic " + base64.b64encode(b"postmark:guess").decode()}
    bounce = (FIXTURES / "postmark" / "bounce.json").read_bytes()
    async with (
        running(build, settings, clock, settings.mailer_port) as base,
        nats(settings.nats_url) as nc,
    ):
        url = f"{base}/v1/bounces/postmark"
        await mailed(nc, settings.database_url, "john@example.com")
        for headers in ({}, bad, {"Authorization": "Bearer s3cret-pass"}):
            status, body = await post(http, url, bounce, headers)
            assert status == 401 and body["details"][0]["field"] == "Authorization"
        status, body = await post(http, url, b'{"RecordType": "Bounce", "ID": 1}', good)
        assert status == 400 and body["details"][0]["field"] == "Email"
        assert await suppressions(settings.database_url) == {}
        assert await post(http, url, bounce, good) == (
            200,
            {"accepted": 1, "suppressed": 1, "duplicates": 0},
        )
        spam = (FIXTURES / "postmark" / "spam-complaint.json").read_bytes()
        assert (await post(http, url, spam, good))[1]["suppressed"] == 1
    assert await suppressions(settings.database_url) == {"john@example.com": "complaint"}


async def test_an_intake_not_configured_answers_404(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink, http: aiohttp.ClientSession
) -> None:
    async with running(build, settings, clock, settings.mailer_port) as base:
        for name in ("ses", "sendgrid", "postmark"):
            status, body = await post(http, f"{base}/v1/bounces/{name}", b"{}")
            assert status == 404 and "not configured" in body["error"]
