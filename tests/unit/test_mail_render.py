"""Rendering a mail: language, multipart, headers, escaping; unsubscribe tokens."""

from __future__ import annotations

import msgspec

from services.mailer import tokens
from shared.mail.i18n import language_for, pick
from shared.mail.render import Delivery, message_id, render
from tests.support.parts import part_text


def _delivery(locale: str = "ja-JP", body: str = "充電中は目を離さないでください。") -> Delivery:
    return Delivery(
        advisory_id="adv_1",
        customer_id="c-42",
        email="hanako@example.jp",
        name="花子",
        locale=locale,
        agency_name="製品安全研究所",
        title={"ja": "モバイルバッテリーの安全な使い方", "en": "Using your power bank safely"},
        body={"ja": body, "en": "Never charge it unattended."},
        source_url="https://agency.example/pb",
        purchases=[
            {
                "channel": "web",
                "order_id": "A-1",
                "sku": "PB-1",
                "title": "Power bank",
                "placed_at": "2026-11-01T00:00:00Z",
            }
        ],
    )


def test_language_follows_the_locale_with_english_fallback() -> None:
    assert language_for("ja-JP") == "ja"
    assert language_for("fr_CA") == "fr"
    assert language_for("de-DE") == "en"
    assert pick({"en": "E", "ja": "J"}, "fr") == "E"
    assert pick({"ja": "J"}, "fr") == "J"


def test_mail_is_multipart_localized_and_names_the_agency() -> None:
    msg = render(
        _delivery(),
        sender="Shop <safety@shop.example>",
        unsubscribe_url="https://shop.example/u/t",
        list_id="<safety.shop.example>",
    )
    assert msg["Subject"] == "モバイルバッテリーの安全な使い方"
    text = part_text(msg, "plain")
    html = part_text(msg, "html")
    for part in (text, html):
        assert "製品安全研究所" in part
        assert "Power bank" in part
        assert "https://shop.example/u/t" in part
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["List-Unsubscribe"] == "<https://shop.example/u/t>"


def test_message_id_is_deterministic_per_advisory_and_customer() -> None:
    assert message_id("a", "c", "x") == message_id("a", "c", "x")
    assert message_id("a", "c", "x") != message_id("a", "d", "x")
    # The Message-ID of every mail sent before disasters had events stays what it was.
    assert message_id("adv_1", "c-42", "x") == "<adv_1.104948db6c7117a69bfc2e58b7811577@x>"
    assert message_id("adv_1", "c-42", "x", "") == message_id("adv_1", "c-42", "x")


def test_each_declared_disaster_is_a_new_message() -> None:
    first, second = message_id("a", "c", "x", "eq-1"), message_id("a", "c", "x", "eq-2")
    assert len({first, second, message_id("a", "c", "x")}) == 3
    assert first == message_id("a", "c", "x", "eq-1")
    assert first.startswith("<a.") and first.endswith("@x>")
    quake = msgspec.structs.replace(_delivery(), event_id="eq-1")
    mail = render(quake, sender="s@shop.example", unsubscribe_url="u", list_id="l")
    assert mail["Message-ID"] == message_id("adv_1", "c-42", "shop.example", "eq-1")


def test_agency_html_is_inert_in_the_html_part() -> None:
    msg = render(
        _delivery(locale="en-US", body="x"),
        sender="s@shop.example",
        unsubscribe_url="u",
        list_id="l",
    )
    evil = _delivery(locale="ja", body="<script>alert(1)</script>")
    html = render(evil, sender="s@shop.example", unsubscribe_url="u", list_id="l")
    assert "<script>" not in part_text(html, "html")
    assert "&lt;script&gt;" in part_text(html, "html")
    assert msg["Subject"] == "Using your power bank safely"


def test_unsubscribe_tokens_cannot_be_forged() -> None:
    token = tokens.make("secret", "c-42", "hanako@example.jp")
    mailed = tokens.address("secret", "c-42", "hanako@example.jp")
    assert tokens.verify("secret", token) == ("c-42", mailed)
    assert tokens.verify("other-secret", token) is None
    forged = tokens.make("guess", "c-43", "taro@example.jp")
    assert tokens.verify("secret", forged) is None
    _, tag, signature = token.split(".")
    theirs = tokens.make("secret", "c-43", "taro@example.jp").split(".")[0]
    assert tokens.verify("secret", f"{theirs}.{tag}.{signature}") is None
    assert tokens.verify("secret", "!!!") is None


def test_a_token_names_the_address_it_was_mailed_to_and_cannot_be_bent_to_another() -> None:
    old = tokens.make("secret", "c-42", "old@example.jp")
    new = tokens.make("secret", "c-42", "new@example.jp")
    assert old != new
    link = tokens.verify("secret", old)
    assert link is not None and link.address != tokens.address("secret", "c-42", "new@example.jp")
    encoded, _, signature = old.split(".")
    other = tokens.address("secret", "c-42", "new@example.jp")
    assert tokens.verify("secret", f"{encoded}.{other}.{signature}") is None
    # Cut to two parts it is not a token of the old kind (which names no address).
    assert tokens.verify("secret", f"{encoded}.{signature}") is None


def test_two_part_tokens_mailed_before_addresses_were_named_still_verify() -> None:
    # Mails already in inboxes carry them: made as `customer.signature` by the old code.
    legacy = "Yy00Mg.KFEg8fTxXPutLdsC2_sI5NR3"
    assert tokens.verify("secret", legacy) == ("c-42", None)
    assert tokens.verify("other-secret", legacy) is None


def test_the_agency_markdown_becomes_a_list_in_html_and_stays_readable_in_text() -> None:
    body = "Before charging:\n\n- keep it off the bed\n- **never** leave it unattended"
    msg = render(_delivery(body=body), sender="s@shop.example", unsubscribe_url="u", list_id="l")
    html = part_text(msg, "html")
    assert "<li>keep it off the bed</li>" in html
    assert "<strong>never</strong>" in html
    text = part_text(msg, "plain")
    assert "- keep it off the bed" in text
    link = _delivery(body="[see](javascript:alert(1)) and [agency](https://agency.example/x)")
    linked = render(link, sender="s@shop.example", unsubscribe_url="u", list_id="l")
    rich = part_text(linked, "html")
    assert 'href="javascript' not in rich  # left as inert text, never a link
    assert 'href="https://agency.example/x"' in rich
