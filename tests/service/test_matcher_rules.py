"""Each rule of the matcher against real NATS and PostgreSQL, with a clock the tests move."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
import asyncpg
import msgspec

from services.matcher import orders
from shared import messages as m
from shared.bus import Subjects
from shared.clock import Clock
from shared.config import Settings
from tests.service.test_matcher_kit import (
    BOSTON,
    JP_17,
    TOKYO,
    matcher,
    matcher_pool,
    placed,
    published,
    shop,
    small,
)

DAY = timedelta(days=1)
YEAR = timedelta(days=365)


async def test_short_term_at_publication_then_at_purchase(settings: Settings, clock: Clock) -> None:
    settings = small(settings)
    now = clock.now()
    async with shop(settings) as s, matcher(settings, clock) as url:
        recent = placed("c-recent", now - 10 * DAY, ["power_bank"])
        await s.send(recent)
        await s.send(placed("c-old", now - 40 * DAY, ["power_bank"]))
        await s.send(placed("c-other", now - 2 * DAY, ["portable_generator"]))
        cancelled = placed("c-cancelled", now - 3 * DAY, ["power_bank"])
        await s.send(cancelled)
        await s.send(
            m.OrderCancelled(
                channel="web", order_id=cancelled.order_id, customer_id="c-cancelled", at=now
            )
        )
        await s.idle(clock)
        rule = m.ShortTerm(categories=["power_bank"], window_days=30)
        await s.send(published("adv-st", rule, now))
        assert await s.wait_for("adv-st", 1) == ["c-recent"]

        await s.send(placed("c-new", clock.now(), ["power_bank"], channel="app"))
        await s.send(recent)  # a redelivered order is harmless
        await s.idle(clock)
        assert await s.requested("adv-st") == ["c-recent", "c-new"]
        [first, second] = [b for b in await s.batches() if b.advisory_id == "adv-st"]
        assert first.recipients[0].reason == "publication"
        assert first.priority == m.Priority.SHORT_TERM
        assert second.recipients[0].purchases[0].channel == "app"

        async with aiohttp.ClientSession() as http, http.get(f"{url}/metrics") as reply:
            text = await reply.text()
        assert 'anshin_matcher_matches_total{kind="short_term"}' in text


async def test_short_term_counts_orders_stamped_ahead_of_our_clock(
    settings: Settings, clock: Clock
) -> None:
    # A channel whose clock runs ahead of ours stamps its orders a little in the future:
    # at publication and on arrival alike, they are purchases inside the window.
    settings = small(settings)
    now = clock.now()
    async with shop(settings) as s, matcher(settings, clock):
        await s.send(placed("c-before", now + timedelta(minutes=2), ["power_bank"]))
        await s.idle(clock)
        rule = m.ShortTerm(categories=["power_bank"], window_days=30)
        await s.send(published("adv-ahead", rule, now))
        assert await s.wait_for("adv-ahead", 1) == ["c-before"]
        await s.send(placed("c-after", clock.now() + timedelta(minutes=2), ["power_bank"]))
        await s.idle(clock)
        assert await s.requested("adv-ahead") == ["c-before", "c-after"]


async def test_orders_of_a_batch_message_count_one_by_one(settings: Settings, clock: Clock) -> None:
    settings = small(settings)
    now = clock.now()
    rule = m.ShortTerm(categories=["power_bank"], window_days=30)
    async with shop(settings) as s, matcher(settings, clock):
        await s.send(published("adv-batch", rule, now))
        await s.idle(clock)
        first, second = placed("c-b1", now, ["power_bank"]), placed("c-b2", now, ["power_bank"])
        heater = placed("c-b3", now, ["heater"])
        await s.send(m.OrderBatch(orders=[first, second, heater]))
        await s.send(
            m.OrderCancelled(channel="web", order_id=second.order_id, customer_id="c-b2", at=now)
        )
        await s.send(m.OrderBatch(orders=[first, second]))  # a batch again: nothing twice
        await s.idle(clock)
        assert await s.requested("adv-batch") == ["c-b1", "c-b2"]


async def test_a_fetch_of_many_order_batches_fits_the_lock_table(
    settings: Settings, clock: Clock
) -> None:
    settings = small(settings)
    now = clock.now()
    async with matcher(settings, clock):
        pass  # the schema is migrated
    # 16,000 customers in one handler call: more advisory locks than PostgreSQL's lock table
    # holds at once (64 per connection by default), were they taken in one transaction.
    batches: list[m.OrderEvent] = [
        m.OrderBatch(orders=[placed(f"c-lock-{i}-{n}", now, ["power_bank"]) for n in range(1000)])
        for i in range(16)
    ]
    pool = await matcher_pool(settings)
    try:
        await orders.on_orders(batches, pool=pool, clock=clock, settings=settings)
        stored = await pool.fetchval(
            "SELECT count(DISTINCT customer_id) FROM purchases WHERE customer_id LIKE 'c-lock-%'"
        )
    finally:
        await pool.close()
    assert stored == 16000


async def test_long_term_across_ten_years_and_a_restart(settings: Settings, clock: Clock) -> None:
    settings = small(settings)
    now = clock.now()
    heater = ["heater"]
    rule = m.LongTerm(categories=heater, after_years=10)
    async with shop(settings) as s:
        async with matcher(settings, clock):
            await s.send(placed("c-2y", now - 2 * YEAR, heater))
            await s.send(placed("c-passed", now - 10 * YEAR - 100 * DAY, heater))
            await s.send(placed("c-ancient", now - 12 * YEAR, heater))
            kept_then_returned = placed("c-5y", now - 5 * YEAR, heater)
            await s.send(kept_then_returned)
            returned = placed("c-returned", now - 3 * YEAR, heater)
            await s.send(returned)
            await s.send(
                m.OrderReturned(
                    channel="web", order_id=returned.order_id, customer_id="c-returned", at=now
                )
            )
            await s.idle(clock)
            await s.send(published("adv-lt", rule, now))
            # An anniversary that passed within the limit is sent now; one long past never.
            assert await s.wait_for("adv-lt", 1) == ["c-passed"]
            await s.idle(clock)
            # Scheduled at publication, returned afterwards: the due entry must see it.
            assert await scheduled(settings, "c-5y") == 1
            await s.send(
                m.OrderReturned(
                    channel="web",
                    order_id=kept_then_returned.order_id,
                    customer_id="c-5y",
                    at=clock.now(),
                )
            )
            await s.send(placed("c-today", clock.now(), heater))
            await s.idle(clock)
        # The schedule is durable: eight years pass while no replica runs.
        clock.advance(8 * YEAR + 5 * DAY)
        async with matcher(settings, clock):
            assert await s.wait_for("adv-lt", 2) == ["c-passed", "c-2y"]
            await s.idle(clock)
            clock.advance(2 * YEAR + 5 * DAY)
            assert await s.wait_for("adv-lt", 3) == ["c-passed", "c-2y", "c-today"]
            await s.idle(clock)
        assert await s.requested("adv-lt") == ["c-passed", "c-2y", "c-today"]
        assert await scheduled(settings, "c-5y") == 0  # checked when due, and dropped
        assert [b.priority for b in await s.batches()] == [m.Priority.LONG_TERM] * 3
        assert (await s.batches())[1].recipients[0].reason == "anniversary"


async def scheduled(settings: Settings, customer_id: str) -> int:
    """Entries of the long-term schedule for one customer."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        count = await conn.fetchval(
            "SELECT count(*) FROM matcher.schedule WHERE customer_id = $1", customer_id
        )
    finally:
        await conn.close()
    return int(count)


async def test_withdrawal_stops_what_is_still_scheduled(settings: Settings, clock: Clock) -> None:
    settings = small(settings)
    now = clock.now()
    rule = m.LongTerm(categories=["fan"], after_years=10)
    async with shop(settings) as s, matcher(settings, clock):
        await s.send(placed("c-early", now - 9 * YEAR, ["fan"]))
        await s.send(placed("c-late", now - 5 * YEAR, ["fan"]))
        await s.idle(clock)
        await s.send(published("adv-fan", rule, now))
        await s.idle(clock)
        clock.advance(YEAR + 5 * DAY)
        assert await s.wait_for("adv-fan", 1) == ["c-early"]
        await s.send(m.AdvisoryWithdrawn(advisory_id="adv-fan", withdrawn_at=clock.now()))
        await s.idle(clock)
        clock.advance(5 * YEAR)
        await s.send(placed("c-after", clock.now(), ["fan"]))
        await s.idle(clock)
        assert await s.requested("adv-fan") == ["c-early"]


async def test_combination_across_channels(settings: Settings, clock: Clock) -> None:
    settings = small(settings)
    now = clock.now()
    rule = m.Combination(groups=[["honey"], ["baby_food", "baby_bottle"]], window_days=30)
    async with shop(settings) as s, matcher(settings, clock):
        # Complete before publication, on two channels: found at publication.
        await s.send(placed("c-before", now - 20 * DAY, ["honey"], channel="store"))
        await s.send(placed("c-before", now - 5 * DAY, ["baby_food"], channel="web"))
        # Too far apart, and incomplete.
        await s.send(placed("c-apart", now - 60 * DAY, ["honey"]))
        await s.send(placed("c-apart", now - 2 * DAY, ["baby_bottle"]))
        await s.send(placed("c-half", now - 2 * DAY, ["honey"]))
        await s.idle(clock)
        await s.send(published("adv-combo", rule, now))
        assert await s.wait_for("adv-combo", 1) == ["c-before"]
        await s.idle(clock)
        # Completed after publication, the second purchase on the shop's app.
        clock.advance(3 * DAY)
        await s.send(placed("c-half", clock.now(), ["baby_bottle"], channel="app", sku="BB-1"))
        await s.send(placed("c-apart", clock.now(), ["honey"], channel="app"))
        await s.idle(clock)
        assert sorted(await s.requested("adv-combo")) == ["c-apart", "c-before", "c-half"]
        half = next(r for b in await s.batches() for r in b.recipients if r.customer_id == "c-half")
        assert [p.sku for p in half.purchases] == ["SKU-1", "BB-1"]
        assert half.reason == "combination"


async def test_one_batch_completes_combinations_in_every_partition(
    settings: Settings, clock: Clock
) -> None:
    settings = small(settings)
    now = clock.now()
    rule = m.Combination(groups=[["honey"], ["baby_food"]], window_days=30)
    done = [f"c-done-{n}" for n in range(120)]  # spread over every bucket partition
    half = [f"c-half-{n}" for n in range(120)]
    async with shop(settings) as s, matcher(settings, clock):
        await s.send(published("adv-many", rule, now))
        await s.idle(clock)
        earlier = [placed(c, now - 3 * DAY, ["honey"]) for c in done + half]
        await s.send(m.OrderBatch(orders=earlier))
        await s.idle(clock)
        # One batch: the second half of each combination for `done`, unrelated lines for
        # `half`, so each lookup must find its own customer's earlier honey and no one else's.
        later = [placed(c, now, ["baby_food"]) for c in done]
        later += [placed(c, now, ["heater"]) for c in half]
        await s.send(m.OrderBatch(orders=later))
        await s.idle(clock)
        assert sorted(await s.requested("adv-many")) == sorted(done)


async def test_recall_by_sku_or_gtin_ever(settings: Settings, clock: Clock) -> None:
    settings = small(settings)
    now = clock.now()
    rule = m.Recall(skus=["HT-9"], gtins=["4901234567894"])
    async with shop(settings) as s, matcher(settings, clock):
        await s.send(placed("c-sku", now - 9 * YEAR, ["heater"], sku="HT-9"))
        await s.send(placed("c-gtin", now - 1 * YEAR, [], sku="X", gtin="4901234567894"))
        await s.send(placed("c-other", now - 1 * YEAR, ["heater"], sku="HT-10"))
        await s.idle(clock)
        await s.send(published("adv-recall", rule, now))
        assert sorted(await s.wait_for("adv-recall", 2)) == ["c-gtin", "c-sku"]
        await s.send(placed("c-late", clock.now(), [], sku="HT-9"))
        await s.idle(clock)
        assert sorted(await s.requested("adv-recall")) == ["c-gtin", "c-late", "c-sku"]
        assert {b.priority for b in await s.batches()} == {m.Priority.RECALL}


async def test_disaster_reaches_the_area_each_time(settings: Settings, clock: Clock) -> None:
    settings = small(settings)
    now = clock.now()
    gen = ["portable_generator"]
    rule = m.Disaster(categories=gen, hazards=["earthquake"], lookback_days=180)
    noto = m.Circle(lat=37.5, lon=137.0, radius_km=50)
    kanazawa = m.Polygon(points=[(36.4, 136.4), (36.8, 136.4), (36.8, 136.9), (36.4, 136.9)])
    async with shop(settings) as s, matcher(settings, clock):
        # The playbook names an event the matcher has not read yet: it waits and retries.
        event = m.DisasterDeclared(
            event_id="eq-1",
            hazard="earthquake",
            title="Noto",
            occurred_at=now,
            areas=[noto, kanazawa, m.Regions(codes=["JP-15", "US"])],
            countries=["JP", "US"],
            advisory_ids=["adv-gen"],
        )
        await s.send(placed("c-circle", now - 30 * DAY, gen, where=JP_17))
        await s.send(placed("c-stale", now - 200 * DAY, gen, where=JP_17))
        await s.send(placed("c-tokyo", now - 30 * DAY, gen, where=TOKYO))
        await s.send(placed("c-other-cat", now - 30 * DAY, ["heater"], where=JP_17))
        kz = m.Location(country="JP", region="JP-17", lat=36.56, lon=136.65)
        await s.send(placed("c-polygon", now - 10 * DAY, gen, where=kz))
        niigata = m.Location(country="JP", region="JP-15")
        await s.send(placed("c-region", now - 10 * DAY, gen, where=niigata))
        await s.send(placed("c-country", now - 10 * DAY, gen, where=BOSTON))
        await s.idle(clock)
        await s.send(event)
        await s.send(published("adv-gen", rule, now))
        expected = ["c-circle", "c-country", "c-polygon", "c-region"]
        assert sorted(await s.wait_for("adv-gen", 4)) == expected
        await s.send(event)  # a repeated declaration changes nothing
        await s.idle(clock)
        assert len(await s.requested("adv-gen")) == 4
        # A standing playbook: the next earthquake reaches the area again.
        clock.advance(DAY)
        again = msgspec.structs.replace(
            event, event_id="eq-2", areas=[noto], occurred_at=clock.now()
        )
        await s.send(again)
        await s.idle(clock)
        batches = [b for b in await s.batches() if b.event_id == "eq-2"]
        assert [r.customer_id for b in batches for r in b.recipients] == ["c-circle"]
        assert {b.priority for b in batches} == {m.Priority.DISASTER}


async def test_audience_estimate_over_request_reply(settings: Settings, clock: Clock) -> None:
    settings = small(settings)
    now = clock.now()
    async with shop(settings) as s, matcher(settings, clock):
        for n in range(5):
            await s.send(placed(f"c-{n}", now - n * 10 * DAY, ["power_bank"]))
        await s.idle(clock)
        rule = m.ShortTerm(categories=["power_bank"], window_days=25)
        reply = await s.nc.request(
            Subjects.MATCHER_AUDIENCE, m.encode(m.AudienceRequest(rule=rule)), timeout=5
        )
        assert m.decoder(m.AudienceEstimate).decode(reply.data).customers == 3
        assert await s.batches() == []  # an estimate requests nothing


async def test_a_poison_order_does_not_hold_up_its_batch(settings: Settings, clock: Clock) -> None:
    settings = small(settings)
    now = clock.now()
    rule = m.ShortTerm(categories=["power_bank"])
    async with shop(settings) as s:
        await s.send(published("adv-pb", rule, now))
        # Undecodable, and decodable but refused by PostgreSQL (a NUL in a text column).
        await s.nc.jetstream().publish(Subjects.ORDERS_PLACED, b"{not json")
        await s.send(placed("c-nul\x00", now, ["power_bank"]))
        await s.send_many([placed(f"c-{n}", now, ["power_bank"]) for n in range(20)])
        async with matcher(settings, clock):
            found = await s.wait_for("adv-pb", 20)
            await s.idle(clock)
        assert sorted(found) == sorted(f"c-{n}" for n in range(20))
        dead = await s.nc.jetstream().stream_info("DEAD")
        assert dead.state.messages == 2


async def test_a_due_entry_rechecks_the_amended_rule(settings: Settings, clock: Clock) -> None:
    settings = small(settings)
    now = clock.now()
    rule = m.LongTerm(categories=["fan", "heater"], after_years=10)
    async with shop(settings) as s, matcher(settings, clock):
        await s.send(placed("c-fan", now - 9 * YEAR, ["fan"]))
        await s.send(placed("c-heater", now - 9 * YEAR, ["heater"]))
        await s.idle(clock)
        await s.send(published("adv-lt", rule, now))
        await s.idle(clock)
        narrowed = msgspec.structs.replace(published("adv-lt", rule, now), version=2)
        narrowed.rule = m.LongTerm(categories=["heater"], after_years=10)
        await s.send(narrowed)
        await s.idle(clock)
        clock.advance(YEAR + 5 * DAY)
        assert await s.wait_for("adv-lt", 1) == ["c-heater"]
        await s.idle(clock)
        assert await s.requested("adv-lt") == ["c-heater"]
