"""Text from outside made inert: control characters never survive into a header."""

from __future__ import annotations

import pytest

from shared.text import control_in, inert


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("Hanako", "Hanako"),
        ("  Hanako  ", "Hanako"),
        ("A\r\nReply-To: x@evil", "A Reply-To: x@evil"),
        ("A\rB\nC\tD\x00E\x7fF\x85G\u2028H\u2029I", "A B C D E F G H I"),
        ("山田\u3000花子", "山田\u3000花子"),  # an ideographic space is a space, not a control
        ("Zoë 👩\u200d🔧", "Zoë 👩\u200d🔧"),  # a joiner is a format character, not a control
        ("\r\n", ""),
    ],
)
def test_inert_text_keeps_every_character_but_controls(given: str, expected: str) -> None:
    assert inert(given) == expected


def test_control_in_names_the_first_control_character() -> None:
    assert control_in("plain title") is None
    assert control_in("山田　花子") is None
    assert control_in("A\r\nB") == "U+000D"
    assert control_in("tab\there") == "U+0009"
    assert control_in("line\u2028sep") == "U+2028"
