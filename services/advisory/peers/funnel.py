"""An advisory's effectiveness funnel, from the mailer's counts, explained in plain words.

Each step counts the customers of the one before who also passed it. The contactable share
is set against the 95 % of buyers that the US CPSC asks a firm to show it can contact.
"""

from __future__ import annotations

import msgspec

from shared.languages import N_

STEPS = ("bought", "contactable", "delivered", "read", "acted")
# CPSC: a firm shows it can contact 95 % of the buyers of a recalled product.
CONTACTABLE_MARK = 0.95

MEANINGS = {
    "bought": N_("Customers who bought a product the advisory concerns: the audience matched."),
    "contactable": N_(
        "Of those, customers the shop can write to: they have an e-mail address, it has not"
        " bounced, and they have not unsubscribed or turned this kind of advice off."
    ),
    "delivered": N_(
        "Of those, mails the shop's mail relay accepted and for which no bounce came back later."
    ),
    "read": N_(
        "Of those, customers who opened the safety page through the link in their own mail"
        " (each mail counts once, however often it is opened)."
    ),
    "acted": N_(
        'Of those, customers who answered in the mail "I have checked my product" or'
        ' "I no longer have it" and confirmed it on the page the link opens.'
    ),
}


class Step(msgspec.Struct, kw_only=True):
    """One step of the funnel: how many customers, their share of the buyers, what it means."""

    step: str
    customers: int
    share: float | None  # of `bought`; None while nobody bought
    means: str


class Funnel(msgspec.Struct, kw_only=True):
    """bought → contactable → delivered → read → acted, and the contactable share's verdict."""

    steps: list[Step]
    checked: int = 0  # of `acted`: "I have checked my product"
    gone: int = 0  # of `acted`: "I no longer have it"
    contactable_share: float | None = None
    mark: float = CONTACTABLE_MARK
    meets_mark: bool | None = None  # None while nobody bought
    says: str = ""


def _percent(share: float) -> str:
    return f"{share * 100:.1f} %"


def funnel_of(counts: dict[str, int]) -> Funnel:
    """The funnel of the mailer's counts (`ReachReport.funnel`; empty before publication)."""
    bought = counts.get("bought", 0)
    steps = [
        Step(
            step=name,
            customers=counts.get(name, 0),
            share=round(counts.get(name, 0) / bought, 4) if bought else None,
            means=MEANINGS[name],
        )
        for name in STEPS
    ]
    if not bought:
        says = "Nobody has been matched yet, so there is no contactable share to show."
        return Funnel(steps=steps, says=says)
    share = counts.get("contactable", 0) / bought
    meets = share >= CONTACTABLE_MARK
    says = (
        f"{_percent(share)} of the buyers can be contacted, "
        + ("at or above" if meets else "below")
        + f" the {_percent(CONTACTABLE_MARK)} that the US CPSC asks a firm to reach."
    )
    return Funnel(
        steps=steps,
        checked=counts.get("acted_checked", 0),
        gone=counts.get("acted_gone", 0),
        contactable_share=round(share, 4),
        meets_mark=meets,
        says=says,
    )
