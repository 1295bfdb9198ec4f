"""DKIM signatures: dkimpy's canonicalization and header hashing, signed through OpenSSL.

dkimpy signs RSA in pure Python (about 7 ms a mail for RSA-2048); `cryptography` signs the
same digest through OpenSSL in about 0.3 ms. Everything else of a signature (the relaxed/simple
canonicalization, which headers are hashed and in what order, folding, the b= tag left out of
the hash) is dkimpy's, so a signature here is byte for byte what `dkim.sign` would produce for
the same time stamp. A second key signs beside the first: Ed25519 (RFC 8463) for receivers
that verify it, RSA for those that do not.
"""

from __future__ import annotations

import base64
import hashlib
import time
from pathlib import Path

import dkim
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from dkim.canonicalization import CanonicalizationPolicy

from shared.config import Settings, env_name

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
# Relaxed headers survive a relay's refolding; a simple body, since ours is base64 already.
CANONICAL = CanonicalizationPolicy.from_c_value(b"relaxed/simple")
_PKCS1 = padding.PKCS1v15()
_SHA256 = Prehashed(hashes.SHA256())

Key = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


class Selector:
    """One key and the selector that publishes its public half."""

    def __init__(self, name: str, key: Key) -> None:
        self.name = name.encode()
        self.key = key
        self.algorithm = (
            b"ed25519-sha256" if isinstance(key, ed25519.Ed25519PrivateKey) else b"rsa-sha256"
        )

    def sign(self, digest: bytes) -> bytes:
        """The signature of a SHA-256 digest (RFC 8463 signs the digest with pure Ed25519)."""
        if isinstance(self.key, ed25519.Ed25519PrivateKey):
            return self.key.sign(digest)
        return self.key.sign(digest, _PKCS1, _SHA256)


def load_key(path: str, setting: str) -> Key:
    """A PEM private key (PKCS#1 or PKCS#8), RSA or Ed25519; anything else stops the start."""
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise SystemExit(f"{env_name(setting)}: {exc}") from None
    if not isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        raise SystemExit(f"{env_name(setting)}: a DKIM key is RSA or Ed25519")
    if isinstance(key, rsa.RSAPrivateKey) and key.key_size < 1024:
        raise SystemExit(f"{env_name(setting)}: RSA keys under 1024 bits are refused (RFC 8301)")
    return key


class Signer:
    """Prepends a DKIM-Signature per selector to wire bytes."""

    def __init__(self, domain: str, selectors: list[Selector]) -> None:
        self.domain = domain.encode()
        self.selectors = selectors
        self._h = b" : ".join(SIGNED)

    def sign(self, raw: bytes, now: float | None = None) -> bytes:
        """Return the message with its DKIM-Signature headers first."""
        headers, body = _parse(raw)
        canonical = CANONICAL.canonicalize_headers(headers)
        body_hash = base64.b64encode(hashlib.sha256(CANONICAL.canonicalize_body(body)).digest())
        stamp = str(int(time.time() if now is None else now)).encode()
        return (
            b"".join(self._signature(s, canonical, body_hash, stamp) for s in self.selectors) + raw
        )

    def _signature(
        self,
        selector: Selector,
        headers: list[tuple[bytes, bytes]],
        body_hash: bytes,
        stamp: bytes,
    ) -> bytes:
        """One DKIM-Signature header, as dkimpy's `DKIM.sign` and `gen_header` build it."""
        fields = [
            (b"v", b"1"),
            (b"a", selector.algorithm),
            (b"c", CANONICAL.to_c_value()),
            (b"d", self.domain),
            (b"i", b"@" + self.domain),
            (b"q", b"dns/txt"),
            (b"s", selector.name),
            (b"t", stamp),
            (b"h", self._h),
            (b"bh", body_hash),
            (b"b", b"0" * 60),  # folds b= onto a line of its own, as dkimpy does
        ]
        name = b"DKIM-Signature"
        unsigned = dkim.fold(b"; ".join(b"=".join(f) for f in fields), namelen=len(name))
        unsigned = dkim.RE_BTAG.sub(b"\\1", unsigned)
        hasher = dkim.HashThrough(hashlib.sha256())
        dkim.hash_headers(hasher, CANONICAL, headers, SIGNED, (name, b" " + unsigned), None)
        fields[-1] = (b"b", base64.b64encode(selector.sign(hasher.digest())))
        value = b"; ".join(b"=".join(f) for f in fields) + b"\r\n"
        folded: bytes = dkim.fold(value, namelen=len(name))
        return name + b": " + folded


def _parse(raw: bytes) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """(headers, body) as `dkim.rfc822_parse` reads them.

    It splits the whole message into lines, the base64 body too: a third of a signature's
    cost besides the RSA. A composed mail has CRLF line ends only, so its body is the bytes
    after the blank line as they are; anything else goes through dkimpy whole.
    """
    head, blank, body = raw.partition(b"\r\n\r\n")
    if not blank or raw.count(b"\n") != raw.count(b"\r\n"):
        parsed: tuple[list[tuple[bytes, bytes]], bytes] = dkim.rfc822_parse(raw)
        return parsed
    headers, _ = dkim.rfc822_parse(head + blank)
    return headers, body


def from_settings(settings: Settings, sender_domain: str) -> Signer | None:
    """A signer for each configured selector and key; None when none is configured."""
    selectors = []
    for selector, key_file in (
        ("dkim_selector", "dkim_key_file"),
        ("dkim_ed25519_selector", "dkim_ed25519_key_file"),
    ):
        name, path = getattr(settings, selector), getattr(settings, key_file)
        if bool(name) != bool(path):
            raise SystemExit(f"{env_name(selector)} and {env_name(key_file)} go together")
        if name:
            selectors.append(Selector(name, load_key(path, key_file)))
    if not selectors:
        return None
    return Signer(settings.dkim_domain or sender_domain, selectors)
