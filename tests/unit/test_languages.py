"""The language list is declared once: every table of words covers exactly those languages."""

from __future__ import annotations

from services.advisory.public.i18n import STRINGS as PAGE_WORDS
from shared.languages import FALLBACK, NAMES, SUPPORTED, language_for
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
