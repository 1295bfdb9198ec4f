"""The embargo rule, pure: who sees an advisory, when it publishes, what the public sees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.advisory.lifecycle import STATES, embargo
from shared.errors import Conflict

NOW = datetime(2026, 11, 22, 9, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def test_only_its_agency_and_operators_see_an_advisory() -> None:
    assert embargo.may_see(None, "ag_1")  # an operator
    assert embargo.may_see("ag_1", "ag_1")
    assert not embargo.may_see("ag_2", "ag_1")
    assert not embargo.may_see("", "ag_1")


def test_an_embargoed_advisory_is_due_from_its_embargo_time_on() -> None:
    assert not embargo.is_due("embargoed", NOW + SECOND, NOW)
    assert embargo.is_due("embargoed", NOW, NOW)
    assert embargo.is_due("embargoed", NOW - SECOND, NOW)
    for state in ("published", "withdrawn"):
        assert not embargo.is_due(state, NOW - SECOND, NOW)


def test_a_due_advisory_shows_as_published_and_changes_only_as_a_correction() -> None:
    assert embargo.shown_state("embargoed", NOW + SECOND, NOW) == "embargoed"
    assert embargo.shown_state("embargoed", NOW, NOW) == "published"
    assert embargo.shown_state("withdrawn", NOW - SECOND, NOW) == "withdrawn"
    assert embargo.check_amendable("embargoed", NOW + SECOND, NOW) == "draft"
    # Published, an amendment is a correction; due but not yet published, it must wait.
    assert embargo.check_amendable("published", NOW - SECOND, NOW) == "correction"
    with pytest.raises(Conflict, match="being published: amend it again in a moment"):
        embargo.check_amendable("embargoed", NOW, NOW)
    with pytest.raises(Conflict, match="a withdrawn advisory cannot be amended"):
        embargo.check_amendable("withdrawn", NOW + SECOND, NOW)


def test_a_correction_waits_for_its_own_embargo_and_is_due_from_it() -> None:
    assert embargo.correction_waits(NOW + SECOND, NOW)
    assert not embargo.correction_waits(NOW, NOW)
    assert not embargo.correction_waits(NOW - SECOND, NOW)
    assert embargo.correction_due("published", NOW, NOW)
    assert embargo.correction_due("published", NOW - SECOND, NOW)
    assert not embargo.correction_due("published", NOW + SECOND, NOW)
    assert not embargo.correction_due("published", None, NOW)
    assert not embargo.correction_due("withdrawn", NOW - SECOND, NOW)


def test_only_a_withdrawal_of_a_public_advisory_is_announced() -> None:
    assert embargo.withdrawal("embargoed") == "quiet"
    assert embargo.withdrawal("published") == "announce"
    assert embargo.withdrawal("withdrawn") == "none"


def test_the_public_sees_a_published_advisory_until_it_expires_or_is_withdrawn() -> None:
    assert embargo.is_public("published", None, NOW)
    assert embargo.is_public("published", NOW + SECOND, NOW)
    assert not embargo.is_public("published", NOW, NOW)
    assert not embargo.is_public("embargoed", None, NOW)
    assert not embargo.is_public("withdrawn", None, NOW)
    assert embargo.public_view("published", NOW, None, NOW) == "public"
    assert embargo.public_view("published", NOW, NOW, NOW) == "gone"
    assert embargo.public_view("withdrawn", NOW, None, NOW) == "gone"
    # Never published: an embargoed id (withdrawn or not) is as unknown as a missing one.
    assert embargo.public_view("embargoed", None, None, NOW) == "none"
    assert embargo.public_view("withdrawn", None, None, NOW) == "none"


def test_only_an_advisory_published_once_may_cross_the_bus() -> None:
    assert not embargo.ever_public(None)
    assert embargo.ever_public(NOW)


def test_the_sql_predicates_name_their_table_and_time() -> None:
    assert embargo.due_sql() == "a.state = 'embargoed' AND a.embargo_until <= $1"
    assert "advisories.expires_at > $3" in embargo.public_sql("$3", "advisories")
    assert set(STATES) == {"embargoed", "published", "withdrawn"}
