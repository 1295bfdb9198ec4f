"""/openapi.json: every endpoint of the advisory service, its schemas generated from code."""

from __future__ import annotations

from typing import Any, NamedTuple

import msgspec
from aiohttp import web

from services.advisory.api import schemas as s
from services.advisory.disasters.events import DisasterOut
from services.advisory.disasters.feeds import PlainEvent
from services.advisory.lifecycle import AdvisoryIn, AdvisoryPatch
from services.advisory.public.notices import Notices
from shared.http import json_response

routes = web.RouteTableDef()

HTML = "text/html"
_WHY = {
    200: "OK",
    303: "Done: see the page named by Location",
    201: "Created",
    202: "Accepted, not acted upon",
    304: "Not modified since the ETag given",
    400: "Malformed input; details name each field",
    401: "No key, or an unknown one",
    403: "Not the caller's (or no such advisory, for an agency)",
    404: "No such resource",
    409: "The advisory's state forbids the change",
    410: "Withdrawn",
    413: "Body too large",
    415: "Unsupported content type",
    429: "Too many failed authentications of this key from this client; see Retry-After",
    503: "The service asked did not answer",
}


class Op(NamedTuple):
    """One operation: where, what it answers, what it takes."""

    method: str
    path: str
    summary: str
    answers: dict[int, Any]
    body: dict[str, Any] = {}
    query: tuple[str, ...] = ()
    secured: bool = True


_ID = "/v1/advisories/{advisory_id}"
OPS = [
    Op("post", "/v1/advisories", "Submit an advisory (embargoed until embargo_until)",
       {201: s.Created, 400: s.ErrorOut, 401: s.ErrorOut, 413: s.ErrorOut},
       {"application/json": AdvisoryIn}, ("agency_id",)),
    Op("get", "/v1/advisories", "The caller's advisories (all, for operators)",
       {200: s.AdvisoryList, 401: s.ErrorOut}),
    Op("get", _ID, "One advisory", {200: s.AdvisoryOut, 401: s.ErrorOut, 403: s.ErrorOut,
       404: s.ErrorOut}),
    Op("patch", _ID, "Amend: a new version (published: a correction, mailed to recipients)",
       {200: s.Created, 400: s.ErrorOut, 401: s.ErrorOut, 403: s.ErrorOut, 404: s.ErrorOut,
        409: s.ErrorOut, 413: s.ErrorOut}, {"application/json": AdvisoryPatch}),
    Op("post", _ID + "/withdraw", "Withdraw: pending mail stops, notices come down",
       {200: s.Created, 400: s.ErrorOut, 401: s.ErrorOut, 403: s.ErrorOut, 404: s.ErrorOut},
       {"application/json": s.Withdrawal}),
    Op("get", _ID + "/preview", "The mail as a customer would receive it",
       {200: s.Preview, 400: s.ErrorOut, 401: s.ErrorOut, 403: s.ErrorOut, 404: s.ErrorOut},
       query=("lang",)),
    Op("get", _ID + "/audience", "Estimate of the customers reached (matcher)",
       {200: s.Audience, 401: s.ErrorOut, 403: s.ErrorOut, 404: s.ErrorOut, 503: s.ErrorOut}),
    Op("get", _ID + "/report", "Reach by state and day; funnel: bought to acted, explained",
       {200: s.Report, 401: s.ErrorOut, 403: s.ErrorOut, 404: s.ErrorOut, 503: s.ErrorOut}),
    Op("get", _ID + "/evidence",
       "Evidence: every delivery event, hash-chained JSON lines, the head signed (Ed25519)",
       {200: "application/x-ndjson", 401: s.ErrorOut, 403: s.ErrorOut, 404: s.ErrorOut,
        503: s.ErrorOut}),
    Op("get", "/v1/agency", "The calling agency: id, name, time zone",
       {200: s.AgencyOut, 401: s.ErrorOut, 403: s.ErrorOut}),
    Op("patch", "/v1/agency", "Set the calling agency's time zone (IANA), the portal's times",
       {200: s.AgencyOut, 400: s.ErrorOut, 401: s.ErrorOut, 403: s.ErrorOut, 413: s.ErrorOut},
       {"application/json": s.AgencyPatch}),
    Op("get", "/.well-known/anshin-evidence-key", "The public key of evidence exports (PEM)",
       {200: "application/x-pem-file"}, secured=False),
    Op("post", "/v1/events", "Disasters: CAP or JMA XML, USGS or NWS GeoJSON, JSON",
       {200: DisasterOut, 201: DisasterOut, 202: DisasterOut, 400: s.ErrorOut,
        401: s.ErrorOut, 403: s.ErrorOut, 413: s.ErrorOut, 415: s.ErrorOut},
       {"application/json": PlainEvent, "application/cap+xml": str, "application/xml": str,
        "application/geo+json": dict[str, Any]}, ("countries", "dry_run")),
    Op("get", "/v1/products/{sku}/notices", "Published notices about a product (cacheable)",
       {200: Notices, 304: None, 400: s.ErrorOut}, query=("lang",), secured=False),
    Op("get", "/safety", "Published advice by category (HTML)", {200: HTML, 400: s.ErrorOut},
       query=("lang",), secured=False),
    Op("get", "/safety/{advisory_id}", "One published advice (HTML)",
       {200: HTML, 400: s.ErrorOut, 404: HTML, 410: HTML}, query=("lang",), secured=False),
    Op("get", "/console", "Operators' page: advisories and disasters (HTML; Bearer or Basic)",
       {200: HTML, 401: HTML}),
    Op("get", "/console/advisories/{advisory_id}", "Operators: an advisory, reach, versions (HTML)",
       {200: HTML, 401: HTML, 404: HTML}),
    Op("get", "/console/disasters/{disaster_id}", "Operators: one disaster, its places with "
       "their customers, on a map (HTML)", {200: HTML, 401: HTML, 404: HTML}),
    Op("get", "/console/drill", "Operators: the dry-run form (HTML)", {200: HTML, 401: HTML}),
    Op("post", "/console/drill", "Operators: dry-run an event document pasted or uploaded, as "
       "POST /v1/events?dry_run=true; nothing is sent (form; HTML)",
       {200: HTML, 400: HTML, 401: HTML, 403: HTML, 413: s.ErrorOut},
       {"multipart/form-data": str}),
    Op("post", "/console/dead-letters/{seq}/replay", "Operators: replay a dead letter once (form)",
       {303: None, 401: HTML, 403: HTML, 404: s.ErrorOut},
       {"application/x-www-form-urlencoded": str}),
    Op("get", "/console/suppressions", "Operators: suppressed addresses by reason, masked (HTML)",
       {200: HTML, 401: HTML}, query=("lifted", "requeued", "problem")),
    Op("post", "/console/suppressions/find", "Operators: one suppressed address (form; HTML)",
       {200: HTML, 303: None, 401: HTML, 403: HTML},
       {"application/x-www-form-urlencoded": str}),
    Op("post", "/console/suppressions/lift", "Operators: lift a bounce's suppression (form)",
       {303: None, 401: HTML, 403: HTML}, {"application/x-www-form-urlencoded": str}),
    Op("get", "/console/providers", "Operators: mail per mailbox provider, paused or not (HTML)",
       {200: HTML, 401: HTML}),
    Op("get", "/portal", "Agencies: sign in, or their advisories (HTML; cookie)",
       {200: HTML}, secured=False),
    Op("post", "/portal/login", "Agencies: sign in with the key (form; sets an HttpOnly cookie)",
       {303: None, 401: HTML, 403: HTML, 429: s.ErrorOut},
       {"application/x-www-form-urlencoded": str}, secured=False),
    Op("post", "/portal/logout", "Agencies: sign out (form)", {303: None, 403: HTML},
       {"application/x-www-form-urlencoded": str}, secured=False),
    Op("get", "/portal/new", "Agencies: the form of a new advisory (HTML)",
       {200: HTML, 303: None}, secured=False),
    Op("post", "/portal/advisories", "Agencies: submit an advisory (form)",
       {303: None, 400: HTML, 403: HTML}, {"application/x-www-form-urlencoded": str},
       secured=False),
    Op("get", "/portal/advisories/{advisory_id}",
       "Agencies: one of theirs: preview, audience, reach (HTML)",
       {200: HTML, 303: None, 404: HTML}, query=("lang",), secured=False),
    Op("get", "/portal/advisories/{advisory_id}/evidence",
       "Agencies: one of theirs: its signed evidence (JSON lines, as the API's)",
       {200: "application/x-ndjson", 303: None, 404: HTML, 503: s.ErrorOut}, secured=False),
    Op("get", "/portal/advisories/{advisory_id}/amend",
       "Agencies: the amendment form of one of theirs (HTML)",
       {200: HTML, 303: None, 404: HTML}, secured=False),
    Op("post", "/portal/advisories/{advisory_id}/amend",
       "Agencies: amend one of theirs; published, a correction (form)",
       {303: None, 400: HTML, 403: HTML, 404: HTML}, {"application/x-www-form-urlencoded": str},
       secured=False),
    Op("get", "/openapi.json", "This document", {200: dict[str, Any]}, secured=False),
    Op("get", "/healthz", "Alive", {200: dict[str, Any]}, secured=False),
    Op("get", "/readyz", "Connected to NATS and PostgreSQL",
       {200: dict[str, Any], 503: s.ErrorOut}, secured=False),
    Op("get", "/metrics", "Prometheus metrics", {200: "text/plain"}, secured=False),
]  # fmt: skip


def unsecured() -> set[tuple[str, str]]:
    """The routes that take no key, as (method, path): the key throttle leaves them alone."""
    return {(op.method.upper(), op.path) for op in OPS if not op.secured}


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the advisory service."""
    types = [t for op in OPS for t in (*op.answers.values(), *op.body.values())]
    schemas, components = msgspec.json.schema_components(
        [t for t in types if not isinstance(t, str) and t is not None],
        ref_template="#/components/schemas/{name}",
    )
    index = iter(schemas)
    lookup: dict[int, dict[str, Any]] = {}
    for t in types:
        if not isinstance(t, str) and t is not None:
            lookup[id(t)] = next(index)
    paths: dict[str, dict[str, Any]] = {}
    for op in OPS:
        paths.setdefault(op.path, {})[op.method] = _operation(op, lookup)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Anshin advisory", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"key": {"type": "http", "scheme": "bearer"}},
        },
    }


def _operation(op: Op, lookup: dict[int, dict[str, Any]]) -> dict[str, Any]:
    params = [
        {"name": name[1:-1], "in": "path", "required": True, "schema": {"type": "string"}}
        for name in op.path.split("/")
        if name.startswith("{")
    ]
    params += [{"name": q, "in": "query", "schema": {"type": "string"}} for q in op.query]
    result: dict[str, Any] = {"summary": op.summary, "parameters": params, "responses": {}}
    for status, kind in op.answers.items():
        answer: dict[str, Any] = {"description": _WHY[status]}
        if isinstance(kind, str):
            answer["content"] = {kind: {"schema": {"type": "string"}}}
        elif kind is not None:
            answer["content"] = {"application/json": {"schema": lookup[id(kind)]}}
        result["responses"][str(status)] = answer
    if op.body:
        content = {
            media: {"schema": {"type": "string"} if kind is str else lookup[id(kind)]}
            for media, kind in op.body.items()
        }
        result["requestBody"] = {"required": True, "content": content}
    if op.secured:
        result["security"] = [{"key": []}]
        # shared/throttle.py answers any request with credentials this way
        error = {"application/json": {"schema": lookup[id(s.ErrorOut)]}}
        result["responses"]["429"] = {"description": _WHY[429], "content": error}
    return result


_DOCUMENT: dict[str, Any] = {}


@routes.get("/openapi.json")
async def openapi(_: web.Request) -> web.Response:
    """This service's OpenAPI document."""
    if not _DOCUMENT:
        _DOCUMENT.update(document())
    return json_response(_DOCUMENT, headers={"Cache-Control": "public, max-age=300"})
