"""How the mailer reaches its relay: TLS (STARTTLS or implicit), the certificate checked, AUTH.

A connection is opened in stages, each named in the answer of a mail that fails there:
`connect` (the greeting; the handshake too with implicit TLS), `helo`, `tls` (STARTTLS and
its handshake), `auth`. A failure at any of them is the relay's, never a recipient's: the
mail is retried and the relay's breaker counts it (`paths.py`). Nothing falls back to less
security: a certificate that does not verify, a STARTTLS that fails, or a relay that offers
no STARTTLS when it is required stops the connection; a password is never sent in clear.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import aiosmtplib
import msgspec

from shared.config import Settings, env_name

Tls = Literal["opportunistic", "starttls", "implicit"]
IMPLICIT_PORT = 465  # submissions (RFC 8314): TLS from the first byte

# The codes of a relay unfit for what the settings ask (no SMTP reply gave them); a breaker
# counts them like reply codes, and the alert names them.
NO_STARTTLS = "no starttls"
NO_AUTH = "no auth"
CLEAR_AUTH = "auth in clear"
TLS_FAILED = "tls failed"


class Relay(msgspec.Struct, frozen=True, kw_only=True):
    """Where and how the mailer hands its mail over."""

    host: str
    port: int
    tls: Tls = "opportunistic"
    username: str = ""
    password: str = ""
    ca_file: str = ""  # trusted CA certificates (PEM); empty: the system's
    timeout: float = 30.0

    def __repr__(self) -> str:  # never the password, in a log line or a traceback
        return (
            f"Relay(host={self.host!r}, port={self.port}, tls={self.tls!r},"
            f" username={self.username!r}, ca_file={self.ca_file!r})"
        )

    @property
    def implicit(self) -> bool:
        """Whether TLS starts with the connection (ANSHIN_SMTP_TLS=implicit, or port 465)."""
        return self.tls == "implicit" or (
            self.tls == "opportunistic" and self.port == IMPLICIT_PORT
        )


class Unfit(Exception):
    """The relay cannot be used as configured: `code` names why (NO_STARTTLS, …)."""

    def __init__(self, code: str, why: str) -> None:
        super().__init__(why)
        self.code = code


def from_settings(settings: Settings) -> Relay:
    """The relay of the settings; the password read from its file where one is named."""
    password = settings.smtp_password
    if settings.smtp_password_file:
        try:
            password = Path(settings.smtp_password_file).read_text().strip()
        except OSError as exc:
            raise SystemExit(f"{env_name('smtp_password_file')}: {exc}") from None
    if password and not settings.smtp_username:
        raise SystemExit(f"an SMTP password is set but {env_name('smtp_username')} is empty")
    return Relay(
        host=settings.smtp_host,
        port=settings.smtp_port,
        tls=settings.smtp_tls,
        username=settings.smtp_username,
        password=password,
        ca_file=settings.smtp_ca_file,
    )


def tls_context(relay: Relay) -> ssl.SSLContext:
    """A client context that verifies the relay's certificate and host name."""
    try:
        return ssl.create_default_context(cafile=relay.ca_file or None)
    except (OSError, ssl.SSLError) as exc:
        raise SystemExit(f"{env_name('smtp_ca_file')}: {exc}") from None


async def connect(
    relay: Relay, context: ssl.SSLContext, stage: Callable[[str], None]
) -> aiosmtplib.SMTP:
    """A connection ready for MAIL: greeted, encrypted as configured, logged in.

    `stage` hears each stage as it begins. Raises aiosmtplib's errors, OSError or Unfit;
    the connection is closed then, so that none is ever reused half set up.
    """
    smtp = aiosmtplib.SMTP(
        hostname=relay.host,
        port=relay.port,
        timeout=relay.timeout,
        use_tls=relay.implicit,
        start_tls=False,  # decided below, after EHLO, so that each stage is named
        tls_context=context,
    )
    try:
        stage("connect")
        try:
            await smtp.connect()
        except aiosmtplib.SMTPConnectError as exc:
            if isinstance(exc.__cause__, ssl.SSLError):
                raise Unfit(TLS_FAILED, f"TLS with the relay failed: {exc.__cause__}") from exc
            raise
        await _hello(smtp, stage)
        if not relay.implicit:
            await _starttls(smtp, relay, stage)
        if relay.username:
            await _login(smtp, relay, stage)
    except BaseException:
        smtp.close()
        raise
    return smtp


async def _hello(smtp: aiosmtplib.SMTP, stage: Callable[[str], None]) -> None:
    """EHLO, so that the next step knows the server's extensions; HELO for an old server."""
    stage("helo")
    try:
        await smtp.ehlo()
    except aiosmtplib.SMTPHeloError:
        await smtp.helo()


async def _starttls(smtp: aiosmtplib.SMTP, relay: Relay, stage: Callable[[str], None]) -> None:
    """STARTTLS when the relay offers it; required with ANSHIN_SMTP_TLS=starttls."""
    stage("tls")
    if not smtp.supports_extension("starttls"):
        if relay.tls == "starttls":
            raise Unfit(NO_STARTTLS, f"the relay offers no STARTTLS and {env_name('smtp_tls')}"
                        " is starttls: nothing sent in clear")  # fmt: skip
        return
    try:
        await smtp.starttls()
    except ssl.SSLError as exc:
        raise Unfit(TLS_FAILED, f"STARTTLS with the relay failed: {exc}") from exc
    await _hello(smtp, stage)  # RFC 3207: what the server said before TLS is forgotten


async def _login(smtp: aiosmtplib.SMTP, relay: Relay, stage: Callable[[str], None]) -> None:
    """AUTH, only over an encrypted connection."""
    stage("auth")
    if smtp.get_transport_info("sslcontext") is None:
        raise Unfit(CLEAR_AUTH, "not logging in to the relay: the connection is not encrypted"
                    " (it offered no STARTTLS); the password is never sent in clear")  # fmt: skip
    if not smtp.supports_extension("auth"):
        raise Unfit(NO_AUTH, "the relay offers no AUTH, and a username is set")
    await smtp.login(relay.username, relay.password)
