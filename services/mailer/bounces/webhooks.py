"""The HTTP webhooks of the relays: Amazon SES through SNS, SendGrid's Event Webhook, Postmark.

Each is off until its setting is given (404). A request is believed only when signed (SNS,
SendGrid: ECDSA over the timestamp and the body) or authenticated (Postmark: basic auth),
and each answers 200 only once every report in it is committed; a refusal is JSON naming the
field, and changes nothing.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import hmac
from collections.abc import AsyncIterator, Iterator

from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key

from services.mailer.bounces import intake, providers, sns
from services.mailer.bounces.smtpd import policy
from services.mailer.metrics import FEEDBACK
from shared.errors import AnshinError, NotFound, Unauthorized, field_error
from shared.http import POOL, json_response, read_body
from shared.service import CLOCK, SETTINGS

routes = web.RouteTableDef()
# Signed by the relay, no key to guess: the key throttle leaves these alone (Postmark's basic
# auth is a key, and stays behind the throttle).
PUBLIC = {("POST", "/v1/bounces/ses"), ("POST", "/v1/bounces/sendgrid")}
VERIFIER = web.AppKey("sns_verifier", sns.Verifier)
SENDGRID_SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
SENDGRID_TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"


@contextlib.asynccontextmanager
async def verifying(app: web.Application) -> AsyncIterator[None]:
    """A cleanup context holding the SNS verifier and its HTTP client."""
    app[VERIFIER] = sns.Verifier(app[SETTINGS])
    yield
    await app[VERIFIER].close()


async def _take(request: web.Request, name: str, events: list[providers.Event]) -> web.Response:
    counts = {"accepted": 0, "suppressed": 0, "duplicates": 0}
    for event_id, report in events:
        outcome = await intake.take(
            request.app[POOL],
            report,
            intake=name,
            event_id=event_id,
            now=request.app[CLOCK].now(),
            policy=policy(request.app[SETTINGS]),
        )
        counts["accepted"] += 1
        counts["suppressed"] += outcome is intake.Outcome.SUPPRESSED
        counts["duplicates"] += outcome is intake.Outcome.DUPLICATE
    return json_response(counts)


async def _body(request: web.Request) -> bytes:
    return await read_body(request, request.app[SETTINGS].bounce_max_bytes)


@routes.post("/v1/bounces/ses")
async def ses(request: web.Request) -> web.Response:
    """Amazon SES notifications through an SNS HTTPS subscription."""
    with _refusals("ses"):
        topics = {t.strip() for t in request.app[SETTINGS].bounce_ses_topics.split(",")} - {""}
        if not topics:
            raise NotFound("the SES webhook is not configured")
        message = sns.decode(await _body(request))
        if message.TopicArn not in topics:
            raise Unauthorized(
                "not a topic of this mailer", [field_error("TopicArn", "not a configured topic")]
            )
        await request.app[VERIFIER].verify(message)
        if message.Type == "SubscriptionConfirmation":
            await request.app[VERIFIER].confirm(message)
            return json_response({"confirmed": True})
        if message.Type == "UnsubscribeConfirmation":
            return json_response({"accepted": 0, "suppressed": 0, "duplicates": 0})
        events = providers.ses(message.Message, message.MessageId)
    return await _take(request, "ses", events)


@functools.cache
def _sendgrid_key(key_text: str) -> ec.EllipticCurvePublicKey:
    """The verification key SendGrid shows (base64 DER), read once rather than per request."""
    key = load_der_public_key(base64.b64decode(key_text))
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise TypeError("not an elliptic-curve key")
    return key


@routes.post("/v1/bounces/sendgrid")
async def sendgrid(request: web.Request) -> web.Response:
    """SendGrid's Event Webhook, with its signature verified."""
    with _refusals("sendgrid"):
        key_text = request.app[SETTINGS].bounce_sendgrid_key
        if not key_text:
            raise NotFound("the SendGrid webhook is not configured")
        body = await _body(request)
        signature = request.headers.get(SENDGRID_SIGNATURE, "")
        timestamp = request.headers.get(SENDGRID_TIMESTAMP, "")
        for header, value in ((SENDGRID_SIGNATURE, signature), (SENDGRID_TIMESTAMP, timestamp)):
            if not value:
                raise Unauthorized("not signed", [field_error(header, "missing")])
        try:
            key = _sendgrid_key(key_text)
            sig = base64.b64decode(signature, validate=True)
            key.verify(sig, timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        except (binascii.Error, ValueError, TypeError, InvalidSignature):
            raise Unauthorized(
                "the events are not signed by SendGrid",
                [field_error(SENDGRID_SIGNATURE, "does not verify with the configured key")],
            ) from None
        events = providers.sendgrid(body)
    return await _take(request, "sendgrid", events)


@routes.post("/v1/bounces/postmark")
async def postmark(request: web.Request) -> web.Response:
    """Postmark's bounce and spam-complaint webhooks, behind basic auth."""
    with _refusals("postmark"):
        expected = request.app[SETTINGS].bounce_postmark_auth
        if not expected:
            raise NotFound("the Postmark webhook is not configured")
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        try:
            credentials = base64.b64decode(given, validate=True)
        except binascii.Error:
            credentials = b""
        if scheme.lower() != "basic" or not hmac.compare_digest(credentials, expected.encode()):
            raise Unauthorized(
                "unknown credentials", [field_error("Authorization", "the webhook's basic auth")]
            )
        events = providers.postmark(await _body(request))
    return await _take(request, "postmark", events)


@contextlib.contextmanager
def _refusals(name: str) -> Iterator[None]:
    """Count what an intake refuses (a 4xx of bad, forged or unauthenticated input)."""
    try:
        yield
    except AnshinError as exc:
        if 400 <= exc.status < 500:
            FEEDBACK.labels(name, "refused").inc()
        raise
