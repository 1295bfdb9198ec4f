"""Mailbox providers by recipient domain, and when their figures pause routine mail."""

from __future__ import annotations

import pytest

from services.mailer.mailboxes import Figures, Rules, judge, provider, table


@pytest.mark.parametrize(
    ("domain", "name"),
    [
        ("gmail.com", "gmail"),
        ("GoogleMail.com.", "gmail"),
        ("yahoo.com", "yahoo"),
        ("yahoo.co.uk", "yahoo"),
        ("yahoo.co.jp", ""),  # Yahoo! JAPAN: another company
        ("aol.com", "yahoo"),
        ("outlook.com", "microsoft"),
        ("hotmail.co.jp", "microsoft"),
        ("live.jp", "microsoft"),
        ("msn.com", "microsoft"),
        ("docomo.ne.jp", "docomo"),
        ("au.com", "au"),
        ("ezweb.ne.jp", "au"),
        ("softbank.ne.jp", "softbank"),
        ("i.softbank.jp", "softbank"),
        ("t.softbank.ne.jp", "softbank"),
        ("example.jp", ""),
        ("live.example.co.jp", ""),  # a label alike, then someone else's domain
        ("notgmail.com", ""),
        ("fakedocomo.ne.jp", ""),
    ],
)
def test_a_domain_belongs_to_its_provider(domain: str, name: str) -> None:
    assert provider(domain) == name


def test_a_provider_pauses_once_its_complaint_rate_passes_the_limit() -> None:
    rules = Rules(complaint_rate=0.001, policy_rate=0.01, min_sent=100)
    assert judge(Figures(provider="gmail", sent=1000, complaints=1), rules) == ""  # 0.1 %
    assert judge(Figures(provider="gmail", sent=999, complaints=1), rules) == "complaints"
    assert judge(Figures(provider="gmail", sent=99, complaints=50), rules) == ""  # too few
    assert judge(Figures(provider="gmail", sent=1000, policy=10), rules) == ""
    assert judge(Figures(provider="gmail", sent=1000, policy=11), rules) == "policy"
    assert judge(Figures(provider="gmail", sent=1000, hard=900), rules) == ""


def test_the_table_sums_a_providers_domains_and_leaves_the_rest_out() -> None:
    rules = Rules(min_sent=3)
    found = table(
        {
            "gmail.com": Figures(provider="", sent=2, complaints=1),
            "googlemail.com": Figures(provider="", sent=1),
            "example.jp": Figures(provider="", sent=50, complaints=50),
        },
        rules,
    )
    names = ["gmail", "yahoo", "microsoft", "docomo", "au", "softbank"]
    assert [f.provider for f in found] == names
    assert (found[0].sent, found[0].complaints, found[0].paused) == (3, 1, "complaints")
    assert all(f.sent == 0 and not f.paused for f in found[1:])
