"""The operators' key, checked once for every service: Bearer or Basic, never an empty key."""

from __future__ import annotations

import base64

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from shared.errors import Unauthorized
from shared.operator import is_operator_key, require_operator

KEY = "op-" + "k" * 40


def _request(authorization: str | None) -> web.Request:
    headers = {} if authorization is None else {"Authorization": authorization}
    return make_mocked_request("GET", "/", headers=headers)


def test_the_operator_key_as_bearer_or_as_basic_password() -> None:
    assert require_operator(_request(f"Bearer {KEY}"), KEY) == KEY
    assert require_operator(_request(f"bearer  {KEY} "), KEY) == KEY
    basic = base64.b64encode(f"anyone:{KEY}".encode()).decode()
    assert require_operator(_request(f"Basic {basic}"), KEY) == KEY


@pytest.mark.parametrize(
    "authorization", [None, "", "Bearer", "Bearer nope", f"Token {KEY}", "Bearer ключ", "Basic !"]
)
def test_anything_else_is_unauthorized_naming_the_header(authorization: str | None) -> None:
    with pytest.raises(Unauthorized) as info:
        require_operator(_request(authorization), KEY)
    assert info.value.details[0]["field"] == "Authorization"


def test_an_empty_setting_makes_nobody_an_operator() -> None:
    assert not is_operator_key("", "")
    with pytest.raises(Unauthorized):
        require_operator(_request("Bearer "), "")
