"""The mailer's DATA bytes: exactly what aiosmtplib would send for the same message."""

from __future__ import annotations

from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings
from hypothesis import given
from hypothesis import strategies as st

from services.mailer.wire import data_bytes


def aiosmtplib_bytes(message: bytes) -> bytes:
    """What `SMTPProtocol.execute_data_command` writes after DATA."""
    return PERIOD_REGEX.sub(b"..", normalize_message_line_endings(message)) + b".\r\n"


# Line ends of every kind, dots and plain text: the cases either path must get right.
pieces = st.sampled_from([b"\r\n", b"\n", b"\r", b".", b"..", b"a", b"Subject: x", b" "])


@given(st.lists(pieces, max_size=30).map(b"".join))
def test_any_message_comes_out_as_aiosmtplib_sends_it(message: bytes) -> None:
    assert data_bytes(message) == aiosmtplib_bytes(message)


def test_a_composed_message_is_dot_stuffed_at_its_start_and_after_each_line() -> None:
    message = b".first\r\nSubject: a\r\n\r\n.\r\n..two\r\nend."
    assert data_bytes(message) == b"..first\r\nSubject: a\r\n\r\n..\r\n...two\r\nend.\r\n.\r\n"
    assert data_bytes(message) == aiosmtplib_bytes(message)


def test_lone_line_ends_are_normalized_as_before() -> None:
    message = b"a\nb\rc\r\n.d"
    assert data_bytes(message) == b"a\r\nb\r\nc\r\n..d\r\n.\r\n"
    assert data_bytes(b"") == aiosmtplib_bytes(b"") == b"\r\n.\r\n"
