"""Delivery batches against real NATS and PostgreSQL: split by size, never over the bus's limit."""

from __future__ import annotations

from datetime import timedelta

from shared import messages as m
from shared.clock import Clock
from shared.config import Settings
from tests.service.test_matcher_kit import TOKYO, matcher, published, shop, small

GROUPS = [["honey"], ["baby_products"], ["nuts"], ["rice_cake"]]
# A product title as long as ingest accepts (500 characters), in Japanese: three bytes each.
TITLE = ("国産はちみつ・ベビー用品・ミックスナッツ・切り餅の詰め合わせ、贈答用の大箱。" * 14)[:500]


def _order(n: int, at: object) -> m.OrderPlaced:
    lines = [
        m.OrderLine(line_no=i, sku=f"SKU-{i}", title=f"{i} {TITLE}", categories=group)
        for i, group in enumerate(GROUPS, 1)
    ]
    return m.OrderPlaced(
        channel="web",
        order_id=f"o-{n}",
        customer_id=f"c-{n:03d}",
        placed_at=at,  # type: ignore[arg-type]
        location=TOKYO,
        lines=lines,
    )


async def test_a_combination_of_four_groups_for_500_customers_is_split_by_size(
    settings: Settings, clock: Clock
) -> None:
    # One shard: all 500 customers are found at once, as one replica of a small shop would.
    settings = small(settings, matcher_fanout_shards=1)
    rule = m.Combination(groups=GROUPS, window_days=30)
    async with shop(settings) as s, matcher(settings, clock):
        await s.send_many([_order(n, clock.now() - timedelta(days=1)) for n in range(500)])
        await s.idle(clock, timeout=60)
        await s.send(published("adv-4", rule, clock.now()))
        found = await s.wait_for("adv-4", 500, timeout=60)
        assert sorted(found) == [f"c-{n:03d}" for n in range(500)]
        js = s.nc.jetstream()
        last = (await js.stream_info("DELIVERIES")).state.last_seq
        sizes = [len((await js.get_msg("DELIVERIES", n)).data or b"") for n in range(1, last + 1)]
        # Together they are several times the limit; each is at most half of max_payload.
        assert sum(sizes) > 2 * s.nc.max_payload
        assert max(sizes) <= s.nc.max_payload // 2, sizes
        batches = await s.batches()
        assert all(len(r.purchases) == 4 for b in batches for r in b.recipients)
