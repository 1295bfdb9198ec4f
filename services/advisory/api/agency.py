"""/v1/agency: the calling agency's own settings (its time zone), read and changed with its key."""

from __future__ import annotations

from aiohttp import web

from services.advisory.agencies import store
from services.advisory.agencies.auth import Caller, authenticate
from services.advisory.api.advisories import PRIVATE, decode
from services.advisory.api.schemas import AgencyOut, AgencyPatch
from shared.dates import is_zone
from shared.errors import Forbidden, Invalid, field_error
from shared.http import POOL, json_response, read_body

routes = web.RouteTableDef()

MAX_BYTES = 4096
NOT_A_ZONE = "not an IANA time zone such as Asia/Tokyo or UTC"


def check_timezone(name: str) -> str:
    """`name` if it is an IANA time zone; else Invalid naming the field `timezone`."""
    if not is_zone(name):
        raise Invalid("invalid agency", [field_error("timezone", NOT_A_ZONE)])
    return name


def _agency_of(caller: Caller) -> str:
    if caller.agency_id is None:
        raise Forbidden("an agency's own settings: use the agency's key")
    return caller.agency_id


@routes.get("/v1/agency")
async def get_agency(request: web.Request) -> web.Response:
    """The calling agency: id, name, time zone."""
    agency_id = _agency_of(await authenticate(request))
    found = await store.agency(request.app[POOL], agency_id)
    return json_out(found)


@routes.patch("/v1/agency")
async def patch_agency(request: web.Request) -> web.Response:
    """Set the calling agency's time zone: the portal's times are shown and read in it."""
    agency_id = _agency_of(await authenticate(request))
    change = decode(await read_body(request, MAX_BYTES), AgencyPatch)
    await store.set_timezone(request.app[POOL], agency_id, check_timezone(change.timezone))
    return json_out(await store.agency(request.app[POOL], agency_id))


def json_out(found: dict[str, str]) -> web.Response:
    """An agency's answer, never cached by anyone in between."""
    return json_response(AgencyOut(**found), headers=PRIVATE)
