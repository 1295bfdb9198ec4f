"""The local mailbox's quick reading of a plain `<local@domain>` address gives what aiosmtpd's
RFC 5322 parser gives, for any text after MAIL FROM: or RCPT TO:."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from aiosmtpd.smtp import SMTP
from hypothesis import given
from hypothesis import strategies as st

from deploy.mailbox_smtp import QuickSMTP

_ATOM = st.text("abcXYZ019!#$%&'*+/=?^_`{|}~-", min_size=1, max_size=6)
_LABEL = st.text("abz09-", min_size=1, max_size=5)
LOCAL = st.lists(_ATOM, min_size=1, max_size=3).map(".".join)
DOMAIN = st.lists(_LABEL, min_size=1, max_size=3).map(".".join)
PLAIN = st.builds(lambda local, domain: f"<{local}@{domain}>", LOCAL, DOMAIN)
AFTER = st.sampled_from(
    ["", " SIZE=1234", "  BODY=8BITMIME SIZE=5", " x", "\t", ">", "@a>", " (note) SIZE=1", "(x)"]
)
NEAR = st.text('<>@.a "\\()[]:,;-', max_size=12)  # what is nearly a plain address


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[SMTP, QuickSMTP]]:
    loop = asyncio.new_event_loop()
    try:
        yield SMTP(None, loop=loop), QuickSMTP(None, loop=loop)
    finally:
        loop.close()


def outcome(server: SMTP, arg: str) -> object:
    try:
        return server._getaddr(arg)
    except Exception as error:  # aiosmtpd's parser raises more than HeaderParseError
        return type(error)


@given(arg=st.one_of(st.builds(str.__add__, PLAIN, AFTER), NEAR, st.text(max_size=30)))
def test_quick_address_reading_agrees_with_aiosmtpd(
    servers: tuple[SMTP, QuickSMTP], arg: str
) -> None:
    theirs, ours = servers
    assert outcome(ours, arg) == outcome(theirs, arg)


def test_a_plain_address_and_its_parameters() -> None:
    loop = asyncio.new_event_loop()
    try:
        server = QuickSMTP(None, loop=loop)
        assert server._getaddr("<c1@example.jp> SIZE=12") == ("c1@example.jp", "SIZE=12")
    finally:
        loop.close()
