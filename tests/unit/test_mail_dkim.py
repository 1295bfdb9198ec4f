"""DKIM through OpenSSL: the very signature dkimpy makes, each one verified by dkimpy against
its published key, Ed25519 beside RSA (RFC 8463)."""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Callable
from pathlib import Path

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from services.mailer import signing
from shared import config

MAIL = (
    b"From: =?utf-8?b?5a6J5b+D?= <safety@anshin.example>\r\n"
    b"To: Hanako <hanako@example.jp>\r\n"
    b"Subject: Using your power bank safely\r\n"
    b"Date: Mon, 01 Jan 2024 07:10:00 +0000\r\n"
    b"Message-ID: <adv-1.abc@anshin.example>\r\n"
    b"List-Unsubscribe: <https://safety.example/u/t>\r\n"
    b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n"
    b"SGFuYWtvLCBuZXZlciBjaGFyZ2UgaXQgdW5hdHRlbmRlZC4=\r\n"
)
RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ED = ed25519.Ed25519PrivateKey.generate()


def _pem(key: signing.Key | ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _records() -> dict[bytes, bytes]:
    """The DNS TXT records that publish both public keys (RFC 6376, RFC 8463)."""
    der = RSA.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    raw = ED.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {
        b"rsa1._domainkey.anshin.example.": b"v=DKIM1; k=rsa; p=" + base64.b64encode(der),
        b"ed1._domainkey.anshin.example.": b"v=DKIM1; k=ed25519; p=" + base64.b64encode(raw),
    }


def _dns(lookups: list[bytes]) -> Callable[..., bytes]:
    records = _records()

    def answer(name: bytes, timeout: int = 5) -> bytes:
        lookups.append(name)
        return records.get(name, b"")

    return answer


def _passes(message: bytes, index: int) -> bool:
    """Whether signature `index` verifies; dkimpy raises for some failures."""
    try:
        return bool(dkim.DKIM(message).verify(idx=index, dnsfunc=_dns([])))
    except dkim.DKIMException:
        return False


def _verified(message: bytes, count: int) -> list[bytes]:
    """Verify each of the `count` signatures with dkimpy; return the names looked up."""
    lookups: list[bytes] = []
    verifier = dkim.DKIM(message)
    for index in range(count):
        assert verifier.verify(idx=index, dnsfunc=_dns(lookups)), f"signature {index}"
    assert not verifier.verify(idx=count, dnsfunc=_dns(lookups)), "no further signature"
    return lookups


def test_the_signature_is_the_one_dkimpy_makes(monkeypatch: pytest.MonkeyPatch) -> None:
    # PKCS#1 v1.5 is deterministic: OpenSSL's signature must equal dkimpy's pure-Python one.
    monkeypatch.setattr(dkim.time, "time", lambda: 1_704_093_000.0)
    ours = signing.Signer("anshin.example", [signing.Selector("rsa1", RSA)]).sign(
        MAIL, now=1_704_093_000
    )
    theirs = dkim.sign(MAIL, b"rsa1", b"anshin.example", _pem(RSA), include_headers=signing.SIGNED)
    assert ours == theirs + MAIL
    assert _verified(ours, 1) == [b"rsa1._domainkey.anshin.example."]
    # A message with a bare LF in its body is read as dkimpy reads it, whole.
    bare = MAIL + b"a line of another system\n"
    ours = signing.Signer("anshin.example", [signing.Selector("rsa1", RSA)]).sign(
        bare, now=1_704_093_000
    )
    theirs = dkim.sign(bare, b"rsa1", b"anshin.example", _pem(RSA), include_headers=signing.SIGNED)
    assert ours == theirs + bare


def test_ed25519_beside_rsa_each_verifies_against_its_published_key() -> None:
    signer = signing.Signer(
        "anshin.example", [signing.Selector("rsa1", RSA), signing.Selector("ed1", ED)]
    )
    signed = signer.sign(MAIL)
    assert signed.count(b"DKIM-Signature:") == 2 and signed.endswith(MAIL)
    assert b"a=ed25519-sha256" in signed and b"a=rsa-sha256" in signed
    assert sorted(_verified(signed, 2)) == sorted(_records())
    # Any change to a signed header or the body breaks both.
    for forged in (
        signed.replace(b"Subject: Using", b"Subject: Stop using"),
        signed.replace(b"SGFuYWtv", b"SGFuYWtP"),
        signed.replace(b"hanako@example.jp", b"taro@example.jp"),
    ):
        assert not any(_passes(forged, i) for i in range(2))


def test_keys_from_settings(tmp_path: Path) -> None:
    (tmp_path / "rsa.pem").write_bytes(_pem(RSA))
    (tmp_path / "ed.pem").write_bytes(_pem(ED))
    settings = config.load(
        {
            "ANSHIN_DKIM_SELECTOR": "rsa1",
            "ANSHIN_DKIM_KEY_FILE": str(tmp_path / "rsa.pem"),
            "ANSHIN_DKIM_ED25519_SELECTOR": "ed1",
            "ANSHIN_DKIM_ED25519_KEY_FILE": str(tmp_path / "ed.pem"),
        }
    )
    signer = signing.from_settings(settings, "anshin.example")
    assert signer is not None
    assert [s.algorithm for s in signer.selectors] == [b"rsa-sha256", b"ed25519-sha256"]
    assert sorted(_verified(signer.sign(MAIL), 2)) == sorted(_records())
    assert signing.from_settings(config.load({}), "anshin.example") is None


def test_bad_keys_stop_the_start_naming_the_setting(tmp_path: Path) -> None:
    small = subprocess.run(["openssl", "genrsa", "512"], check=True, capture_output=True).stdout
    cases = {
        "ec.pem": (_pem(ec.generate_private_key(ec.SECP256R1())), "RSA or Ed25519"),
        "small.pem": (small, "under 1024 bits"),
        "junk.pem": (b"-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n", ""),
    }
    for name, (pem, why) in cases.items():
        (tmp_path / name).write_bytes(pem)
        env = {"ANSHIN_DKIM_SELECTOR": "s1", "ANSHIN_DKIM_KEY_FILE": str(tmp_path / name)}
        with pytest.raises(SystemExit, match=f"ANSHIN_DKIM_KEY_FILE: .*{why}"):
            signing.from_settings(config.load(env), "anshin.example")
    with pytest.raises(SystemExit, match="ANSHIN_DKIM_ED25519_KEY_FILE"):
        signing.from_settings(
            config.load({"ANSHIN_DKIM_ED25519_SELECTOR": "ed1"}), "anshin.example"
        )
