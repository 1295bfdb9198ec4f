"""Unsubscribe links cannot be forged, bent or made to crash the mailer."""

from __future__ import annotations

import base64

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.mailer import tokens
from tests.support.figures import record

SECRET = "s3cret-for-tests"
STRINGS = 500  # strings tried as tokens
PAIRS = 300  # (victim, attacker) pairs, each with FORGERIES forged links
FORGERIES = 9


def test_any_string_is_refused_unless_signed_by_us() -> None:
    tried: list[str] = []

    # Drawing e-mail addresses is slow on a busy machine; the examples, not their pace, matter.
    @settings(max_examples=STRINGS, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        token=st.text(max_size=120),
        customer=st.text(min_size=1, max_size=40),
        email=st.emails(),
    )
    def refused(token: str, customer: str, email: str) -> None:
        tried.append(token)
        genuine = tokens.make(SECRET, customer, email)
        assert tokens.verify(SECRET, genuine) == (customer, tokens.address(SECRET, customer, email))
        # Whatever arrives in the URL (non-ASCII too) is an answer, never an exception, and
        # nothing but what our secret signed is taken.
        assert tokens.verify(SECRET, token) is None or token == genuine

    refused()
    record("security: unsubscribe token, any string", inputs=len(tried))
    assert len(tried) >= STRINGS, "every string asked for was tried"


def test_a_link_cannot_be_bent_to_another_customer() -> None:
    tried: list[str] = []

    @settings(max_examples=PAIRS, database=None)
    @given(victim=st.text(min_size=1, max_size=40), attacker=st.text(min_size=1, max_size=40))
    def refused(victim: str, attacker: str) -> None:
        mine = tokens.make(SECRET, attacker, "me@example.com")
        _, _, signed = mine.partition(".")
        body = base64.urlsafe_b64encode(victim.encode()).decode().rstrip("=")
        forged = [
            f"{body}.{signed}",  # my address and signature on the victim's id
            f"{body}.{signed.rpartition('.')[2]}",  # my signature alone, as a two-part token
            f"{body}.",  # no signature
            body,  # no dot at all
            f"{body}.{tokens.make('another-secret', victim, 'v@example.com').partition('.')[2]}",
            f"{body}.{signed[:-2]}",  # truncated
            f"{body}.{signed}é",  # a non-ASCII tail
            f"{body}.é{signed[1:]}",
            f"{body}.{signed}.{signed}",  # too many parts
        ]
        assert len(forged) == FORGERIES
        if victim == attacker:
            forged.pop(0)  # that one is genuine
        for token in forged:
            tried.append(token)
            assert tokens.verify(SECRET, token) is None, token

    refused()
    record(
        "security: unsubscribe token bent to another customer",
        inputs=len(tried),
        note=f"up to {FORGERIES} forgeries of each of {PAIRS} links",
    )
    assert len(tried) >= PAIRS * (FORGERIES - 1), "every forgery asked for was tried"
