"""A customer's rights, the pure parts: retention settings, hashes and pseudonyms, the
streams' keep."""

from __future__ import annotations

import pytest

from services.mailer import privacy as mailer_privacy
from services.mailer import retention as mailer_retention
from shared import config
from shared.bus import STREAMS


def test_purchases_are_kept_eleven_years_at_least() -> None:
    assert config.load({}).matcher_purchase_retention_days >= 11 * 365 + 2
    with pytest.raises(SystemExit, match="matcher_purchase_retention_days"):
        config.load({"ANSHIN_MATCHER_PURCHASE_RETENTION_DAYS": str(10 * 365)})
    for name in ("RETENTION_BATCH", "INGEST_ORDER_RETENTION_DAYS", "DEAD_LETTER_RETENTION_DAYS"):
        with pytest.raises(SystemExit):
            config.load({f"ANSHIN_{name}": "0"})


def test_hashes_are_keyed_stable_and_apart_by_kind() -> None:
    key, other = mailer_privacy.erasure_key("a"), mailer_privacy.erasure_key("b")
    address = "hanako@example.jp"
    assert mailer_privacy.keyed(key, "email", address) == mailer_privacy.keyed(
        key, "email", address
    )
    assert mailer_privacy.keyed(key, "email", address) != mailer_privacy.keyed(
        other, "email", address
    )
    assert mailer_privacy.keyed(key, "email", "c-1") != mailer_privacy.keyed(key, "customer", "c-1")
    pseudonym = mailer_privacy.pseudonym(key, "c-42")
    assert pseudonym.startswith("erased:") and "c-42" not in pseudonym
    assert mailer_privacy.pseudonym(key, "c-42", "expired").split(":")[1] == pseudonym.split(":")[1]
    # A lock key is a signed 64-bit integer, as PostgreSQL's advisory locks take.
    assert -(2**63) <= mailer_privacy.lock_key(key, "c-42") < 2**63


def test_an_erased_customers_hash_outlives_what_the_stream_may_still_hold() -> None:
    customers = next(s for s in STREAMS if s.name == "CUSTOMERS")
    privacy = next(s for s in STREAMS if s.name == "PRIVACY")
    assert customers.max_age_days < mailer_retention.TOMBSTONE_DAYS
    assert privacy.interest and privacy.max_age_days > 0
