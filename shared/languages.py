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


def from_accept_language(header: str, among: tuple[str, ...] = SUPPORTED) -> str | None:
    """The language of `among` a reader's Accept-Language prefers most (by q), if any."""
    ranked: list[tuple[float, int, str]] = []
    for order, part in enumerate(header.split(",")[:32]):  # a header of hundreds is hostile
        tag, _, params = part.strip().partition(";")
        q = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip() == "q":
            try:
                q = float(value)
            except ValueError:
                continue
        lang = tag.strip().split("-")[0].lower()
        if lang in among and 0 < q <= 1:
            ranked.append((-q, order, lang))
    return min(ranked)[2] if ranked else None


def N_(message: str) -> str:  # gettext's name: pybabel extracts what it marks
    """Mark an English text for a page's gettext catalogue; it is translated where shown."""
    return message
