"""A brake on key guessing: too many refused keys from one address, and it must wait.

Every answer 401 to a request that carried a key (an `Authorization` header, or the
portal's sign-in form) counts as a failed attempt of its client address. After `limit`
failures within `window` seconds, every request from that address that carries a key is
answered 429 (with `Retry-After`) without looking at the key, until the window of its
oldest failure has passed. Requests without a key, and the public routes (those
/openapi.json lists as unsecured: pages, notices, health, metrics), are never held up. The
state lives in the application, per replica: a guesser spread over N replicas gets N times
the rate, still a few hundred tries a minute against keys of 256 random bits.
"""

from __future__ import annotations

import collections
import math
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from services.advisory.openapi import OPS
from shared.errors import AnshinError
from shared.http import error_body, json_response

LIMIT = 20  # failed attempts per address and window
WINDOW_SECONDS = 60.0
MAX_ADDRESSES = 10_000  # addresses remembered at once; the least recent is forgotten first


class Throttle:
    """Failed authentications per client address in a sliding window."""

    def __init__(
        self,
        limit: int = LIMIT,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit, self.window, self._clock = limit, window, clock
        self._failures: collections.OrderedDict[str, collections.deque[float]] = (
            collections.OrderedDict()
        )

    def _recent(self, address: str) -> collections.deque[float]:
        failures = self._failures.get(address)
        if failures is None:
            return collections.deque()
        horizon = self._clock() - self.window
        while failures and failures[0] <= horizon:
            failures.popleft()
        if not failures:
            del self._failures[address]
        return failures

    def wait_seconds(self, address: str) -> float:
        """Seconds the address must wait before trying a key again; 0 when it may try now."""
        failures = self._recent(address)
        if len(failures) < self.limit:
            return 0.0
        return max(0.0, failures[-self.limit] + self.window - self._clock())

    def failed(self, address: str) -> None:
        """Count one refused key from `address`."""
        failures = self._failures.setdefault(address, collections.deque())
        self._failures.move_to_end(address)
        failures.append(self._clock())
        while len(failures) > self.limit:
            failures.popleft()
        while len(self._failures) > MAX_ADDRESSES:
            self._failures.popitem(last=False)


THROTTLE = web.AppKey("auth_throttle", Throttle)
# Where a key arrives in a form instead of a header: the agencies' portal sign-in.
KEY_FORMS = {("POST", "/portal/login")}
PUBLIC = {(op.method.upper(), op.path) for op in OPS if not op.secured} - KEY_FORMS
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def throttle_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer 429 to credentials from an address that guessed too often; count each 401."""
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else ""
    credentials = "Authorization" in request.headers or (request.method, route) in KEY_FORMS
    if not credentials or (request.method, route) in PUBLIC:
        return await handler(request)
    throttle = request.app[THROTTLE]
    address = request.remote or "-"
    wait = throttle.wait_seconds(address)
    if wait > 0:
        body = error_body("too many failed authentications; try again later")
        return json_response(body, status=429, headers={"Retry-After": str(math.ceil(wait))})
    try:
        response = await handler(request)
    except AnshinError as exc:
        if exc.status == 401:
            throttle.failed(address)
        raise
    if response.status == 401:
        throttle.failed(address)
    return response


def install(app: web.Application, throttle: Throttle | None = None) -> None:
    """Put the throttle in front of every route of `app` (inside the JSON error middleware)."""
    app[THROTTLE] = throttle or Throttle()
    app.middlewares.append(throttle_middleware)
