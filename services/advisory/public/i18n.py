"""The public pages' own words in each language, and the reader's language."""

from __future__ import annotations

import re

from aiohttp import web

from shared.errors import Invalid, field_error
from shared.languages import FALLBACK, NAMES, SUPPORTED, from_accept_language

__all__ = ["NAMES", "STRINGS", "SUPPORTED", "pick", "reader_language", "words"]
_LANG = re.compile(r"^[A-Za-z]{2}([-_][A-Za-z0-9]{1,8})*$")

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "site": "Product safety advice",
        "intro": "Advice from safety agencies about products sold in our shop.",
        "skip": "Skip to the advice",
        "none": "There is no current advice.",
        "from": "From {agency}",
        "published": "Published on {date}",
        "corrected": "Corrected on {date}: this is the agency's corrected advice",
        "expires": "Current until {date}",
        "source": "Read the agency's own page",
        "all": "All safety advice",
        "recall": "Recalls",
        "gone": "This advice has been withdrawn or is no longer current.",
        "missing": "There is no such advice.",
        "languages": "Languages",
    },
    "ja": {
        "site": "製品安全に関するお知らせ",
        "intro": "当店で販売している製品について、安全機関からのお知らせです。",
        "skip": "お知らせへ移動",
        "none": "現在お知らせはありません。",
        "from": "{agency}より",
        "published": "公開日 {date}",
        "corrected": "{date}訂正：機関が訂正した内容を掲載しています",
        "expires": "{date}まで有効",
        "source": "機関のページを読む",
        "all": "すべてのお知らせ",
        "recall": "リコール",
        "gone": "このお知らせは取り下げられたか、有効期限が過ぎています。",
        "missing": "該当するお知らせはありません。",
        "languages": "言語",
    },
    "fr": {
        "site": "Conseils de sécurité des produits",
        "intro": "Les conseils d'organismes de sécurité sur les produits de notre boutique.",
        "skip": "Aller aux conseils",
        "none": "Aucun conseil en cours.",
        "from": "De {agency}",
        "published": "Publié le {date}",
        "corrected": "Corrigé le {date} : voici le conseil corrigé de l'organisme",
        "expires": "Valable jusqu'au {date}",
        "source": "Lire la page de l'organisme",
        "all": "Tous les conseils de sécurité",
        "recall": "Rappels",
        "gone": "Ce conseil a été retiré ou n'est plus d'actualité.",
        "missing": "Ce conseil n'existe pas.",
        "languages": "Langues",
    },
}


def reader_language(request: web.Request) -> tuple[str, bool]:
    """The language asked for with ?lang=, else by Accept-Language; and whether the header
    decides (then caches must vary on it, even where it is absent)."""
    asked = request.query.get("lang")
    if asked is not None:
        if not _LANG.match(asked):
            raise Invalid("invalid query", [field_error("lang", "a language code such as ja")])
        return asked[:2].lower(), False
    return from_accept_language(request.headers.get("Accept-Language", "")) or FALLBACK, True


def pick(texts: dict[str, str], lang: str) -> tuple[str, str]:
    """(language, text) of an advisory text in `lang`, else English, else any it has."""
    for choice in (lang, FALLBACK, *texts):
        if texts.get(choice):
            return choice, texts[choice]
    return lang, ""


def words(lang: str) -> dict[str, str]:
    """The page strings in `lang`, English where the language is not supported."""
    return STRINGS.get(lang, STRINGS[FALLBACK])
