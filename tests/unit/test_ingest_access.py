"""Channel keys as pure functions: their form, their hash, who may write which records."""

from __future__ import annotations

import hashlib
import re

import pytest

from services.ingest import access, formats
from services.ingest.formats import Indexed
from services.ingest.model import OrderEvent, Rejection
from shared.errors import Forbidden, Invalid


def test_a_key_starts_with_its_public_id_and_is_kept_as_a_hash() -> None:
    key, key_id = access.new_key()
    assert re.fullmatch(r"ck_[0-9a-f]{8}_[A-Za-z0-9_-]{43}", key)
    assert key.startswith(f"ck_{key_id}_") and len(key_id) == access.ID_LENGTH
    assert access.hash_key(key) == hashlib.sha256(key.encode()).hexdigest()
    assert access.new_key()[0] != key


@pytest.mark.parametrize("name", ["web", "app-2", "grocery.kobe", "A_1", "x" * 64])
def test_plain_names_name_a_channel(name: str) -> None:
    assert access.check_name(name) == name


@pytest.mark.parametrize("name", ["", "web shop", "-web", "ウェブ", "a/b", "x" * 65, "w\x00"])
def test_other_names_are_refused_naming_the_rule(name: str) -> None:
    with pytest.raises(Invalid, match="cannot name a channel: 1 to 64 letters"):
        access.check_name(name)


def test_each_writer_writes_its_own_records_only() -> None:
    web, operator = access.Writer("channel", "web"), access.Writer("operator")
    catalog = access.Writer("catalog", "pim")
    grocery = formats.get("grocery")
    assert access.default_channel(web, grocery) == "web"
    assert access.default_channel(operator, grocery) == "grocery"
    assert access.default_channel(operator, formats.get("canonical")) == ""
    records: Indexed = [
        (0, OrderEvent(event="cancelled", channel="web", order_id="A")),
        (1, Rejection([])),  # unread, so written by nobody
        (2, OrderEvent(event="returned", channel="app", order_id="B")),
    ]
    access.claim(operator, records)
    access.claim(web, records[:2])
    with pytest.raises(Forbidden) as refused:
        access.claim(web, records)
    assert refused.value.details == [
        {"index": 2, "field": "channel", "problem": "'app' is not this key's channel ('web')"}
    ]
    access.require_channel(web, "web")
    access.require_channel(operator, "app")
    for writer, channel in ((web, "app"), (catalog, "pim")):
        with pytest.raises(Forbidden):
            access.require_channel(writer, channel)
    with pytest.raises(Forbidden):
        access.default_channel(catalog, grocery)
    access.require_catalog(catalog)
    access.require_catalog(operator)
    with pytest.raises(Forbidden, match="may not write the catalog"):
        access.require_catalog(web)
