"""What an SMTP reply means, and when a mail path pauses and resumes: pure logic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.mailer.breaker import Breakers
from services.mailer.paths import RELAY, Paths
from services.mailer.replies import NO_REPLY, Outcome, Result, enhanced_code, verdict
from shared.messages import Priority

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("stage", "code", "text", "outcome", "key"),
    [
        # The mailbox does not exist or is disabled: the address is suppressed.
        (
            "rcpt",
            550,
            "5.1.1 <a@b.jp>: User unknown",
            "bounced",
            "550 5.1.1",
        ),
        ("rcpt", 550, "5.1.10 RESOLVER.ADR.RecipientNotFound", "bounced", "550 5.1.10"),
        (
            "rcpt",
            550,
            "5.2.1 The account is disabled",
            "bounced",
            "550 5.2.1",
        ),
        ("rcpt", 550, "Requested action not taken: mailbox unavailable", "bounced", "550"),
        ("rcpt", 551, "User not local", "bounced", "551"),
        ("rcpt", 553, "Requested action not taken: mailbox name not allowed", "bounced", "553"),
        # Anything else is the path's problem: tried again later.
        ("rcpt", 554, "5.7.1 <a@b.jp>: Relay access denied", "retry", "554 5.7.1"),
        ("rcpt", 550, "5.7.1 Rejected by policy", "retry", "550 5.7.1"),
        ("rcpt", 552, "5.2.2 Mailbox full", "retry", "552 5.2.2"),
        ("rcpt", 553, "5.6.7 not ASCII", "retry", "553 5.6.7"),
        ("rcpt", 554, "Transaction failed", "retry", "554"),
        ("rcpt", 450, "4.2.1 Mailbox busy", "retry", "450 4.2.1"),
        ("data", 550, "5.1.1 User unknown", "retry", "550 5.1.1"),  # at DATA: the message's
        ("data", 554, "5.7.1 Message rejected as spam", "retry", "554 5.7.1"),
        ("mail", 550, "5.1.1 Sender unknown", "retry", "550 5.1.1"),
        ("helo", 550, "Access denied", "retry", "550"),
        ("connect", 554, "No SMTP service here", "retry", "554"),
        ("rcpt", 421, "4.7.0 Closing connection", "retry", "421 4.7.0"),
    ],
)
def test_only_a_dead_mailbox_at_rcpt_is_a_bounce(
    stage: str, code: int, text: str, outcome: str, key: str
) -> None:
    result = verdict(stage, code, text)
    assert result.outcome is Outcome(outcome)
    assert result.code == key and result.stage == stage
    assert result.error == f"{code} {text}"


def test_enhanced_codes_are_read_only_at_the_start() -> None:
    assert enhanced_code("5.1.1 user unknown") == "5.1.1"
    assert enhanced_code("  4.7.0 try later") == "4.7.0"
    assert enhanced_code("user 5.1.1 unknown") == ""
    assert enhanced_code("5.1.1x odd") == ""
    assert enhanced_code("") == ""


def _fail(b: Breakers, path: str, code: str, n: int, at: datetime, source: str = "") -> None:
    for _ in range(n):
        b.heard(path, code, at, source)


def test_a_path_pauses_after_the_same_code_in_a_row_and_a_success_resets_it() -> None:
    b = Breakers(3, timedelta(seconds=30))
    _fail(b, "p", "554 5.7.1", 2, T0)
    b.heard("p", "", T0)  # a mail accepted breaks the streak
    _fail(b, "p", "554 5.7.1", 2, T0)
    b.heard("p", "451 4.7.1", T0)  # so does another code
    _fail(b, "p", "554 5.7.1", 2, T0)
    assert b.paused("p") == ""
    b.heard("p", "554 5.7.1", T0)
    assert b.paused("p") == "554 5.7.1" and b.pauses() == {"p": "554 5.7.1"}


def test_a_paused_path_lets_urgent_mail_probe_and_routine_mail_wait() -> None:
    b = Breakers(2, timedelta(seconds=30), probe=timedelta(seconds=5))
    _fail(b, "p", "554", 2, T0)
    assert b.gate("p", T0, urgent=False) == T0 + timedelta(seconds=30)
    assert b.gate("p", T0, urgent=True) == T0 + timedelta(seconds=5)
    assert b.gate("p", T0 + timedelta(seconds=5), urgent=True) is None  # a probe
    assert b.gate("p", T0 + timedelta(seconds=6), urgent=True) == T0 + timedelta(seconds=10)
    # The probe fails while the pause lasts: nothing changes.
    b.heard("p", "554", T0 + timedelta(seconds=7))
    assert b.gate("p", T0 + timedelta(seconds=29), urgent=False) == T0 + timedelta(seconds=30)
    # After the pause one routine mail probes; refused, the pause doubles.
    after = T0 + timedelta(seconds=31)
    assert b.pause_over("p", after)
    assert b.gate("p", after, urgent=False) is None
    assert b.gate("p", after, urgent=False) == after + timedelta(seconds=5)
    b.heard("p", "550 5.7.1", after)
    assert b.paused("p") == "550 5.7.1"
    assert b.gate("p", after, urgent=False) == after + timedelta(seconds=60)
    # Accepted: closed, and forgotten.
    b.heard("p", "", after + timedelta(seconds=61))
    assert b.paused("p") == "" and b.gate("p", after, urgent=False) is None


def test_the_pause_doubles_up_to_the_longest() -> None:
    b = Breakers(1, timedelta(minutes=4), longest=timedelta(minutes=10))
    at = T0
    b.heard("p", "554", at)
    for expected in (8, 10, 10):
        at += timedelta(minutes=11)
        b.heard("p", "554", at)
        assert b.gate("p", at, urgent=False) == at + timedelta(minutes=expected)


def test_a_path_with_a_spread_pauses_only_for_refusals_of_several_sources() -> None:
    b = Breakers(3, timedelta(seconds=30))
    for _ in range(10):
        b.heard("relay", "554 5.7.1", T0, "domain:a.example", spread=2)
    assert b.paused("relay") == ""  # one domain's refusals
    b.heard("relay", "554 5.7.1", T0, "domain:b.example", spread=2)
    assert b.paused("relay") == "554 5.7.1"
    c = Breakers(3, timedelta(seconds=30))
    for _ in range(3):
        c.heard("relay", NO_REPLY, T0, "", spread=2)  # before RCPT: the relay's own
    assert c.paused("relay") == NO_REPLY


def test_mail_claimed_before_a_pause_is_held_back_but_not_mail_claimed_after() -> None:
    b = Breakers(1, timedelta(seconds=30), probe=timedelta(seconds=5))
    b.heard("p", "554", T0)
    before, after = T0 - timedelta(seconds=1), T0 + timedelta(seconds=1)
    assert b.paused_after("p", before, urgent=False) == T0 + timedelta(seconds=30)
    assert b.paused_after("p", before, urgent=True) == T0 + timedelta(seconds=5)
    assert b.paused_after("p", after, urgent=False) is None


def _refused(stage: str, code: str) -> Result:
    return Result(Outcome.RETRY, f"{code} refused", stage, code)


def test_the_relay_s_pause_explains_its_domains_and_urgent_mail_probes_it() -> None:
    paths = Paths(4, timedelta(seconds=30))
    for n in range(4):
        paths.heard(f"a{n}@d{n % 2}.example", _refused("rcpt", "554 5.7.1"), T0)
    assert paths.breakers.pauses() == {RELAY: "554 5.7.1"}
    # While the relay is paused, its refusals are not the domains'.
    for n in range(10):
        paths.heard(f"b{n}@d0.example", _refused("rcpt", "554 5.7.1"), T0)
    assert paths.breakers.pauses() == {RELAY: "554 5.7.1"}
    # Paused: nothing, then one urgent mail every few seconds, then any one mail.
    assert paths.relay_claim(T0, 200) is None
    assert paths.relay_claim(T0 + timedelta(seconds=5), 200) == (1, Priority.RECALL)
    assert paths.relay_claim(T0 + timedelta(seconds=6), 200) is None
    assert paths.relay_claim(T0 + timedelta(seconds=31), 200) == (1, 0)
    paths.heard("c@d1.example", Result(Outcome.SENT, stage="data"), T0 + timedelta(seconds=32))
    assert paths.relay_claim(T0 + timedelta(seconds=32), 200) == (200, 0)


def test_answers_that_never_reached_the_relay_tell_nothing() -> None:
    paths = Paths(1, timedelta(seconds=30))
    paths.heard("a@b.example", Result(Outcome.FAILED, "553 5.6.7 not ASCII"), T0)
    paths.heard("a@b.example", Result(Outcome.RETRY, "nothing to send"), T0)
    assert paths.breakers.pauses() == {}
    paths.heard("a@b.example", _refused("connect", NO_REPLY), T0)
    assert paths.breakers.pauses() == {RELAY: NO_REPLY}
