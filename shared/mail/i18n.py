"""The mailer's own words in each language, and the choice of language for a customer."""

from __future__ import annotations

from shared.languages import FALLBACK, SUPPORTED, language_for

__all__ = ["STRINGS", "SUPPORTED", "language_for", "pick", "why"]

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "greeting": "Hello {name},",
        "greeting_anonymous": "Hello,",
        "intro": "{agency} has shared safety advice about a product you bought.",
        "digest_intro": "Partner agencies have shared safety advice about products you bought. We gathered it into this one message.",
        "digest_subject": "{count} safety messages about your purchases",
        "purchase": "Your purchase",
        "order": "order {order_id}",
        "ordered_on": "ordered on {date}",
        "why": "You receive this message because you bought this product from our shop.",
        "why_short_term": "You receive this message because you bought this product from our shop recently.",
        "why_long_term": "You receive this message because you bought this product from our shop some years ago: products of this kind can become dangerous as they age.",
        "why_combination": "You receive this message because you bought these products from our shop, and they can be dangerous together.",
        "why_disaster": "You receive this message because a disaster has been declared in your area and you bought this product from our shop.",
        "why_recall": "You receive this message because you bought this product model from our shop and it is being recalled.",
        "advice_from": "Advice from {agency}",
        "read_more": "Read this advice on our safety page",
        "source": "The agency's original notice",
        "unsubscribe": "Stop receiving safety messages",
        "footer": "Safety messages from our shop, with advice from partner agencies.",
        "unsubscribe_title": "Safety messages",
        "unsubscribe_question": "Stop receiving safety messages from our shop at {email}?",
        "unsubscribe_button": "Unsubscribe",
        "unsubscribed": "Done: we will not send safety messages to {email} any more.",
        "unsubscribe_moved": "This link belongs to an address this account no longer uses, so nothing was changed. To stop safety messages at an address, use the link in the latest message it received.",
        "unsubscribe_stale": "This link is too old to use, so nothing was changed. To stop safety messages, use the link in the latest message you received.",
    },
    "ja": {
        "greeting": "{name} 様",
        "greeting_anonymous": "お客様各位",
        "intro": "ご購入いただいた製品について、{agency}から安全に関するお知らせがあります。",
        "digest_intro": "ご購入いただいた製品について、提携機関から安全に関するお知らせがありました。一通にまとめてお送りします。",
        "digest_subject": "ご購入の製品に関する安全のお知らせ（{count}件）",
        "purchase": "ご購入の製品",
        "order": "ご注文番号 {order_id}",
        "ordered_on": "ご注文日 {date}",
        "why": "このメールは、当店で該当する製品をご購入いただいたお客様にお送りしています。",
        "why_short_term": "このメールは、当店で最近この製品をご購入いただいたお客様にお送りしています。",
        "why_long_term": "このメールは、数年前に当店でこの製品をご購入いただいたお客様にお送りしています。この種類の製品は経年劣化により危険になることがあります。",
        "why_combination": "このメールは、当店でこれらの製品をご購入いただいたお客様にお送りしています。組み合わせによって危険が生じることがあります。",
        "why_disaster": "このメールは、災害が発生した地域にお住まいで、当店でこの製品をご購入いただいたお客様にお送りしています。",
        "why_recall": "このメールは、リコール対象の製品を当店でご購入いただいたお客様にお送りしています。",
        "advice_from": "{agency}からのお知らせ",
        "read_more": "当店の安全情報ページで読む",
        "source": "発表元の原文",
        "unsubscribe": "安全に関するお知らせの配信を停止する",
        "footer": "当店から、提携機関の助言をもとにお送りする安全のお知らせです。",
        "unsubscribe_title": "安全のお知らせ",
        "unsubscribe_question": "{email} への安全のお知らせの配信を停止しますか？",
        "unsubscribe_button": "配信を停止する",
        "unsubscribed": "{email} への安全のお知らせの配信を停止しました。",
        "unsubscribe_moved": "このリンクは、このアカウントで現在使われていないメールアドレス宛てのものです。設定は変更していません。配信を停止するには、そのアドレスに届いた最新のお知らせのリンクをお使いください。",
        "unsubscribe_stale": "このリンクは古いため使えません。設定は変更していません。配信を停止するには、最近届いたお知らせのリンクをお使いください。",
    },
    "fr": {
        "greeting": "Bonjour {name},",
        "greeting_anonymous": "Bonjour,",
        "intro": "{agency} a publié un conseil de sécurité concernant un produit que vous avez acheté.",
        "digest_intro": "Des organismes partenaires ont publié des conseils de sécurité concernant des produits que vous avez achetés. Nous les avons réunis dans ce seul message.",
        "digest_subject": "{count} messages de sécurité concernant vos achats",
        "purchase": "Votre achat",
        "order": "commande {order_id}",
        "ordered_on": "commandé le {date}",
        "why": "Vous recevez ce message parce que vous avez acheté ce produit dans notre boutique.",
        "why_short_term": "Vous recevez ce message parce que vous avez acheté ce produit récemment dans notre boutique.",
        "why_long_term": "Vous recevez ce message parce que vous avez acheté ce produit dans notre boutique il y a quelques années : avec l'âge, les produits de ce type peuvent devenir dangereux.",
        "why_combination": "Vous recevez ce message parce que vous avez acheté ces produits dans notre boutique et qu'ils peuvent être dangereux ensemble.",
        "why_disaster": "Vous recevez ce message parce qu'une catastrophe a été déclarée dans votre région et que vous avez acheté ce produit dans notre boutique.",
        "why_recall": "Vous recevez ce message parce que vous avez acheté ce modèle dans notre boutique et qu'il fait l'objet d'un rappel.",
        "advice_from": "Conseil de {agency}",
        "read_more": "Lire ce conseil sur notre page sécurité",
        "source": "L'avis original de l'organisme",
        "unsubscribe": "Ne plus recevoir les messages de sécurité",
        "footer": "Messages de sécurité de notre boutique, avec les conseils d'organismes partenaires.",
        "unsubscribe_title": "Messages de sécurité",
        "unsubscribe_question": "Ne plus recevoir les messages de sécurité de notre boutique à {email} ?",
        "unsubscribe_button": "Me désabonner",
        "unsubscribed": "C'est fait : nous n'enverrons plus de messages de sécurité à {email}.",
        "unsubscribe_moved": "Ce lien concerne une adresse que ce compte n'utilise plus : rien n'a été modifié. Pour ne plus recevoir nos messages de sécurité à une adresse, utilisez le lien du dernier message qu'elle a reçu.",
        "unsubscribe_stale": "Ce lien est trop ancien : rien n'a été modifié. Pour ne plus recevoir nos messages de sécurité, utilisez le lien du dernier message que vous avez reçu.",
    },
}


def pick(texts: dict[str, str], lang: str) -> str:
    """An advisory text in `lang`, else English, else any language it has."""
    return texts.get(lang) or texts.get(FALLBACK) or next(iter(texts.values()), "")


def why(lang: str, kind: str) -> str:
    """Why the customer receives a mail of this kind, in their language."""
    strings = STRINGS[lang]
    return strings.get(f"why_{kind}", strings["why"])
