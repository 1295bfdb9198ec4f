"""Evidence an agency can verify: `GET /v1/advisories/{id}/evidence` and the public key."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.advisory.api.advisories import PRIVATE, owned
from services.advisory.evidence import keys
from services.advisory.evidence.chain import Chain
from services.advisory.lifecycle import Advisory, embargo
from services.advisory.peers import evidence
from shared import messages as m
from shared.http import NATS
from shared.service import CLOCK, SETTINGS

routes = web.RouteTableDef()
SIGNING_KEY: web.AppKey[Ed25519PrivateKey] = web.AppKey("evidence_key")


@contextlib.asynccontextmanager
async def signing(app: web.Application) -> AsyncIterator[None]:
    """Derive the evidence key once, at start-up."""
    app[SIGNING_KEY] = keys.signing_key(app[SETTINGS])
    yield


@routes.get(keys.WELL_KNOWN)
async def public_key(request: web.Request) -> web.Response:
    """Anshin's evidence key, public half, PEM: what `anshin evidence verify` checks against."""
    pem = keys.public_pem(request.app[SIGNING_KEY].public_key())
    return web.Response(body=pem, content_type="application/x-pem-file", charset="ascii")


@routes.get("/v1/advisories/{advisory_id}/evidence")
async def export(request: web.Request) -> web.StreamResponse:
    """Every event of the advisory's deliveries as hash-chained JSON lines, ending with the
    chain's head signed; customers only as this advisory's pseudonyms."""
    return await stream(request, await owned(request))


async def stream(request: web.Request, advisory: Advisory) -> web.StreamResponse:
    """The evidence export of an advisory the caller may see (the API's, the portal's)."""
    nc = request.app[NATS]
    # Asked before the answer starts: a mailer that does not answer is a 503, not a cut file.
    first = m.EvidencePage(advisory_id=advisory.id)
    if embargo.ever_public(advisory.published_at):  # the embargoed id never crosses the bus
        first = await evidence.first_page(nc, advisory.id)
    reply = web.StreamResponse(
        headers={
            **PRIVATE,
            "Content-Type": "application/x-ndjson; charset=utf-8",
            "Content-Disposition": f'attachment; filename="evidence-{advisory.id}.jsonl"',
        }
    )
    await reply.prepare(request)
    chain = Chain(advisory.id)
    # A page that fails later cuts the file before its signed head: it cannot verify.
    async for page in evidence.pages(nc, first):
        await reply.write(b"".join(chain.row(event) for event in page.events))
    await reply.write(chain.head(request.app[SIGNING_KEY], request.app[CLOCK].now()))
    await reply.write_eof()
    return reply
