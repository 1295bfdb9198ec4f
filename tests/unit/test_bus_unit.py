"""Pure parts of the bus: topology and backoff."""

from __future__ import annotations

from shared.bus import CONSUMERS, STREAMS
from shared.bus.consumer import backoff


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
