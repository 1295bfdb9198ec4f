"""Typed channels: every durable decodes what its subjects carry, and ids name facts as before."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, get_args

from shared import messages as m
from shared.bus import CONSUMERS, channels

AT = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: `*` one token, `>` the rest."""
    want, got = pattern.split("."), subject.split(".")
    for i, token in enumerate(want):
        if token == ">":
            return len(got) > i
        if i >= len(got) or token not in ("*", got[i]):
            return False
    return len(want) == len(got)


def decoded(inbox: channels.Inbox[Any]) -> set[type[Any]]:
    return set(get_args(inbox.decodes)) or {inbox.decodes}


def test_every_inbox_is_a_declared_durable_and_every_service_durable_has_one() -> None:
    durables = {inbox.durable for inbox in channels.INBOXES}
    assert durables <= set(CONSUMERS)
    assert {d for d in CONSUMERS if not d.endswith("-exhausted")} == durables


def test_what_a_durable_takes_in_is_what_its_inbox_decodes() -> None:
    for inbox in channels.INBOXES:
        spec = CONSUMERS[inbox.durable]
        for channel in channels.CHANNELS:
            if any(matches(f, channel.subject) for f in spec.filter_subjects):
                assert channel.message in decoded(inbox), (inbox.durable, channel.subject)


def test_every_channel_is_heard_by_some_durable() -> None:
    filters = [f for inbox in channels.INBOXES for f in CONSUMERS[inbox.durable].filter_subjects]
    for channel in channels.CHANNELS:
        assert any(matches(f, channel.subject) for f in filters), channel.subject


def test_message_ids_name_the_facts_as_they_did_before_the_channels() -> None:
    published = m.AdvisoryPublished(
        advisory_id="adv_1", version=3, agency_id="ag", agency_name="A", rule=m.Recall(),
        title={}, body={}, published_at=AT,
    )  # fmt: skip
    withdrawn = m.AdvisoryWithdrawn(advisory_id="adv_1", withdrawn_at=AT)
    declared = m.DisasterDeclared(
        event_id="dis_9", hazard="earthquake", title="t", occurred_at=AT, areas=[],
        countries=["JP"], advisory_ids=[],
    )  # fmt: skip
    shard = m.FanoutShard(job_id="publication:adv_1:v3", advisory_id="adv_1", shard=7, shards=16,
                          requested_at=AT)  # fmt: skip
    batch = m.DeliveryBatch(batch_id="adv_1::c-1:2", advisory_id="adv_1", kind="recall",
                            priority=m.Priority.RECALL, requested_at=AT, recipients=[])  # fmt: skip
    assert channels.ADVISORY_PUBLISHED.outgoing(published)[:2] == (
        "advisories.published", "advisory:adv_1:v3:published")  # fmt: skip
    assert channels.ADVISORY_WITHDRAWN.outgoing(withdrawn)[:2] == (
        "advisories.withdrawn", "advisory:adv_1:withdrawn")  # fmt: skip
    assert channels.DISASTER_DECLARED.outgoing(declared)[:2] == (
        "disasters.declared", "disaster:dis_9:declared")  # fmt: skip
    assert channels.FANOUT_SHARD.outgoing(shard)[:2] == (
        "matcher.fanout", "fanout:publication:adv_1:v3:7")  # fmt: skip
    assert channels.DELIVERIES_REQUESTED.outgoing(batch)[:2] == (
        "deliveries.requested", "deliveries:adv_1::c-1:2")  # fmt: skip
    payload = channels.ADVISORY_PUBLISHED.outgoing(published)[2]
    assert m.decoder(m.AdvisoryEvent).decode(payload) == published
