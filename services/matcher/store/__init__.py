"""Matcher's SQL: purchase history, rules, audiences, matches, fan-out jobs and the schedule.

Every function takes the connection of the use case's unit of work (`shared.db.unit_of_work`).
"""

from services.matcher.store.audience import centres_by_code, count, count_by_code, held
from services.matcher.store.fanout import (
    cancel_event,
    claim_shard,
    create_job,
    event_cancelled,
    job_params,
    shard_done,
)
from services.matcher.store.locks import RULES_LOCK, lock_fold, lock_for_orders, lock_rules
from services.matcher.store.matches import (
    Fold,
    folds_of,
    match_all,
    new_matches,
    record_event,
)
from services.matcher.store.purchases import LineKey, areas_of, record_orders, record_voids
from services.matcher.store.rules import (
    active_rules,
    known_rules,
    live_rule,
    save_rule,
    withdraw_rule,
)
from services.matcher.store.schedule import (
    Due,
    claim_due,
    schedule_lines,
    schedule_matching,
    still_due,
)

__all__ = [
    "RULES_LOCK",
    "Due",
    "Fold",
    "LineKey",
    "active_rules",
    "areas_of",
    "cancel_event",
    "centres_by_code",
    "claim_due",
    "claim_shard",
    "count",
    "count_by_code",
    "create_job",
    "event_cancelled",
    "folds_of",
    "held",
    "job_params",
    "known_rules",
    "live_rule",
    "lock_fold",
    "lock_for_orders",
    "lock_rules",
    "match_all",
    "new_matches",
    "record_event",
    "record_orders",
    "record_voids",
    "save_rule",
    "schedule_lines",
    "schedule_matching",
    "shard_done",
    "still_due",
    "withdraw_rule",
]
