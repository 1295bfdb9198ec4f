"""A correction and a withdrawal notice, in every language the mail speaks: marked as such in
the subject and the text, the correction with the new advice, the notice without it."""

from __future__ import annotations

from typing import Any

import msgspec

from shared.mail.i18n import STRINGS, SUPPORTED
from shared.mail.render import Delivery, render
from tests.support.parts import part_text

TITLE = {"ja": "電池の注意", "en": "Power banks", "fr": "Batteries"}
BODY = {"ja": "新しい助言。", "en": "The new advice.", "fr": "Le nouveau conseil."}
LOCALES = {"ja": "ja-JP", "en": "en-GB", "fr": "fr-FR"}


def _mail(lang: str, **changes: Any) -> tuple[str, str, str]:
    delivery = Delivery(
        advisory_id="adv_1", customer_id="c-1", email="c1@example.org", name="",
        locale=LOCALES[lang], agency_name="NITE", title=TITLE, body=BODY, source_url="",
        purchases=[{"sku": "PB-1", "title": "Power bank"}], kind="short_term",
        page_url="https://mail.example/r/t", checked_url="https://mail.example/a/c",
        gone_url="https://mail.example/a/g",
    )  # fmt: skip
    mail = render(
        msgspec.structs.replace(delivery, **changes),
        sender="s@shop.example", unsubscribe_url="https://shop.example/u/t", list_id="l",
    )  # fmt: skip
    return str(mail["Subject"]), part_text(mail, "plain"), part_text(mail, "html")


def test_every_language_of_the_mail_words_both_notices() -> None:
    assert set(SUPPORTED) <= STRINGS.keys() == set(LOCALES)
    for lang in LOCALES:
        t = STRINGS[lang]
        subject, text, html = _mail(lang, notice="correction")
        assert subject == t["correction_subject"].format(title=TITLE[lang])
        assert subject != TITLE[lang]
        for part in (text, html):
            assert t["correction_note"] in part and BODY[lang] in part
            assert t["correction_intro"].format(agency="NITE") in part
            assert "https://mail.example/r/t" in part  # the safety page
        subject, text, html = _mail(lang, notice="withdrawal", checked_url="", gone_url="")
        assert subject == t["withdrawal_subject"].format(title=TITLE[lang])
        notice = t["withdrawal_text"].format(agency="NITE", title=TITLE[lang])
        assert notice in text and BODY[lang] not in text
        assert t["act_checked"] not in text


def test_the_advice_itself_is_marked_as_nothing_else() -> None:
    subject, text, _ = _mail("en")
    assert subject == TITLE["en"] and STRINGS["en"]["correction_note"] not in text
