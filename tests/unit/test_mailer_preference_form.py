"""What a POST to the preference page asks, read strictly."""

from __future__ import annotations

import pytest
from aiohttp.web_request import FileField
from multidict import MultiDict, MultiDictProxy

from services.mailer.preferences import Action, Choice, read
from shared.errors import Invalid


def form(*pairs: tuple[str, str]) -> MultiDictProxy[str | bytes | bytearray | FileField]:
    found: MultiDict[str | bytes | bytearray | FileField] = MultiDict(pairs)
    return MultiDictProxy(found)


def test_one_click_and_a_bare_post_stop_all() -> None:
    assert read(form(("List-Unsubscribe", "One-Click"))) == Choice(Action.STOP)
    assert read(form()) == Choice(Action.STOP)
    assert read(form(("action", "stop"))) == Choice(Action.STOP)


def test_save_keeps_the_ticked_families_and_turns_the_rest_off() -> None:
    chosen = read(form(("action", "save"), ("disaster", "on"), ("long_term", "on")))
    assert chosen == Choice(Action.SAVE, ("short_term", "combination"))
    everything = read(form(("action", "save")))
    assert everything.off == ("short_term", "long_term", "combination", "disaster")


@pytest.mark.parametrize(
    ("pairs", "field"),
    [
        ((("action", "unsubscribe"),), "action"),
        ((("action", "save"), ("disaster", "off")), "disaster"),
        ((("action", "save"), ("disaster", "on"), ("disaster", "on")), "disaster"),
        ((("action", "save"), ("recall", "on")), "recall"),
    ],
)
def test_a_form_the_page_does_not_offer_is_refused_by_field(
    pairs: tuple[tuple[str, str], ...], field: str
) -> None:
    with pytest.raises(Invalid) as refused:
        read(form(*pairs))
    assert [d["field"] for d in refused.value.details] == [field]
