"""The matcher's pure rule logic: windows, anniversaries, combinations, shards, the rule index."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.matcher import rules
from services.matcher.audience import any_of, of_categories
from services.matcher.orders import RuleIndex, transaction_parts
from services.matcher.rules import combination, long_term, recall, short_term
from shared import messages as m

T0 = datetime(2024, 2, 29, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
HONEY_BABY = m.Combination(groups=[["honey"], ["baby_food", "baby_bottle"]], window_days=30)


def _held(at: datetime, *categories: str, sku: str = "S") -> rules.Held:
    purchase = m.Purchase(channel="web", order_id=sku, sku=sku, placed_at=at)
    return rules.Held(at, frozenset(categories), purchase)


def test_short_term_window_and_categories() -> None:
    rule = m.ShortTerm(categories=["power_bank"], window_days=30)
    assert short_term.applies(rule, ["power_bank"], T0 - 30 * DAY, T0)
    assert not short_term.applies(rule, ["power_bank"], T0 - 31 * DAY, T0)
    assert not short_term.applies(rule, ["heater"], T0, T0)
    # A channel's clock ahead of ours: its order is judged once, on arrival, and counts.
    assert short_term.applies(rule, ["power_bank"], T0 + timedelta(minutes=2), T0)


def test_anniversary_of_a_leap_day_and_the_late_limit() -> None:
    assert rules.add_years(T0, 10) == datetime(2034, 2, 28, 9, 0, tzinfo=UTC)
    rule = m.LongTerm(categories=["fan"], after_years=10)
    due = long_term.due(rule, T0, T0, timedelta(days=365))
    assert due == datetime(2034, 2, 28, 9, 0, tzinfo=UTC)
    now = datetime(2035, 1, 1, tzinfo=UTC)
    assert long_term.due(rule, T0, now, timedelta(days=365)) == due
    assert long_term.due(rule, T0, now, timedelta(days=30)) is None


def test_recall_by_sku_or_gtin() -> None:
    rule = m.Recall(skus=["HT-9"], gtins=["490"])
    assert recall.applies(rule, "HT-9", None)
    assert recall.applies(rule, "X", "490")
    assert not recall.applies(rule, "X", None)


def test_combination_needs_every_group_within_the_window() -> None:
    honey, baby = _held(T0, "honey", sku="H"), _held(T0 + 20 * DAY, "baby_food", sku="B")
    assert combination.match(HONEY_BABY, [baby, honey], T0) == [
        honey.purchase,
        baby.purchase,
    ]
    far = _held(T0 + 31 * DAY, "baby_bottle")
    assert combination.match(HONEY_BABY, [honey, far], T0) is None
    assert combination.match(HONEY_BABY, [honey], T0) is None


def test_combination_completed_before_since_does_not_count() -> None:
    honey, baby = _held(T0, "honey"), _held(T0 + DAY, "baby_food")
    assert combination.match(HONEY_BABY, [honey, baby], T0 + 2 * DAY) is None
    # A later purchase completes it again, with the latest purchase of each group.
    again = _held(T0 + 10 * DAY, "honey", sku="H2")
    found = combination.match(HONEY_BABY, [honey, baby, again], T0 + 2 * DAY)
    assert found == [again.purchase, baby.purchase]


def test_one_line_in_both_groups_completes_a_combination() -> None:
    both = _held(T0, "honey", "baby_food")
    assert combination.match(HONEY_BABY, [both], T0) == [both.purchase, both.purchase]


def test_shards_cover_every_bucket_once() -> None:
    for shards in (1, 3, 16, 1024):
        covered = [b for k in range(shards) for b in range(*rules.bucket_range(k, shards))]
        assert covered == list(range(rules.BUCKETS))


def test_rule_index_finds_each_rule_once() -> None:
    st = m.ShortTerm(categories=["power_bank", "heater"])
    rc = m.Recall(skus=["PB-1"], gtins=["490"])
    dz = m.Disaster(categories=["power_bank"])
    index = RuleIndex([("a", "short_term", st), ("b", "recall", rc), ("c", "disaster", dz)])
    line = m.OrderLine(line_no=1, sku="PB-1", gtin="490", categories=["power_bank", "heater"])
    assert sorted(a for a, _, _ in index.for_line(line)) == ["a", "b"]
    other = m.OrderLine(line_no=1, sku="Z", categories=["fan"])
    assert index.for_line(other) == []


def test_order_events_are_parted_in_order_without_splitting_a_batch() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)

    def order(n: int) -> m.OrderPlaced:
        return m.OrderPlaced(
            channel="web", order_id=f"o-{n}", customer_id=f"c-{n}", placed_at=at,
            location=m.Location(country="JP"), lines=[],
        )  # fmt: skip

    cancel = m.OrderCancelled(channel="web", order_id="o-1", customer_id="c-1", at=at)
    big = m.OrderBatch(orders=[order(n) for n in range(5)])
    events: list[m.OrderEvent] = [order(1), order(2), big, cancel, order(3)]
    assert transaction_parts(events, 3) == [[order(1), order(2)], [big], [cancel, order(3)]]
    assert transaction_parts(events, 100) == [events]


def test_any_of_ors_clauses_with_their_parameters_renumbered_in_order() -> None:
    first = of_categories(["portable_generator"]).add("country = $2")
    first.params.append("JP")
    second = of_categories(["portable_gas_stove"])
    second.add(f"area_code = ANY({second.p(['17204', '17205'])}::text[])")
    either = any_of([first, second])
    assert either.sql == (
        "active AND ((active AND category = ANY($1::text[]) AND country = $2)"
        " OR (active AND category = ANY($3::text[]) AND area_code = ANY($4::text[])))"
    )
    assert either.params == [
        ["portable_generator"],
        "JP",
        ["portable_gas_stove"],
        ["17204", "17205"],
    ]
    assert any_of([]).sql == "active AND false"
