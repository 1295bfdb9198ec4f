"""Advisory validation names the field and the problem."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from services.advisory.agencies.names import MAX_AGENCY_NAME, agency_name
from services.advisory.lifecycle import Advisory
from services.advisory.lifecycle.publication import published_event
from services.advisory.lifecycle.submission import (
    MAX_ENCODED,
    AdvisoryIn,
    AdvisoryPatch,
    amend,
    validate,
)
from shared import messages as m
from shared.bus.size import DEFAULT_MAX_PAYLOAD
from shared.errors import Invalid, TooLarge

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def _advisory(**changes: object) -> AdvisoryIn:
    raw: dict[str, object] = {
        "kind": "short_term",
        "categories": ["power_bank"],
        "title": {"en": "T"},
        "body": {"en": "B"},
        "embargo_until": (NOW + timedelta(hours=1)).isoformat(),
    }
    raw.update(changes)
    return msgspec.convert(raw, AdvisoryIn)


def _fields(exc: Invalid) -> set[str]:
    return {d["field"] for d in exc.details}


def test_a_valid_advisory_passes() -> None:
    validate(_advisory(), NOW)


def test_embargo_in_the_past_is_refused() -> None:
    with pytest.raises(Invalid) as info:
        validate(_advisory(embargo_until=(NOW - timedelta(seconds=1)).isoformat()), NOW)
    assert _fields(info.value) == {"embargo_until"}


def test_each_kind_names_its_missing_parameters() -> None:
    with pytest.raises(Invalid) as info:
        validate(_advisory(kind="disaster"), NOW)
    assert _fields(info.value) == {"hazards", "countries"}
    with pytest.raises(Invalid) as info:
        validate(_advisory(kind="recall", categories=[]), NOW)
    assert _fields(info.value) == {"skus"}
    with pytest.raises(Invalid) as info:
        validate(_advisory(kind="combination", groups=[["honey"]]), NOW)
    assert _fields(info.value) == {"groups"}


def test_a_category_code_that_names_no_category_is_refused_with_the_nearest_codes() -> None:
    # Such an advisory would be accepted and then reach nobody, without a word to anyone.
    with pytest.raises(Invalid) as info:
        validate(_advisory(categories=["power_bank", "heater"]), NOW)
    (detail,) = info.value.details
    assert detail["field"] == "categories[1]"
    assert "unknown category 'heater'" in detail["problem"]
    assert "'electric_heater'" in detail["problem"] and "'gas_heater'" in detail["problem"]
    with pytest.raises(Invalid) as info:
        validate(_advisory(kind="combination", groups=[["honey"], ["baby_product", "zzz"]]), NOW)
    assert _fields(info.value) == {"groups[1][0]", "groups[1][1]"}
    assert "'baby_products'" in info.value.details[0]["problem"]
    validate(_advisory(kind="combination", groups=[["honey"], ["baby_products"]]), NOW)


def test_empty_text_is_refused() -> None:
    with pytest.raises(Invalid) as info:
        validate(_advisory(title={"en": "  "}, body={"ja": "本文"}), NOW)
    assert _fields(info.value) == {"title.en", "body.en", "title.ja"}


def test_a_title_is_one_line_without_control_characters() -> None:
    # A title becomes the mail's Subject: a line break there would start a header.
    with pytest.raises(Invalid) as info:
        validate(_advisory(title={"en": "Recall\r\nBcc: all@example.com"}), NOW)
    assert info.value.details == [
        {"field": "title.en", "problem": "must be one line without control characters (U+000D)"}
    ]
    validate(_advisory(body={"en": "Two\n\nparagraphs are fine in a body."}), NOW)


def test_unknown_kind_and_fields_are_validation_errors() -> None:
    with pytest.raises(msgspec.ValidationError):
        _advisory(kind="weekly")
    with pytest.raises(msgspec.ValidationError, match="colour"):
        _advisory(colour="red")


def test_a_source_url_must_be_a_web_address() -> None:
    with pytest.raises(Invalid) as info:
        validate(_advisory(source_url="javascript:alert(1)"), NOW)
    assert _fields(info.value) == {"source_url"}
    validate(_advisory(source_url="https://agency.example/advice"), NOW)


def test_every_language_has_both_a_title_and_a_body() -> None:
    with pytest.raises(Invalid) as info:
        validate(_advisory(title={"en": "T", "fr": "Titre"}), NOW)
    assert info.value.details == [
        {"field": "body.fr", "problem": "required in every language given"}
    ]


def test_an_amendment_changes_only_the_fields_it_names() -> None:
    patch = msgspec.convert({"window_days": 14, "expires_at": None}, AdvisoryPatch)
    amended = amend(_advisory(expires_at=(NOW + timedelta(days=9)).isoformat()), patch)
    assert amended.window_days == 14 and amended.expires_at is None
    assert amended.title == {"en": "T"} and amended.categories == ["power_bank"]
    with pytest.raises(msgspec.ValidationError, match="kind"):
        msgspec.convert({"kind": "weekly"}, AdvisoryPatch)


def _langs(n: int) -> list[str]:
    return [a + b for a in "abcdefghij" for b in "abcdefghijklmnopqrstuvwxyz"][:n]


def test_an_advisory_must_fit_well_within_one_bus_message() -> None:
    # Twenty languages of 20,000 characters each pass every per-language limit.
    langs = ["en", *_langs(19)]
    texts = {"title": dict.fromkeys(langs, "T"), "body": dict.fromkeys(langs, "語" * 20_000)}
    with pytest.raises(TooLarge) as info:
        validate(_advisory(**texts), NOW)
    [detail] = info.value.details
    assert detail["field"] == "body.en" and f"at most {MAX_ENCODED}" in detail["problem"]
    assert info.value.status == 413

    # So do a thousand SKUs of 64 four-byte characters beside long texts: the lists count too.
    skus = [f"{n:03d}" + "𠮷" * 61 for n in range(1000)]
    langs = ["en", *_langs(3)]
    texts = {"title": dict.fromkeys(langs, "T"), "body": dict.fromkeys(langs, "語" * 20_000)}
    with pytest.raises(TooLarge) as info:
        validate(_advisory(skus=skus, **texts), NOW)
    assert info.value.details[0]["field"] == "skus"


def test_the_largest_advisory_accepted_publishes_within_half_of_max_payload() -> None:
    langs = ["en", *_langs(4)]
    advisory = _advisory(
        title=dict.fromkeys(langs, "𠮷" * 300),
        body=dict.fromkeys(langs, ""),
        source_url="https://agency.example/" + "a" * 1900,
    )
    room = MAX_ENCODED - len(msgspec.json.encode(advisory))
    for lang in langs:  # every language as long as it may be, until the limit is reached
        advisory.body[lang] = "𠮷" * min(20_000, room // 4)
        room -= 4 * len(advisory.body[lang])
    advisory.body[langs[-1]] += "x" * room
    assert len(msgspec.json.encode(advisory)) == MAX_ENCODED
    validate(advisory, NOW)
    name = agency_name("𠮷" * MAX_AGENCY_NAME)
    content = msgspec.to_builtins(advisory)
    row = content | {"id": "adv_" + "f" * 16, "version": 999, "agency_id": "ag_" + "f" * 16}
    row |= {"agency_name": name, "rule": msgspec.to_builtins(advisory.rule())}
    row |= {"concerns": msgspec.to_builtins(advisory.rule().concerns())}
    row |= {"state": "embargoed", "created_at": NOW, "published_at": None, "withdrawn_at": None}
    event = published_event(msgspec.convert(row, Advisory), NOW)
    # What the bus carries, with room to spare under the server's limit (1 MiB).
    assert len(m.encode(event)) <= DEFAULT_MAX_PAYLOAD // 2


def test_an_agency_name_is_one_short_line() -> None:
    assert agency_name("  Consumer Safety Institute ") == "Consumer Safety Institute"
    for bad in ("", "   ", "x" * (MAX_AGENCY_NAME + 1), "NITE\r\nBcc: x@evil.example"):
        with pytest.raises(Invalid) as info:
            agency_name(bad)
        assert _fields(info.value) == {"name"}
