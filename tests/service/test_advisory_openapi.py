"""/openapi.json describes every endpoint the advisory service answers."""

from __future__ import annotations

import aiohttp
import jsonschema
import pytest

from services.advisory.app import build
from services.advisory.public.openapi import document
from shared.clock import Clock
from shared.config import Settings
from tests.support.fixtures import running


async def test_every_route_is_documented_and_every_documented_path_served(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    app = build(settings, clock)
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    async with running(build, settings, clock, settings.advisory_port) as base:
        reply = await http.get(f"{base}/openapi.json")
        assert reply.status == 200
        doc = await reply.json()
    documented = {(method, path) for path, ops in doc["paths"].items() for method in ops}
    assert served == documented
    assert doc["openapi"].startswith("3.1")
    for ops in doc["paths"].values():
        for op in ops.values():
            for answer in op["responses"].values():
                for media in answer.get("content", {}).values():
                    jsonschema.Draft202012Validator.check_schema(media["schema"])


def test_the_contract_rejects_an_answer_of_the_wrong_shape() -> None:
    doc = document()
    schema = doc["paths"]["/v1/advisories"]["post"]["responses"]["201"]["content"]
    created = {**schema["application/json"]["schema"], "components": doc["components"]}
    jsonschema.validate({"id": "adv_1", "state": "embargoed", "version": 1}, created)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"id": "adv_1", "state": "pending", "version": 1}, created)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"id": "adv_1"}, created)
