"""Every rule kind is handled everywhere it must be, and the flat rules of before still decode."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, get_args

import msgspec
import pytest

from services.advisory.desk.portal.form import KINDS, LABELS
from services.advisory.lifecycle import AdvisoryIn
from services.advisory.public.openapi import document
from services.matcher import rules
from shared import messages as m
from shared.mail.i18n import STRINGS

FIXTURES = Path(__file__).parent.parent / "fixtures" / "rules"
TYPES: tuple[type[Any], ...] = get_args(m.AdvisoryRule)
NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def tag(rule_type: type[Any]) -> m.Kind:
    """The kind's name on the wire."""
    value: m.Kind = rule_type.__struct_config__.tag
    return value


def own_fields(rule_type: type[Any]) -> list[str]:
    """The kind's own fields, its tag aside."""
    return [f.name for f in msgspec.structs.fields(rule_type)]


def test_the_union_is_the_kinds() -> None:
    assert sorted(tag(t) for t in TYPES) == sorted(get_args(m.Kind))
    for rule_type in TYPES:
        assert rule_type.__struct_config__.tag_field == "kind"
        assert rule_type().kind == tag(rule_type)


@pytest.mark.parametrize("rule_type", TYPES, ids=tag)
def test_the_matcher_knows_the_kind(rule_type: type[Any]) -> None:
    meaning = rules.of(rule_type())
    assert type(meaning) is not rules.KindRule and meaning.rule == rule_type()
    assert rules.PRIORITY[tag(rule_type)] == type(meaning).priority
    # Its own audience and how to reach it: the base only raises.
    for method in ("audience", "reach"):
        assert getattr(type(meaning), method) is not getattr(rules.KindRule, method), method
    assert meaning.audience(NOW, timedelta(days=365)).sql.startswith("active")


@pytest.mark.parametrize("rule_type", TYPES, ids=tag)
def test_shared_meaning_is_declared_with_the_kind(rule_type: type[Any]) -> None:
    """What every service reads the same way: what it concerns, what it needs."""
    assert isinstance(rule_type().concerns(), m.Concerns)
    assert rule_type().problems(), "an empty rule of any kind lacks something"


@pytest.mark.parametrize("rule_type", TYPES, ids=tag)
def test_the_mailer_words_the_kind(rule_type: type[Any]) -> None:
    for lang, strings in STRINGS.items():
        assert strings.get(f"why_{tag(rule_type)}", "").strip(), lang


@pytest.mark.parametrize("rule_type", TYPES, ids=tag)
def test_the_portal_form_offers_the_kind_and_its_fields(rule_type: type[Any]) -> None:
    assert KINDS[tag(rule_type)]
    accepted = {f.name for f in msgspec.structs.fields(AdvisoryIn)}
    for name in own_fields(rule_type):
        assert name in LABELS, name
        assert name in accepted, name  # the API's flat request carries it too


@pytest.mark.parametrize("rule_type", TYPES, ids=tag)
def test_the_openapi_schema_names_the_kind(rule_type: type[Any]) -> None:
    schemas = document()["components"]["schemas"]
    assert tag(rule_type) in schemas["AdvisoryIn"]["properties"]["kind"]["enum"]
    mapping = schemas["AdvisoryOut"]["properties"]["rule"]["discriminator"]["mapping"]
    name = mapping[tag(rule_type)].rsplit("/", 1)[1]
    assert sorted(schemas[name]["properties"]) == sorted(["kind", *own_fields(rule_type)])


def _flat() -> list[bytes]:
    return (FIXTURES / "flat_rules.jsonl").read_bytes().splitlines()


def test_flat_rules_of_before_decode_as_their_kind() -> None:
    decode = msgspec.json.Decoder(m.AdvisoryRule).decode
    short, long, combo, disaster, recall, mixed = (decode(line) for line in _flat())
    assert short == m.ShortTerm(categories=["power_bank"], window_days=30)
    assert long == m.LongTerm(categories=["heater", "fan"], after_years=10)
    assert combo == m.Combination(groups=[["honey"], ["baby_food"]], window_days=14)
    assert disaster == m.Disaster(
        categories=["generator"], hazards=["earthquake"], countries=["JP"], lookback_days=180
    )
    assert recall == m.Recall(skus=["HT-9"], gtins=["04901234567894"])
    # Another kind's fields, set or not, are dropped: they never meant anything to this kind.
    assert mixed == m.ShortTerm(categories=["power_bank"])


def test_flat_messages_of_before_decode() -> None:
    event = m.decoder(m.AdvisoryEvent).decode(
        (FIXTURES / "advisory_published_flat.json").read_bytes()
    )
    assert isinstance(event, m.AdvisoryPublished)
    assert event.rule == m.Recall(skus=["HT-9"], gtins=["04901234567894"])
    question = m.decoder(m.AudienceRequest).decode(
        (FIXTURES / "audience_request_flat.json").read_bytes()
    )
    assert question.rule == m.Combination(groups=[["honey"], ["baby_food"]], window_days=14)


def test_a_rule_encodes_its_kind_first_and_only_its_own_fields() -> None:
    encoded = msgspec.json.encode(m.Recall(skus=["HT-9"]))
    assert encoded == b'{"kind":"recall","skus":["HT-9"],"gtins":[]}'


def test_the_flat_request_keeps_only_the_kind_s_fields() -> None:
    """The API takes the same flat bodies as before; another kind's fields are dropped."""
    raw = {"kind": "short_term", "title": {"en": "t"}, "body": {"en": "b"},
           "embargo_until": "2026-12-01T01:00:00Z", "categories": ["power_bank"],
           "skus": ["PB-1"], "hazards": ["flood"], "window_days": 14}  # fmt: skip
    advisory = msgspec.convert(raw, AdvisoryIn)
    assert advisory.rule() == m.ShortTerm(categories=["power_bank"], window_days=14)
