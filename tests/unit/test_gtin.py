"""GTINs in every length that labels print them, as the GTIN-14 Anshin compares."""

from __future__ import annotations

import pytest

from shared import gtin


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("4901234567894", "04901234567894"),  # EAN-13 (JAN)
        ("04901234567894", "04901234567894"),  # the same product as GTIN-14
        ("036000291452", "00036000291452"),  # UPC-A
        ("0036000291452", "00036000291452"),  # the same UPC-A as an EAN-13
        ("96385074", "00000096385074"),  # EAN-8
        (" 4901234-567894 ", "04901234567894"),  # as a label groups the digits
        ("１２３４５６７０", "00000012345670"),  # full-width digits, as Japanese forms send them
    ],
)
def test_every_form_of_a_gtin_is_the_same_gtin_14(written: str, stored: str) -> None:
    assert gtin.normalize(written) == stored


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        ("4901234567895", "wrong check digit 5 (GS1 mod 10 gives 4)"),
        ("036000291453", "wrong check digit 3 (GS1 mod 10 gives 2)"),
        ("12345", "5 digits: a GTIN has 8, 12, 13 or 14"),
        ("490123456789412", "15 digits: a GTIN has 8, 12, 13 or 14"),
        ("49012345678X4", "digits only (EAN-8, UPC-A, EAN-13 or GTIN-14)"),
        ("", "digits only (EAN-8, UPC-A, EAN-13 or GTIN-14)"),
        ("0000000000000", "all zeros names no product: leave the GTIN out"),
        ("4" * 40, "at most 32 characters"),
    ],
)
def test_a_wrong_gtin_is_refused_saying_why(written: str, problem: str) -> None:
    with pytest.raises(gtin.InvalidGtin) as refused:
        gtin.normalize(written)
    assert str(refused.value) == problem


def test_what_was_accepted_before_is_compared_padded_as_the_migrations_stored_it() -> None:
    assert gtin.canonical("4901234567894") == "04901234567894"
    assert gtin.canonical("036000291452") == "00036000291452"
    assert gtin.canonical("96385074") == "00000096385074"
    assert gtin.canonical("04901234567894") == "04901234567894"
    # An old value whose check digit is wrong is padded too: the stored rows were.
    assert gtin.canonical("4901234567895") == "04901234567895"
    for kept in (None, "not-a-gtin", "49012345678", "4901-2345-67894", "490123456789412"):
        assert gtin.canonical(kept) == kept
