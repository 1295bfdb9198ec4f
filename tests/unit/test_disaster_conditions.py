"""A disaster playbook's conditions: JMA intensity, JMA warning level, magnitude; on the wire,
in the API, the portal form and /openapi.json, and as the matcher compares places."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest

from services.advisory.desk.portal.form import as_advisory
from services.advisory.lifecycle import AdvisoryIn
from services.advisory.public.openapi import document
from services.matcher import rules
from shared import messages as m

FIXTURES = Path(__file__).parent.parent / "fixtures" / "rules"
NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
CONDITIONS = ("min_intensity", "min_warning", "min_magnitude")


class DisasterBefore(msgspec.Struct, tag="disaster", tag_field="kind", kw_only=True):
    """The playbook as readers before the conditions declare it (main at 86f9e7d)."""

    categories: list[str] = []
    hazards: list[str] = []
    countries: list[str] = []
    lookback_days: int = 180


def test_playbooks_stored_before_decode_with_the_default_conditions() -> None:
    decode = msgspec.json.Decoder(m.AdvisoryRule).decode
    flat = [decode(line) for line in (FIXTURES / "flat_rules.jsonl").read_bytes().splitlines()]
    tagged = decode(msgspec.json.encode(DisasterBefore(categories=["generator"])))
    for rule in [r for r in flat if isinstance(r, m.Disaster)] + [tagged]:
        assert isinstance(rule, m.Disaster)
        assert (rule.min_intensity, rule.min_warning, rule.min_magnitude) == ("5-", "warning", 0)


def test_readers_of_before_take_a_playbook_with_conditions() -> None:
    rule = m.Disaster(categories=["generator"], min_intensity="6-", min_magnitude=6.5)
    old = msgspec.json.decode(msgspec.json.encode(rule), type=DisasterBefore)
    assert old.categories == ["generator"]


@pytest.mark.parametrize(
    ("condition", "level", "inside"),
    [
        ({}, "5-", True),
        ({}, "4", False),
        ({}, "7", True),
        ({"min_intensity": "5+"}, "5-", False),
        ({"min_intensity": "5+"}, "6-", True),
        ({"min_intensity": "1"}, "1", True),
        ({}, "warning", True),
        ({"min_warning": "emergency"}, "warning", False),
        ({"min_warning": "emergency"}, "emergency", True),
        # A level on neither scale (a CAP severity) is not compared.
        ({"min_intensity": "7"}, "severe", True),
    ],
)
def test_a_place_counts_at_or_above_the_condition(
    condition: dict[str, str], level: str, inside: bool
) -> None:
    rule = rules.DisasterRule(m.Disaster(categories=["generator"], **condition))  # type: ignore[arg-type]
    assert rule.counts(level) is inside


def test_places_below_the_condition_are_left_out_by_scheme() -> None:
    rule = rules.DisasterRule(m.Disaster(categories=["generator"], min_intensity="6-"))
    declared = rules.Declared(
        areas=[],
        occurred_at=NOW,
        places=[
            m.Codes(scheme="jis", levels={"17204": "7", "17205": "6-", "17206": "5+"}),
            m.Codes(scheme="fips", levels={"06075": "severe"}),
            m.Codes(scheme="jis", levels={"15100": "4"}),
        ],
    )
    assert rule.places(declared) == [("JP", ["17204", "17205"]), ("US", ["06075"])]


def _body(**more: object) -> dict[str, object]:
    return {
        "kind": "disaster",
        "title": {"en": "t"},
        "body": {"en": "b"},
        "embargo_until": "2026-12-02T00:00:00Z",
        "categories": ["portable_generator"],
        "hazards": ["earthquake"],
        "countries": ["JP"],
    } | more


def test_the_api_takes_the_conditions_and_names_a_wrong_one() -> None:
    advisory = msgspec.convert(
        _body(min_intensity="6+", min_warning="emergency", min_magnitude=7.1), AdvisoryIn
    )
    assert advisory.rule() == m.Disaster(
        categories=["portable_generator"],
        hazards=["earthquake"],
        countries=["JP"],
        min_intensity="6+",
        min_warning="emergency",
        min_magnitude=7.1,
    )
    for field, value in (("min_intensity", "8"), ("min_warning", "注意報"), ("min_magnitude", 11)):
        with pytest.raises(msgspec.ValidationError, match=f"\\$.{field}"):
            msgspec.convert(_body(**{field: value}), AdvisoryIn)


def test_the_portal_form_takes_the_conditions() -> None:
    form = {
        "kind": "disaster",
        "title_en": "Generators after a quake",
        "body_en": "Run it outdoors.",
        "embargo_until": "2026-12-02T00:00",
        "categories": "portable_generator",
        "hazards": "earthquake",
        "countries": "jp",
        "min_intensity": "6-",
        "min_warning": "emergency",
        "min_magnitude": "6.5",
    }
    advisory, problems = as_advisory(form, NOW)
    assert problems == {}
    assert advisory is not None
    rule = advisory.rule()
    assert isinstance(rule, m.Disaster)
    assert (rule.min_intensity, rule.min_warning, rule.min_magnitude) == ("6-", "emergency", 6.5)
    _, problems = as_advisory(form | {"min_intensity": "9", "min_magnitude": "strong"}, NOW)
    assert set(problems) == {"min_intensity", "min_magnitude"}


def test_openapi_describes_each_condition() -> None:
    schemas = document()["components"]["schemas"]
    for name in ("AdvisoryIn", "AdvisoryPatch"):
        properties = schemas[name]["properties"]
        for condition in CONDITIONS:
            assert "Disaster playbooks" in str(properties[condition]), (name, condition)
    intensity = schemas["AdvisoryIn"]["properties"]["min_intensity"]
    assert sorted(intensity["enum"]) == sorted(m.INTENSITIES)
    assert intensity["default"] == "5-"
