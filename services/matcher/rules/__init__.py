"""What each rule kind means to the matcher, one module per kind; `of` picks a rule's module.

A kind's module holds what an order triggers, whether an order applies, its audience as a
`Where`, its priority and its schedule where it has one: `short_term`, `long_term`,
`combination`, `disaster`, `recall`. `base` holds what they share.
"""

from __future__ import annotations

from datetime import timedelta

from services.matcher.rules.base import (
    BUCKETS,
    Check,
    Declared,
    Held,
    Job,
    KindRule,
    Line,
    Outcome,
    Schedule,
    Send,
    Triggers,
    add_years,
    bucket_of,
    bucket_range,
    purchase_of,
)
from services.matcher.rules.combination import CombinationRule
from services.matcher.rules.disaster import COUNTRY_OF_SCHEME, DisasterRule
from services.matcher.rules.long_term import LongTermRule
from services.matcher.rules.recall import RecallRule
from services.matcher.rules.short_term import ShortTermRule
from shared import messages as m

AnyRule = ShortTermRule | LongTermRule | CombinationRule | DisasterRule | RecallRule


def of(rule: m.AdvisoryRule) -> AnyRule:
    """What the rule means: its kind's module, the one dispatch over the kinds."""
    match rule:
        case m.ShortTerm():
            return ShortTermRule(rule)
        case m.LongTerm():
            return LongTermRule(rule)
        case m.Combination():
            return CombinationRule(rule)
        case m.Disaster():
            return DisasterRule(rule)
        case m.Recall():
            return RecallRule(rule)


# A delivery's priority by the kind named in it (deliveries travel with the kind's name).
PRIORITY: dict[m.Kind, m.Priority] = {
    "short_term": ShortTermRule.priority,
    "long_term": LongTermRule.priority,
    "combination": CombinationRule.priority,
    "disaster": DisasterRule.priority,
    "recall": RecallRule.priority,
}

# A disaster's audience is read at its time: no lateness applies.
NO_DELAY = timedelta(0)

__all__ = [
    "BUCKETS",
    "COUNTRY_OF_SCHEME",
    "NO_DELAY",
    "PRIORITY",
    "AnyRule",
    "Check",
    "CombinationRule",
    "Declared",
    "DisasterRule",
    "Held",
    "Job",
    "KindRule",
    "Line",
    "LongTermRule",
    "Outcome",
    "RecallRule",
    "Schedule",
    "Send",
    "ShortTermRule",
    "Triggers",
    "add_years",
    "bucket_of",
    "bucket_range",
    "of",
    "purchase_of",
]
