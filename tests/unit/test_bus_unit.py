"""Pure parts of the bus: topology, backoff, message sizes and batches split by size."""

from __future__ import annotations

import json
from collections.abc import Sequence

from nats.js.errors import APIError, ServiceUnavailableError

from shared.bus import CONSUMERS, OUTBOX_DEAD_SUBJECT, STREAMS, split, wire_size
from shared.bus.consumer import backoff
from shared.outbox_dead import refused


def test_every_consumer_reads_a_declared_stream() -> None:
    names = {s.name for s in STREAMS}
    for spec in CONSUMERS.values():
        assert spec.stream in names


def test_no_two_streams_share_a_subject() -> None:
    subjects = [subject for s in STREAMS for subject in s.subjects]
    assert len(subjects) == len(set(subjects))


def test_backoff_grows_and_is_capped() -> None:
    assert backoff(1) < backoff(2) < backoff(4)
    assert backoff(50) == 60


def _encode(items: Sequence[str]) -> bytes:
    return json.dumps({"items": list(items)}).encode()


def test_batches_are_split_by_count_and_by_encoded_size() -> None:
    items = [f"{n:03d}" + "x" * (n % 7) * 10 for n in range(95)]
    parts = split(items, _encode, most=20, limit=300)
    assert [i for part, _ in parts for i in part] == items  # all, once, in order
    assert all(len(part) <= 20 for part, _ in parts)
    assert all(payload == _encode(part) for part, payload in parts)
    assert all(len(payload) <= 300 for _, payload in parts)
    assert len(parts) > 95 // 20 + 1  # the count alone would have made 5


def test_an_item_too_large_alone_stays_alone_and_the_others_are_packed() -> None:
    items = ["a", "b", "c", "x" * 500, "d", "e"]
    parts = split(items, _encode, most=500, limit=100)
    assert [list(part) for part, _ in parts if "x" * 500 in part] == [["x" * 500]]
    assert [i for part, _ in parts for i in part] == items
    assert len(parts) <= 4
    assert split(items[:3], _encode, most=500, limit=100) == [(items[:3], _encode(items[:3]))]


def test_the_wire_size_counts_the_header_block() -> None:
    # NATS/1.0\r\n, "Nats-Msg-Id: abc\r\n", \r\n: the server counts it with the payload.
    assert wire_size(b"12345", {"Nats-Msg-Id": "abc"}) == 10 + 18 + 2 + 5
    assert wire_size(b"12345", {}) == 5


def test_outbox_notices_go_to_the_dead_letter_stream() -> None:
    dead = next(s for s in STREAMS if s.name == "DEAD")
    assert dead.subjects == ["dead.>"]
    assert OUTBOX_DEAD_SUBJECT.format(schema="ingest").startswith("dead.")


def test_only_a_refusal_of_the_message_counts_against_it() -> None:
    assert refused(APIError(code=400, err_code=10054, description="message size exceeds maximum"))
    assert not refused(ServiceUnavailableError(code=503, description="no leader"))
    assert not refused(TimeoutError())
