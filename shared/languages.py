"""The languages Anshin speaks (mail, pages, forms, category rules), declared once."""

from __future__ import annotations

# A new language is added here, then its words wherever a service writes some.
SUPPORTED = ("ja", "en", "fr")
# Every advisory has it, and every reader falls back to it.
FALLBACK = "en"
# Each language named in itself, for a reader choosing one.
NAMES = {"ja": "日本語", "en": "English", "fr": "Français"}


def language_for(locale: str) -> str:
    """The supported language closest to a locale such as 'ja-JP'; the fallback otherwise."""
    lang = locale.replace("_", "-").split("-")[0].lower()
    return lang if lang in SUPPORTED else FALLBACK


def N_(message: str) -> str:  # gettext's name: pybabel extracts what it marks
    """Mark an English text for a page's gettext catalogue; it is translated where shown."""
    return message
