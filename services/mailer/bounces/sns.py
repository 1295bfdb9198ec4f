"""Amazon SNS messages, believed only when signed: the signature is checked against the
certificate named by `SigningCertURL`, which is fetched only over HTTPS from a host of the
allowlist (ANSHIN_BOUNCE_SNS_CERT_HOSTS, `sns.*.amazonaws.com` by default: a bare
`*.amazonaws.com` would take a certificate from anyone's S3 bucket), and only from a topic
the settings name (a signed message of someone else's topic is genuine, and not ours).
docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html
"""

from __future__ import annotations

import base64
import binascii
import re
import ssl
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import urlsplit

import aiohttp
import msgspec
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from shared.config import Settings
from shared.errors import AnshinError, Forbidden, Invalid, field_error
from shared.http import validation_details

MAX_CERT_BYTES = 16 * 1024
TIMEOUT = aiohttp.ClientTimeout(total=10)


class Unavailable(AnshinError):
    """A certificate or a confirmation URL could not be fetched: SNS will retry."""

    status = 503


class Message(msgspec.Struct, frozen=True):
    """An SNS message as posted to an HTTPS subscription."""

    Type: Literal["Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"]
    MessageId: str
    TopicArn: str
    Message: str
    Timestamp: str
    SignatureVersion: Literal["1", "2"]
    Signature: str
    SigningCertURL: str
    Subject: str | None = None
    SubscribeURL: str = ""
    Token: str = ""


def decode(body: bytes) -> Message:
    """The message, or Invalid naming the field."""
    try:
        return msgspec.json.decode(body, type=Message)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise Invalid("not an SNS message", validation_details(exc)) from exc


def signed_text(m: Message) -> bytes:
    """What SNS signs: named fields, each as its name and value on lines of their own."""
    if m.Type == "Notification":
        names = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        names = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    lines = []
    for name in names:
        value = getattr(m, name)
        if name == "Subject" and value is None:
            continue
        lines += [name, value]
    return ("\n".join(lines) + "\n").encode()


def check_signature(cert: x509.Certificate, m: Message) -> None:
    """Return if the certificate's key signed the message; raise Forbidden otherwise."""
    key = cert.public_key()
    try:
        signature = base64.b64decode(m.Signature, validate=True)
        if not isinstance(key, rsa.RSAPublicKey):
            raise InvalidSignature
        # SignatureVersion 1 is SHA1withRSA, as SNS defines it; 2 is SHA256withRSA.
        digest: hashes.HashAlgorithm = (
            hashes.SHA1() if m.SignatureVersion == "1" else hashes.SHA256()
        )
        key.verify(signature, signed_text(m), padding.PKCS1v15(), digest)
    except (binascii.Error, ValueError, InvalidSignature):
        raise Forbidden(
            "the message is not signed by SNS",
            [field_error("Signature", "does not verify with the signing certificate")],
        ) from None


def allowed(hosts: re.Pattern[str], url: str) -> bool:
    """Whether a URL is HTTPS, without credentials, on a host the pattern allows."""
    parts = urlsplit(url)
    return (
        parts.scheme == "https"
        and parts.username is None
        and hosts.fullmatch((parts.hostname or "").lower()) is not None
    )


def host_pattern(entries: str) -> re.Pattern[str]:
    # `*` stands for one DNS label: sns.*.amazonaws.com is sns.<region>.amazonaws.com.
    hosts = [e.strip().lower() for e in entries.split(",") if e.strip()]
    alternatives = [re.escape(h).replace(r"\*", "[a-z0-9-]+") for h in hosts]
    return re.compile("|".join(alternatives) or "(?!)")


class Verifier:
    """Checks SNS signatures; fetches and keeps the signing certificates it may trust."""

    def __init__(self, settings: Settings) -> None:
        self._hosts = host_pattern(settings.bounce_sns_cert_hosts)
        context = ssl.create_default_context()
        if settings.bounce_sns_ca_file:  # trusted beyond the system's CAs
            context.load_verify_locations(cafile=settings.bounce_sns_ca_file)
        self._session = aiohttp.ClientSession(
            timeout=TIMEOUT, connector=aiohttp.TCPConnector(ssl=context)
        )
        self._certs: dict[str, x509.Certificate] = {}

    async def close(self) -> None:
        """Close the HTTP client."""
        await self._session.close()

    def allowed(self, url: str) -> bool:
        """Whether a URL is HTTPS on an allowed host."""
        return allowed(self._hosts, url)

    async def verify(self, m: Message) -> None:
        """Return if SNS signed the message; raise Forbidden (or Unavailable) otherwise."""
        url = m.SigningCertURL
        if not self.allowed(url) or not urlsplit(url).path.endswith(".pem"):
            raise Forbidden(
                "the signing certificate is not SNS's",
                [field_error("SigningCertURL", "an https URL of an allowed SNS host, of a .pem")],
            )
        check_signature(await self._certificate(url), m)

    async def confirm(self, m: Message) -> None:
        """Confirm a subscription by visiting its SubscribeURL (an allowed host only)."""
        if not self.allowed(m.SubscribeURL):
            raise Forbidden(
                "the subscription URL is not SNS's",
                [field_error("SubscribeURL", "an https URL of an allowed SNS host")],
            )
        try:
            async with self._session.get(m.SubscribeURL, allow_redirects=False) as answer:
                if answer.status != 200:
                    raise Unavailable(f"SNS answered {answer.status} to the confirmation")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise Unavailable(f"could not confirm the subscription: {exc}") from exc

    async def _certificate(self, url: str) -> x509.Certificate:
        cert = self._certs.get(url)
        if cert is None:
            try:
                async with self._session.get(url, allow_redirects=False) as answer:
                    if answer.status != 200:
                        raise Unavailable(f"the signing certificate answered {answer.status}")
                    pem = await answer.content.read(MAX_CERT_BYTES + 1)
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise Unavailable(f"could not fetch the signing certificate: {exc}") from exc
            try:
                if len(pem) > MAX_CERT_BYTES:
                    raise ValueError("too large")
                cert = x509.load_pem_x509_certificate(pem)
            except ValueError:
                raise Forbidden(
                    "the signing certificate cannot be read",
                    [field_error("SigningCertURL", "not a PEM certificate")],
                ) from None
            if len(self._certs) >= 16:  # SNS signs with a handful; a flood gains nothing
                self._certs.clear()
            self._certs[url] = cert
        now = datetime.now(UTC)
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            raise Forbidden(
                "the signing certificate has expired",
                [field_error("SigningCertURL", "outside its validity")],
            )
        return cert
