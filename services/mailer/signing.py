"""DKIM signatures (dkimpy), when a selector and a private key are configured."""

from __future__ import annotations

from pathlib import Path

import dkim

from shared.config import Settings

# The headers a receiver must trust unchanged; List-Unsubscribe-Post must be signed for
# RFC 8058 one-click to be honoured.
SIGNED = [
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"list-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"mime-version",
    b"content-type",
]


class Signer:
    """Prepends a DKIM-Signature to wire bytes."""

    def __init__(self, selector: str, domain: str, private_key: bytes) -> None:
        self.selector = selector.encode()
        self.domain = domain.encode()
        self._key = private_key

    def sign(self, raw: bytes) -> bytes:
        """Return the message with its DKIM-Signature header first."""
        header: bytes = dkim.sign(
            raw, self.selector, self.domain, self._key, include_headers=SIGNED
        )
        return header + raw


def from_settings(settings: Settings, sender_domain: str) -> Signer | None:
    """A signer when ANSHIN_DKIM_SELECTOR and ANSHIN_DKIM_KEY_FILE are set; None otherwise."""
    if not (settings.dkim_selector and settings.dkim_key_file):
        return None
    key = Path(settings.dkim_key_file).read_bytes()
    return Signer(settings.dkim_selector, settings.dkim_domain or sender_domain, key)
