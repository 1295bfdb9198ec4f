"""MIME composed by hand must read back as the email package would have written it."""

from __future__ import annotations

import email
import email.policy

import msgspec
import pytest

from shared.mail import mime
from shared.mail.render import Delivery, compose, digest_id
from tests.support.parts import part_text


def test_headers_are_encoded_folded_and_read_back() -> None:
    subject = "モバイルバッテリーの安全な使い方について、製品安全研究所からの大切なお知らせ"
    headers = [
        ("From", mime.address("安心 Safety", "safety@shop.example")),
        ("To", mime.address('Doe, "J"', "j@example.com")),
        ("Subject", mime.header_value(subject)),
        ("X-Evil", mime.header_value("a\r\nBcc: victim@example.com")),
    ]
    raw = mime.alternative(headers, "text é\nline two", "<p>html</p>")
    lines = raw.split(b"\r\n")
    assert all(len(line) <= 78 for line in lines)
    assert not any(line.startswith(b"Bcc:") for line in lines)  # no header injection
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Subject"] == subject
    assert msg["From"].addresses[0].display_name == "安心 Safety"
    assert msg["To"].addresses[0].display_name == 'Doe, "J"'
    # Text travels in canonical form, CRLF line ends inside the base64.
    assert part_text(msg, "plain") == "text é\r\nline two"
    assert part_text(msg, "html") == "<p>html</p>"


def test_long_bodies_travel_in_base64_lines_of_76_characters() -> None:
    for text in ("é" * 1000, "日本語\n" * 400, "x" * 57, "y" * 58):
        raw = mime.alternative([("Subject", "s")], text, f"<p>{text}</p>")
        body_lines = [line for line in raw.split(b"\r\n") if line and b":" not in line]
        assert body_lines and all(len(line) <= 76 for line in body_lines)
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert part_text(msg, "plain") == text.replace("\n", "\r\n")
        assert part_text(msg, "html") == f"<p>{text}</p>".replace("\n", "\r\n")


def test_a_word_is_never_cut_inside_a_character() -> None:
    for text in ("é" * 100, "日本語" * 40, "a" + "😀" * 30):
        encoded = mime.header_value(text)
        assert str(email.header.make_header(email.header.decode_header(encoded))) == text


def _delivery(advisory_id: str, kind: str) -> Delivery:
    return Delivery(
        advisory_id=advisory_id,
        customer_id="c-1",
        email="c1@example.fr",
        name="Jeanne",
        locale="fr-FR",
        agency_name="Institut",
        title={"en": f"T {advisory_id}", "fr": f"Titre {advisory_id}"},
        body={"en": "B", "fr": "Premier paragraphe.\n\nSecond paragraphe."},
        source_url="",
        purchases=[{"order_id": "A-1", "sku": "S-1", "title": "Radiateur"}],
        kind=kind,
        page_url=f"https://shop.example/safety/{advisory_id}",
    )


def test_a_digest_carries_every_advisory_with_its_reason_and_link() -> None:
    deliveries = [_delivery("a1", "long_term"), _delivery("a2", "combination")]
    mid, raw = compose(deliveries, sender="s@shop.example", unsubscribe_url="u", list_id="l")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert mid == digest_id(["a2", "a1"], "c-1", "shop.example") == msg["Message-ID"]
    assert msg["Subject"] == "2 messages de sécurité concernant vos achats"
    assert msg["X-Anshin-Advisory"] == "a1,a2"
    text = part_text(msg, "plain").replace("\r\n", "\n")
    for a in ("a1", "a2"):
        assert f"Titre {a}" in text and f"https://shop.example/safety/{a}" in text
    assert "avec l'âge" in text and "dangereux ensemble" in text
    assert "> Premier paragraphe.\n>\n> Second paragraphe." in text
    assert "Radiateur (commande A-1)" in text


def test_compose_refuses_a_header_that_holds_a_control_character() -> None:
    # A name that slipped past ingest (stored before names were cleaned, say) must never
    # become a header of the sender's choosing: the mail is refused, naming the header.
    hostile = msgspec.structs.replace(_delivery("a1", "short_term"), name="A\r\nReply-To: x@evil")
    with pytest.raises(mime.UnsafeHeader, match=r"To header holds a control character \(U\+000D\)"):
        compose([hostile], sender="s@shop.example", unsubscribe_url="u", list_id="l")
    belled = msgspec.structs.replace(_delivery("a1", "short_term"), title={"fr": "Alerte\x07"})
    with pytest.raises(mime.UnsafeHeader, match=r"Subject header .* \(U\+0007\)"):
        compose([belled], sender="s@shop.example", unsubscribe_url="u", list_id="l")
