"""The desks' languages and times: the reader's language, the Japanese catalogue whole, local
times read in an agency's zone and shown with UTC beside them, the form per rule kind."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import get_args

import msgspec
import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from services.advisory.desk import i18n, times
from services.advisory.desk.portal.form import (
    FIELD_KINDS,
    INPUTS,
    KIND_FIELDS,
    LABELS,
    NO_SUCH_TIME,
    TWICE,
    as_advisory,
    utc_texts,
)
from shared.dates import NoSuchLocalTime, is_zone, utc_of_local
from shared.messages import AdvisoryRule

ROOT = Path(__file__).parents[2]
PO = ROOT / "services/advisory/desk/locale/ja/LC_MESSAGES/desk.po"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("ja-JP,ja;q=0.9,en-US;q=0.8,en;q=0.7", "ja"),
        ("en-US,en;q=0.9,ja;q=0.8", "en"),
        ("fr-FR,fr;q=0.9,ja;q=0.5,en;q=0.4", "ja"),  # French is not a desk language
        ("en;q=0.5, ja", "ja"),  # the quality decides, not the order
        ("JA", "ja"),
        ("fr", None),
        ("ja;q=0, en;q=0.1", "en"),  # q=0: not acceptable
        ("de, *;q=0.1", None),
        ("ja;q=zero", None),
        ("", None),
        (",;;=,", None),
        ("de," * 40 + "ja", None),  # past what a browser sends: not read
    ],
)
def test_accept_language_picks_the_desk_language_it_prefers(header: str, lang: str | None) -> None:
    assert i18n.reader_language("", header) == (lang or "en")


def test_the_readers_own_pick_wins_over_the_browser_and_a_forged_one_is_ignored() -> None:
    assert i18n.reader_language("en", "ja-JP,ja") == "en"
    assert i18n.reader_language("ja", "en-US") == "ja"
    assert i18n.reader_language("", "ja-JP") == "ja"
    for forged in ("xx", "ja;", "../ja", "fr"):
        assert i18n.reader_language(forged, "en") == "en"
    assert i18n.reader_language("", "") == "en"


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"%\((\w+)\)[sd]", text))


def test_every_word_of_the_desks_has_its_japanese_with_the_same_placeholders() -> None:
    """What the templates and the desk's modules say, extracted as pybabel does, is in ja."""
    mapping = [
        ("advisory/desk/**.py", "python"),
        ("advisory/peers/funnel.py", "python"),
        ("advisory/desk/templates/**.j2", "jinja2.ext:babel_extract"),
    ]
    keywords = DEFAULT_KEYWORDS | {"N_": None}
    found = extract_from_dir(str(ROOT / "services"), mapping, keywords=keywords)
    said = {message for _, _, message, _, _ in found}
    assert len(said) > 200
    with PO.open("rb") as po:
        catalog = read_po(po, locale="ja")
    translated = {m.id: m.string for m in catalog if m.id and not m.fuzzy}
    for msgid in said:
        key = msgid if isinstance(msgid, str) else msgid[0]
        full = msgid if isinstance(msgid, tuple) else key
        assert full in translated, f"no Japanese for {key!r}"
        translation = translated[full]
        words = translation if isinstance(translation, str) else (translation or [""])[0]
        # Written in Japanese, but for the codes Japanese agencies write as they are.
        assert words and (
            key in ("GTINs", "SKUs") or re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", words)
        ), key
        assert _placeholders(words) == _placeholders(key), key
    compiled = i18n.translations("ja")
    assert compiled.gettext("Sign in") == "サインイン"
    assert compiled.gettext("Embargo until (%(zone)s)") % {"zone": "Asia/Tokyo"} == (
        "解禁日時（Asia/Tokyo）"
    )


def test_a_tokyo_wall_clock_time_is_its_utc_instant_and_a_skipped_or_doubled_one_is_refused() -> (
    None
):
    assert utc_of_local(datetime(2026, 12, 10, 10, 0), "Asia/Tokyo") == datetime(
        2026, 12, 10, 1, 0, tzinfo=UTC
    )
    assert utc_of_local(datetime(2026, 7, 1, 9, 0), "Europe/Paris") == datetime(
        2026, 7, 1, 7, 0, tzinfo=UTC
    )
    with pytest.raises(NoSuchLocalTime) as gap:
        utc_of_local(datetime(2026, 3, 8, 2, 30), "America/New_York")
    assert not gap.value.twice
    with pytest.raises(NoSuchLocalTime) as fold:
        utc_of_local(datetime(2026, 11, 1, 1, 30), "America/New_York")
    assert fold.value.twice
    assert is_zone("Asia/Tokyo") and is_zone("UTC")
    assert not is_zone("Asia/Tokio") and not is_zone("") and not is_zone("../../etc/passwd")


def test_a_time_is_shown_in_the_pages_zone_with_utc_beside_it() -> None:
    at = datetime(2026, 12, 10, 1, 0, tzinfo=UTC)
    with times.zone_of_page("Asia/Tokyo"):
        shown = str(times.when(at))
    assert "2026-12-10 10:00 JST</time>" in shown and "(2026-12-10 01:00 UTC)" in shown
    assert 'datetime="2026-12-10T01:00:00+00:00"' in shown
    with times.zone_of_page("UTC"):
        assert "utc" not in str(times.when(at)) and "2026-12-10 01:00 UTC" in str(times.when(at))
    assert str(times.when(None)) == "—"


def _form(**changes: str) -> dict[str, str]:
    return {
        "kind": "short_term",
        "categories": "power_bank",
        "title_en": "Using your power bank safely",
        "body_en": "Never charge it unattended.",
        "embargo_until": "2026-12-10T10:00",
    } | changes


def test_the_form_reads_times_in_the_agencys_zone() -> None:
    advisory, problems = as_advisory(_form(deliver_by="2026-12-10T12:30"), NOW, "Asia/Tokyo")
    assert problems == {} and advisory is not None
    assert advisory.embargo_until == datetime(2026, 12, 10, 1, 0, tzinfo=UTC)
    assert advisory.deliver_by == datetime(2026, 12, 10, 3, 30, tzinfo=UTC)
    assert utc_texts(_form(), "Asia/Tokyo") == {"embargo_until": "2026-12-10 01:00 UTC"}
    # In UTC, as before time zones.
    same, _ = as_advisory(_form(), NOW)
    assert same is not None and same.embargo_until == datetime(2026, 12, 10, 10, 0, tzinfo=UTC)
    # A time New York's clocks skip, or pass twice, is named next to its field.
    skipped = _form(embargo_until="2027-03-14T02:30")
    assert as_advisory(skipped, NOW, "America/New_York") == (None, {"embargo_until": NO_SUCH_TIME})
    doubled = _form(embargo_until="2026-12-20T10:00", expires_at="2027-11-07T01:30")
    assert as_advisory(doubled, NOW, "America/New_York") == (None, {"expires_at": TWICE})


def test_the_form_has_the_fields_of_each_kind_and_ignores_another_kinds() -> None:
    kinds = {rule.__struct_config__.tag for rule in get_args(AdvisoryRule)}
    assert set(KIND_FIELDS) == kinds
    for rule in get_args(AdvisoryRule):
        names = [f.name for f in msgspec.structs.fields(rule)]
        assert list(KIND_FIELDS[rule.__struct_config__.tag]) == names
        for name in names:
            assert name in INPUTS and name in LABELS
            assert rule.__struct_config__.tag in FIELD_KINDS[name]
    # A recall's GTIN left in the page (scripts off) is not a short-term advisory's problem.
    advisory, problems = as_advisory(_form(gtins="not a gtin", hazards="BAD!"), NOW)
    assert problems == {} and advisory is not None and advisory.gtins == []
    # The chosen kind's own fields are still checked.
    _, problems = as_advisory(_form(kind="recall", gtins="123"), NOW)
    assert set(problems) == {"gtins"}
