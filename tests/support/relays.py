"""Relays' webhooks as the relays send them: SNS messages signed with a test key whose
certificate an HTTPS server of the test hands out, SendGrid's ECDSA signature, Postmark's
basic auth."""

from __future__ import annotations

import base64
import contextlib
import ssl
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from deploy.servers import free_port
from services.mailer.bounces import sns


def certificate(key: rsa.RSAPrivateKey, name: str) -> x509.Certificate:
    """A self-signed certificate for `name` (also valid for 127.0.0.1)."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


class FakeSns:
    """An HTTPS server on localhost serving an SNS signing certificate and confirmation URLs,
    and a signer of SNS messages with the certificate's key."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        tls_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        tls_cert = certificate(tls_key, "localhost")
        self.ca_file = folder / "sns-ca.pem"
        self.ca_file.write_bytes(_pem(tls_cert))
        key_file = folder / "sns-tls-key.pem"
        key_file.write_bytes(
            tls_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        self._tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._tls.load_cert_chain(self.ca_file, key_file)
        self._signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._signing_cert = _pem(certificate(self._signing_key, "sns.test"))
        self.confirmed: list[str] = []
        self.base = f"https://localhost:{self.port}"
        self.cert_url = f"{self.base}/SimpleNotificationService-test.pem"

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[FakeSns]:
        """Serve the certificate and the confirmation URLs while the block runs."""
        app = web.Application()

        async def cert(_: web.Request) -> web.Response:
            return web.Response(body=self._signing_cert)

        async def confirm(request: web.Request) -> web.Response:
            self.confirmed.append(request.query.get("Token", ""))
            return web.Response(text="<ConfirmSubscriptionResponse/>")

        app.router.add_get("/SimpleNotificationService-test.pem", cert)
        app.router.add_get("/confirm", confirm)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port, ssl_context=self._tls).start()
        try:
            yield self
        finally:
            await runner.cleanup()

    def sign(self, fields: dict[str, str]) -> dict[str, str]:
        """The message with SignatureVersion 2, its certificate URL and its signature."""
        fields = {"SignatureVersion": "2", "SigningCertURL": self.cert_url, **fields}
        message = sns.Message(**{**fields, "Signature": ""})  # type: ignore[arg-type]
        signature = self._signing_key.sign(
            sns.signed_text(message), padding.PKCS1v15(), hashes.SHA256()
        )
        return {**fields, "Signature": base64.b64encode(signature).decode()}

    def notification(self, topic: str, message: str) -> dict[str, str]:
        """A signed SNS notification carrying `message`, as SNS posts it."""
        return self.sign(
            {
                "Type": "Notification",
                "MessageId": str(uuid.uuid4()),
                "TopicArn": topic,
                "Subject": "Amazon SES Email Event Notification",
                "Message": message,
                "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            }
        )

    def subscription(self, topic: str) -> dict[str, str]:
        """A signed SubscriptionConfirmation whose SubscribeURL is this server's."""
        token = uuid.uuid4().hex
        return self.sign(
            {
                "Type": "SubscriptionConfirmation",
                "MessageId": str(uuid.uuid4()),
                "TopicArn": topic,
                "Token": token,
                "Message": f"You have chosen to subscribe to the topic {topic}.",
                "SubscribeURL": f"{self.base}/confirm?Action=ConfirmSubscription&Token={token}",
                "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            }
        )


class SendGridSigner:
    """Signs Event Webhook posts as SendGrid does: ECDSA P-256 over timestamp + body."""

    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        der = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public_key = base64.b64encode(der).decode()  # as SendGrid shows it

    def headers(self, body: bytes, timestamp: str = "1513299569") -> dict[str, str]:
        """The signature headers of a post."""
        signature = self._key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
            "Content-Type": "application/json",
        }
