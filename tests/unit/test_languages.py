"""The language list is declared once: every table of words covers exactly those languages."""

from __future__ import annotations

from services.advisory.public.i18n import STRINGS as PAGE_WORDS
from shared.languages import FALLBACK, NAMES, SUPPORTED, from_accept_language, language_for
from shared.mail.i18n import STRINGS as MAIL_WORDS


def test_every_table_of_words_speaks_every_supported_language() -> None:
    assert FALLBACK in SUPPORTED
    assert set(NAMES) == set(SUPPORTED)
    for table in (PAGE_WORDS, MAIL_WORDS):
        assert set(table) == set(SUPPORTED)
        assert all(table[lang].keys() == table[FALLBACK].keys() for lang in SUPPORTED)


def test_a_locale_finds_its_language_or_the_fallback() -> None:
    assert language_for("ja-JP") == "ja"
    assert language_for("fr_CA") == "fr"
    assert language_for("de-DE") == FALLBACK
    assert language_for("") == FALLBACK


def test_accept_language_picks_the_supported_language_preferred_most() -> None:
    assert from_accept_language("fr;q=0.5, ja-JP;q=0.9, en;q=0.1") == "ja"
    assert from_accept_language("de-DE, en-GB;q=0.8, fr;q=0.8") == "en"  # a tie keeps the order
    assert from_accept_language("ja;q=0, de") is None  # q=0 means "not this one"
    assert from_accept_language("ja;q=abc, fr") == "fr"
    assert from_accept_language("") is None
    assert from_accept_language("de," * 100 + "ja") is None  # only the first 32 are read
