"""The README documents every setting with its real default."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shared.config import Settings, env_name

README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
ROWS = dict(re.findall(r"^\| `([A-Z0-9_]+)` \| `([^`]*)` \|", README, flags=re.M))


@pytest.mark.parametrize("field", Settings.__struct_fields__)
def test_every_setting_is_in_the_readme_with_its_default(field: str) -> None:
    name = env_name(field)
    assert name in ROWS, f"{name} is missing from the README's settings table"
    assert ROWS[name] == str(getattr(Settings(), field)), f"{name}: README default differs"


def test_the_readme_lists_no_setting_that_does_not_exist() -> None:
    known = {env_name(field) for field in Settings.__struct_fields__}
    assert set(ROWS) <= known
