"""Anshin's evidence key: Ed25519, derived from the secret setting, its public half published."""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from shared.config import Settings

WELL_KNOWN = "/.well-known/anshin-evidence-key"


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The key of `ANSHIN_EVIDENCE_KEY` (any strong secret: its SHA-256 is the Ed25519 seed);
    where it is empty, development's: derived from the secret key (production refuses it)."""
    material = settings.evidence_key or f"development\0{settings.secret_key}"
    seed = hashlib.sha256(f"anshin-evidence-key\0{material}".encode()).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_pem(key: Ed25519PublicKey) -> bytes:
    """The public key as PEM (SubjectPublicKeyInfo), as OpenSSL and every library read it."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_id(key: Ed25519PublicKey) -> str:
    """A short name of a public key: the first 16 hex digits of the SHA-256 of its raw bytes."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def load_public(pem: bytes) -> Ed25519PublicKey:
    """A published evidence key; ValueError if it is not an Ed25519 public key in PEM."""
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key
