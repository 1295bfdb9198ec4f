"""The mailer's MAIL, RCPT and DATA bytes: exactly what aiosmtplib would send for the same mail."""

from __future__ import annotations

from aiosmtplib.email import quote_address
from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings
from hypothesis import given
from hypothesis import strategies as st

from services.mailer.wire import PLAIN, data_bytes, quoted


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


def aiosmtplib_quoted(address: str) -> bytes | type[Exception]:
    """What `SMTP.mail` and `SMTP.rcpt` put after FROM: and TO:, or the error they raise."""
    try:
        return quote_address(address).encode("ascii")
    except ValueError as exc:
        return type(exc)


def ours(address: str) -> bytes | type[Exception]:
    try:
        return quoted(address)
    except ValueError as exc:
        return type(exc)


# Plain characters, the ones parseaddr treats specially, and a few outside ASCII.
chars = st.sampled_from(list("aZ09.-_+=!#$%&'*/?^`{|}~@ <>\"()[],:;\\\r\né"))


@given(st.text(chars, max_size=24))
def test_any_address_is_quoted_as_aiosmtplib_quotes_it(address: str) -> None:
    assert ours(address) == aiosmtplib_quoted(address)


@given(st.from_regex(PLAIN, fullmatch=True))
def test_a_plain_address_is_quoted_as_aiosmtplib_quotes_it(address: str) -> None:
    assert ours(address) == aiosmtplib_quoted(address)


def test_addresses_of_the_mailer() -> None:
    for address in ("bounce+k2vd7mj3@anshin.example", "hanako@example.jp", "a..b@x.", ".a@b"):
        assert ours(address) == aiosmtplib_quoted(address)
