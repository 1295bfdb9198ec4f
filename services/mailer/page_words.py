"""The preference page's own words in each language the mail speaks (the rest: i18n.STRINGS)."""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "intro": "Choose which safety messages our shop sends to {email}.",
        "short_term": "Advice on products you bought recently",
        "long_term": "Advice on products that grow dangerous with age",
        "combination": "Advice on products dangerous together",
        "disaster": "Advice when a disaster strikes your area",
        "recalls": "Recalls of a product you own are always sent, unless you stop all messages.",
        "save": "Save my choices",
        "saved": "Saved: your choices apply from the next message.",
        "stop": "Stop all safety messages",
    },
    "ja": {
        "intro": "{email} へ当店からお送りする安全のお知らせを選べます。",
        "short_term": "最近ご購入の製品に関するお知らせ",
        "long_term": "経年劣化で危険になる製品に関するお知らせ",
        "combination": "組み合わせると危険な製品に関するお知らせ",
        "disaster": "お住まいの地域で災害が起きたときのお知らせ",
        "recalls": "お持ちの製品のリコールは、すべての配信を停止しない限りお送りします。",
        "save": "設定を保存する",
        "saved": "保存しました。次のお知らせから反映されます。",
        "stop": "すべての配信を停止する",
    },
    "fr": {
        "intro": "Choisissez les messages de sécurité que notre boutique envoie à {email}.",
        "short_term": "Conseils sur les produits achetés récemment",
        "long_term": "Conseils sur les produits qui deviennent dangereux en vieillissant",
        "combination": "Conseils sur les produits dangereux ensemble",
        "disaster": "Conseils lorsqu'une catastrophe frappe votre région",
        "recalls": "Les rappels d'un produit que vous possédez sont toujours envoyés, sauf si vous"
        " arrêtez tous les messages.",
        "save": "Enregistrer mes choix",
        "saved": "C'est enregistré : vos choix s'appliquent dès le prochain message.",
        "stop": "Arrêter tous les messages de sécurité",
    },
}
