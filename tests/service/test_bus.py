"""The bus against a real NATS server: declare, consume, retry, dead-letter."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from nats.aio.client import Client
from nats.js.api import RetentionPolicy
from nats.js.errors import APIError, NoStreamResponseError

from shared import bus
from shared import messages as m
from shared.bus import Subjects
from shared.metrics import MESSAGES_HANDLED


@pytest.fixture
async def nc(nats_url: str) -> Client:
    client = await bus.connect(nats_url, "test")
    await bus.declare(client, max_deliver=3)
    yield client
    await client.drain()


def _customer(n: int) -> m.CustomerUpserted:
    return m.CustomerUpserted(
        customer_id=f"c-{n}", email=f"c{n}@example.org", updated_at=datetime(2026, 1, 1, tzinfo=UTC)
    )


async def _wait(predicate: object, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():  # type: ignore[operator]
            await asyncio.sleep(0.02)


async def test_declare_is_idempotent(nc: Client) -> None:
    await bus.declare(nc, max_deliver=3)
    info = await nc.jetstream().stream_info("ORDERS")
    assert str(info.config.storage) in ("file", "StorageType.FILE")


async def test_duplicate_msg_id_is_stored_once(nc: Client) -> None:
    subject = Subjects.customer_upserted("c-1")
    first = await bus.publish(nc, subject, _customer(1), "customer:c-1:x")
    again = await bus.publish(nc, subject, _customer(1), "customer:c-1:x")
    assert not first.duplicate and again.duplicate


async def test_consumer_handles_retries_and_dead_letters(nc: Client) -> None:
    seen: list[str] = []
    attempts: dict[str, int] = {}

    async def handler(event: m.CustomerUpserted) -> None:
        attempts[event.customer_id] = attempts.get(event.customer_id, 0) + 1
        if event.customer_id == "c-flaky" and attempts["c-flaky"] == 1:
            raise RuntimeError("database hiccup")
        if event.customer_id == "c-broken":
            raise RuntimeError("always fails")
        seen.append(event.customer_id)

    poison_before = MESSAGES_HANDLED.labels("mailer-customers", "poison")._value.get()
    consumer = bus.Consumer(nc, "mailer-customers", m.CustomerEvent, handler, max_deliver=3)
    js = nc.jetstream()
    subject = Subjects.customer_upserted
    await bus.publish(nc, subject("c-1"), _customer(1), "a")
    await js.publish(subject("?1"), b'{"type":"customer.upserted","oops":1}')
    await js.publish(subject("?2"), b"not json at all")
    flaky = m.CustomerUpserted(customer_id="c-flaky", email="f@example.org")
    broken = m.CustomerUpserted(customer_id="c-broken", email="b@example.org")
    await bus.publish(nc, subject("c-flaky"), flaky, "flaky")
    await bus.publish(nc, subject("c-broken"), broken, "broken")
    await bus.publish(nc, subject("c-2"), _customer(2), "b")
    consumer.start()
    try:
        # The poison messages do not block the ones behind them.
        await _wait(lambda: {"c-1", "c-2"} <= set(seen))
        # The flaky one is retried after a delay (nak with backoff) and then succeeds.
        await _wait(lambda: "c-flaky" in seen)
        # The broken one is given up after max_deliver attempts.
        await _wait(lambda: attempts.get("c-broken") == 3, timeout=20)
        dead = await js.pull_subscribe("dead.>", durable="inspect", stream="DEAD")
        msgs = await dead.fetch(3, timeout=10)
        await dead.unsubscribe()
    finally:
        await consumer.stop()
    reasons = sorted(msg.headers["Anshin-Dead-Reason"].split(":")[0] for msg in msgs)
    assert reasons == ["gave up after 3 attempts", "undecodable", "undecodable"]
    assert all(msg.headers["Anshin-Dead-Consumer"] == "mailer-customers" for msg in msgs)
    assert MESSAGES_HANDLED.labels("mailer-customers", "poison")._value.get() == poison_before + 2
    assert seen.count("c-1") == 1
    info = await js.consumer_info("CUSTOMERS", "mailer-customers")
    assert info.num_ack_pending == 0 and info.num_pending == 0


async def test_the_customers_stream_holds_an_address_only_until_the_mailer_has_it(
    nc: Client,
) -> None:
    js = nc.jetstream()
    config = (await js.stream_info("CUSTOMERS")).config
    assert config.max_msgs_per_subject == 1
    assert config.max_age == 7 * 86400
    assert config.retention == RetentionPolicy.INTEREST

    # A customer who moves twice before the mailer takes anything in: only the latest stays.
    for n, email in enumerate(["first@example.org", "second@example.org", "third@example.org"]):
        moved = m.CustomerUpserted(customer_id="c-1", email=email)
        await bus.publish(nc, Subjects.customer_upserted("c-1"), moved, f"customer:c-1:{n}")
    await bus.publish(nc, Subjects.customer_upserted("c-2"), _customer(2), "customer:c-2")
    assert (await js.stream_info("CUSTOMERS")).state.messages == 2

    seen: list[str] = []

    async def handler(event: m.CustomerUpserted) -> None:
        seen.append(event.email)

    consumer = bus.Consumer(nc, "mailer-customers", m.CustomerEvent, handler, max_deliver=3)
    consumer.start()
    try:
        await _wait(lambda: len(seen) == 2)
        assert sorted(seen) == ["c2@example.org", "third@example.org"]
        # Taken in and acknowledged: the stream keeps no address at all.
        async with asyncio.timeout(10):
            while (await js.stream_info("CUSTOMERS")).state.messages:
                await asyncio.sleep(0.05)
    finally:
        await consumer.stop()


async def test_a_thousand_publish_many_calls_leave_no_subscription_behind(nc: Client) -> None:
    # Each JetStream context that publishes asynchronously subscribes to an inbox of its own
    # for its acks, and that subscription lasts as long as the connection.
    items = [(Subjects.customer_upserted("c-1"), m.encode(_customer(1)), "customer:c-1:leak")]
    await bus.publish_many(nc, items)
    before = len(nc._subs)
    for _ in range(1000):
        await bus.publish_many(nc, items)
    assert len(nc._subs) == before


async def test_publish_each_says_which_messages_failed_and_why(nc: Client) -> None:
    js = nc.jetstream()
    config = (await js.stream_info("ORDERS")).config
    config.max_msg_size = 1000  # a stream that takes less than the server would
    await js.update_stream(config)
    ok = (Subjects.customer_upserted("c-1"), m.encode(_customer(1)), "customer:c-1:each")
    outcomes = await bus.publish_each(
        nc,
        [
            ok,
            (Subjects.ORDERS_PLACED, b"z" * 2000, "order:web:long:placed"),  # refused
            ("nowhere.at.all", b"{}", "nowhere:1"),  # no stream takes it
            (Subjects.ORDERS_PLACED, b"z" * (nc.max_payload + 1), "order:web:huge:placed"),
        ],
        timeout=20.0,
    )
    # JetStream's answers come on each message, not as a timeout (nats-io/nats.py#985).
    assert outcomes[0] is None
    assert isinstance(outcomes[1], APIError) and outcomes[1].err_code == 10054
    assert isinstance(outcomes[2], NoStreamResponseError)
    assert isinstance(outcomes[3], bus.PayloadTooLarge)
    assert nc.is_connected  # the server never saw the message over its max_payload
    with pytest.raises(APIError):
        await bus.publish_many(nc, [ok, (Subjects.ORDERS_PLACED, b"z" * 2000, "order:x")])
