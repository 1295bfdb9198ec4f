"""Validation errors name the field and the problem."""

from __future__ import annotations

import msgspec
import pytest

from shared.errors import Invalid
from shared.http import decode_json


class Inner(msgspec.Struct):
    email: str


class Outer(msgspec.Struct):
    order_id: str
    customer: Inner


def _details(body: bytes) -> list[dict[str, str]]:
    with pytest.raises(Invalid) as info:
        decode_json(body, Outer)
    return info.value.details


def test_a_wrong_type_names_its_path() -> None:
    [detail] = _details(b'{"order_id": 5, "customer": {"email": "a@b.c"}}')
    assert detail == {"field": "order_id", "problem": "Expected `str`, got `int`"}


def test_a_missing_field_is_named_itself_not_its_parent() -> None:
    assert _details(b'{"customer": {"email": "a@b.c"}}')[0]["field"] == "order_id"
    assert _details(b'{"order_id": "A", "customer": {}}')[0]["field"] == "customer.email"


def test_malformed_json_names_the_document() -> None:
    [detail] = _details(b'{"order_id": ')
    assert detail["field"] == "$"
    assert "truncated" in detail["problem"].lower() or "malformed" in detail["problem"].lower()
