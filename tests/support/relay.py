"""A relay as real ones are, for tests: aiosmtpd with STARTTLS or implicit TLS, and AUTH.

The certificates are made here with `cryptography`: a CA of the test's own and a server
certificate it signed, for `localhost` and 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.support.smtp import SmtpSink


class Certificates(msgspec.Struct, frozen=True):
    """A CA file for the client, and the server's certificate chain and key."""

    ca: Path
    chain: Path
    key: Path


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_certificates(
    folder: Path, hosts: tuple[str, ...] = ("localhost",), *, loopback: bool = True
) -> Certificates:
    """A fresh CA and a server certificate it signed for `hosts` (and 127.0.0.1)."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Anshin test CA"))
        .issuer_name(_name("Anshin test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName(h) for h in hosts]
    if loopback:
        names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name(hosts[0]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    found = Certificates(folder / "ca.pem", folder / "relay.pem", folder / "relay.key")
    found.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    found.chain.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    found.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return found


class Login(msgspec.Struct, frozen=True):
    """One AUTH the relay heard."""

    login: str
    accepted: bool
    encrypted: bool


def _encrypted(server: SMTP) -> bool:
    transport = server.transport
    return transport is not None and transport.get_extra_info("ssl_object") is not None


class TlsRelay(SmtpSink):
    """An SMTP sink that speaks TLS (STARTTLS, or `implicit` from the first byte) and AUTH.

    With `users`, MAIL is refused until a user logged in; without, no AUTH is offered.
    `encrypted` records, for each accepted message, whether its connection was encrypted.
    """

    def __init__(
        self,
        certificates: Certificates | None,
        *,
        users: dict[str, str] | None = None,
        implicit: bool = False,
        auth_in_clear: bool = False,  # offer AUTH without TLS, as a careless relay would
    ) -> None:
        super().__init__()
        self.users = users or {}
        self.implicit, self.auth_in_clear = implicit, auth_in_clear
        self.context: ssl.SSLContext | None = None
        if certificates is not None:
            self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.context.load_cert_chain(certificates.chain, certificates.key)
        self.logins: list[Login] = []
        self.encrypted: list[bool] = []

    async def start(self) -> None:
        """Listen on loopback, with TLS from the first byte when `implicit`."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._protocol, "127.0.0.1", self.port, ssl=self.context if self.implicit else None
        )

    def _protocol(self) -> SMTP:
        return SMTP(
            self,
            hostname="relay.test",
            tls_context=None if self.implicit else self.context,
            authenticator=self._authenticate,
            # aiosmtpd knows no implicit TLS: it takes that connection for one in clear
            auth_require_tls=not (self.implicit or self.auth_in_clear),
        )

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: object
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        login, password = data.login.decode(), data.password.decode()
        accepted = login in self.users and self.users[login] == password
        self.logins.append(Login(login, accepted, _encrypted(server)))
        return AuthResult(success=accepted, handled=False)  # aiosmtpd answers 535 itself

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, lines: list[str]
    ) -> list[str]:
        """The server's extensions, AUTH left out where no user is set."""
        session.host_name = hostname
        return [line for line in lines if self.users or not line.startswith("250-AUTH")]

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        """Refuse mail from a client that has not logged in, where users are set."""
        if self.users and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Keep the message, and whether it came encrypted."""
        answer = await super().handle_DATA(server, session, envelope)
        if answer.startswith("250"):
            self.encrypted.append(_encrypted(server))
        return answer
