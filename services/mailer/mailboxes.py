"""Mailbox providers and their health, pure: which provider a recipient domain belongs to, and
whether its figures over the window call for a pause of routine mail. No I/O.

Gmail, Yahoo and Microsoft refuse senders whose complaint rate passes 0.1-0.3 %; the Japanese
carriers block on complaints and policy refusals alike. A provider pauses while its complaint
rate passes `complaint_rate`, or its policy refusals (5.7.x) pass `policy_rate` of the mail
sent, once at least `min_sent` mails went to it within the window: a handful of mails makes
no rate.
"""

from __future__ import annotations

import msgspec

# Whole domains of each provider; suffixes below catch the carriers' and Microsoft's others.
_DOMAINS = {
    "gmail": ("gmail.com", "googlemail.com"),
    "yahoo": ("yahoo.com", "ymail.com", "rocketmail.com", "aol.com"),
    "microsoft": ("outlook.com", "hotmail.com", "live.com", "msn.com", "passport.com"),
    "docomo": ("docomo.ne.jp",),
    "au": ("au.com", "ezweb.ne.jp"),
    "softbank": ("softbank.ne.jp", "i.softbank.jp"),
}
# Country forms: yahoo.co.uk, yahoo.fr, hotmail.co.jp, outlook.jp, live.jp…; Yahoo! JAPAN is
# another company (LY Corporation), not of the Yahoo family.
_FIRST_LABEL = {
    "yahoo": "yahoo",
    "hotmail": "microsoft",
    "outlook": "microsoft",
    "live": "microsoft",
}
_NOT_THE_FAMILY = frozenset({"yahoo.co.jp"})
_BY_DOMAIN = {d: name for name, domains in _DOMAINS.items() for d in domains}
PROVIDERS = tuple(_DOMAINS)


def provider(domain: str) -> str:
    """The mailbox provider of a recipient domain; '' for one of no provider we track."""
    domain = domain.strip().lower().rstrip(".")
    if domain in _BY_DOMAIN:
        return _BY_DOMAIN[domain]
    if domain in _NOT_THE_FAMILY:
        return ""
    first, _, rest = domain.partition(".")
    if first in _FIRST_LABEL and rest.count(".") <= 1 and len(rest) <= 6:
        return _FIRST_LABEL[first]  # a country's form: the label, then a (second-level) TLD
    for suffix, name in _BY_DOMAIN.items():
        if name in ("docomo", "au", "softbank") and domain.endswith("." + suffix):
            return name  # a carrier's subdomain (t.softbank.ne.jp)
    return ""


class Rules(msgspec.Struct, frozen=True, kw_only=True):
    """When a provider pauses."""

    complaint_rate: float = 0.001
    policy_rate: float = 0.01
    min_sent: int = 100


class Figures(msgspec.Struct, kw_only=True):
    """One provider's figures over the window, and whether it pauses routine mail now."""

    provider: str
    sent: int = 0
    hard: int = 0
    complaints: int = 0
    policy: int = 0
    paused: str = ""  # why routine mail to it pauses ('complaints', 'policy'); '' if it goes

    def add(self, other: Figures) -> None:
        """Count another domain's figures in this provider's."""
        self.sent += other.sent
        self.hard += other.hard
        self.complaints += other.complaints
        self.policy += other.policy


def rate(part: int, sent: int) -> float:
    """A share of the mail sent; 0 when none was."""
    return part / sent if sent else 0.0


def judge(figures: Figures, rules: Rules) -> str:
    """Why routine mail to the provider pauses; '' if it may go."""
    if figures.sent < rules.min_sent:
        return ""
    if rate(figures.complaints, figures.sent) > rules.complaint_rate:
        return "complaints"
    if rate(figures.policy, figures.sent) > rules.policy_rate:
        return "policy"
    return ""


def table(by_domain: dict[str, Figures], rules: Rules) -> list[Figures]:
    """Every provider's figures (domains of no provider left out), judged, in a fixed order."""
    found = {name: Figures(provider=name) for name in PROVIDERS}
    for domain, figures in by_domain.items():
        name = provider(domain)
        if name:
            found[name].add(figures)
    for figures in found.values():
        figures.paused = judge(figures, rules)
    return list(found.values())
