"""Unsubscribe links cannot be forged, bent or made to crash the mailer."""

from __future__ import annotations

import base64

from hypothesis import given, settings
from hypothesis import strategies as st

from services.mailer import tokens
from tests.support.figures import record

SECRET = "s3cret-for-tests"
TRIED = {"n": 0}


@settings(max_examples=500, database=None)
@given(token=st.text(max_size=120), customer=st.text(min_size=1, max_size=40))
def test_any_string_is_refused_unless_signed_by_us(token: str, customer: str) -> None:
    TRIED["n"] += 1
    genuine = tokens.make(SECRET, customer)
    assert tokens.verify(SECRET, genuine) == customer
    # Whatever arrives in the URL (non-ASCII too) is an answer, never an exception; and a
    # token is taken only with the signature that only our secret makes for its customer.
    named = tokens.verify(SECRET, token)
    if named is not None:
        assert token.partition(".")[2] == genuine.partition(".")[2] or named != customer
        assert token.partition(".")[2] == tokens.make(SECRET, named).partition(".")[2]


@settings(max_examples=300, database=None)
@given(victim=st.text(min_size=1, max_size=40), attacker=st.text(min_size=1, max_size=40))
def test_a_link_cannot_be_bent_to_another_customer(victim: str, attacker: str) -> None:
    TRIED["n"] += 1
    mine = tokens.make(SECRET, attacker)
    _, _, signature = mine.partition(".")
    body = base64.urlsafe_b64encode(victim.encode()).decode().rstrip("=")
    forged = [
        f"{body}.{signature}",  # my signature on the victim's id
        f"{body}.",  # no signature
        body,  # no dot at all
        f"{body}.{tokens.make('another-secret', victim).partition('.')[2]}",  # another key
        f"{body}.{signature[:-2]}",  # truncated
        f"{body}.{signature}é",  # a non-ASCII tail
        f"{body}.é{signature[1:]}",
    ]
    if victim == attacker:
        forged.pop(0)  # that one is genuine
    for token in forged:
        assert tokens.verify(SECRET, token) is None, token


def test_zz_record_the_tries() -> None:
    record("security: unsubscribe token forgery", inputs=TRIED["n"], note="7 forgeries each")
