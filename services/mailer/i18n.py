"""The mailer's own words in each language, and the choice of language for a customer."""

from __future__ import annotations

SUPPORTED = ("ja", "en", "fr")

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "greeting": "Hello {name},",
        "greeting_anonymous": "Hello,",
        "intro": "{agency} has shared safety advice about a product you bought.",
        "purchase": "Your purchase",
        "ordered_on": "ordered on {date}",
        "why": "You receive this message because you bought this product from our shop.",
        "advice_from": "Advice from {agency}",
        "read_more": "Read the full advice",
        "unsubscribe": "Stop receiving safety messages",
        "footer": "Safety messages from our shop, with advice from partner agencies.",
    },
    "ja": {
        "greeting": "{name} 様",
        "greeting_anonymous": "お客様各位",
        "intro": "ご購入いただいた製品について、{agency}から安全に関するお知らせがあります。",
        "purchase": "ご購入の製品",
        "ordered_on": "ご注文日 {date}",
        "why": "このメールは、当店で該当する製品をご購入いただいたお客様にお送りしています。",
        "advice_from": "{agency}からのお知らせ",
        "read_more": "お知らせの全文を読む",
        "unsubscribe": "安全に関するお知らせの配信を停止する",
        "footer": "当店から、提携機関の助言をもとにお送りする安全のお知らせです。",
    },
    "fr": {
        "greeting": "Bonjour {name},",
        "greeting_anonymous": "Bonjour,",
        "intro": "{agency} a publié un conseil de sécurité concernant un produit que vous avez acheté.",
        "purchase": "Votre achat",
        "ordered_on": "commandé le {date}",
        "why": "Vous recevez ce message parce que vous avez acheté ce produit dans notre boutique.",
        "advice_from": "Conseil de {agency}",
        "read_more": "Lire le conseil complet",
        "unsubscribe": "Ne plus recevoir les messages de sécurité",
        "footer": "Messages de sécurité de notre boutique, avec les conseils d'organismes partenaires.",
    },
}


def language_for(locale: str) -> str:
    """The supported language closest to a locale such as 'ja-JP'; English otherwise."""
    lang = locale.replace("_", "-").split("-")[0].lower()
    return lang if lang in SUPPORTED else "en"


def pick(texts: dict[str, str], lang: str) -> str:
    """An advisory text in `lang`, else English, else any language it has."""
    return texts.get(lang) or texts.get("en") or next(iter(texts.values()), "")
