"""A brake on key guessing: too many refused tries of one key from one client, and it waits.

Every answer 401 to a request that carried a key (an `Authorization` header, or a sign-in
form's field) counts as a failure of the pair (client address, the key's public prefix).
After `limit` failures of a pair within `window` seconds, every request of that pair is
answered 429 (with `Retry-After`) without looking at the key, until the window of its
oldest failure has passed: a right guess of that key's secret must not be told so.

The client is the address the service sees after `shared.forwarded` (behind trusted
proxies, the one they forwarded); the prefix is the start of the key, which names it
without giving its secret away. So a valid key is never refused because of others'
failures, whether behind the same ingress or from the same address with other keys, and
twenty bad keys a minute no longer lock every agency out. A guesser who varies the prefix
is not slowed: what stops it is the secret after the prefix, 200 random bits and more in
every key Anshin issues. The operator key is chosen by the operator: it must be as long
and random (`openssl rand -hex 32`), since the throttle does not make a short one safe.

Requests without a key, and the routes a service names public, are never held up. The
state lives in the application, per replica: a guesser spread over N replicas gets N times
the rate.
"""

from __future__ import annotations

import base64
import binascii
import collections
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping

from aiohttp import web

from shared.errors import AnshinError
from shared.http import error_body, json_response

LIMIT = 20  # failed attempts per client and key prefix, and window
WINDOW_SECONDS = 60.0
MAX_BUCKETS = 10_000  # pairs remembered at once; the least recent is forgotten first
PREFIX_CHARS = 12
# Never throttled: probes and scrapes carry no key, but a client may send one along.
OPS_ROUTES = {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics")}

Route = tuple[str, str]  # (method, canonical path), as aiohttp's router names it
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def public_prefix(key: str) -> str:
    """The start of a key that names it without giving its secret away: 12 characters.

    `ak_<token>` gives `ak_` and 9 characters of the token (some 200 random bits stay
    secret); `ck_<id>_<secret>` the channel's id, or its first characters. The same for
    every length, so that a guesser cannot change buckets by changing a key's length.
    """
    return key[:PREFIX_CHARS]


def given_key(header: str) -> str:
    """The key in `Authorization: Bearer KEY` or `Basic base64(user:KEY)`; empty if none."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value.strip(), validate=True).decode().partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            return ""
    return ""


class Throttle:
    """Failed authentications per bucket (a client and a key prefix) in a sliding window."""

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

    def _recent(self, bucket: str) -> collections.deque[float]:
        failures = self._failures.get(bucket)
        if failures is None:
            return collections.deque()
        horizon = self._clock() - self.window
        while failures and failures[0] <= horizon:
            failures.popleft()
        if not failures:
            del self._failures[bucket]
        return failures

    def wait_seconds(self, bucket: str) -> float:
        """Seconds the bucket must wait before trying a key again; 0 when it may try now."""
        failures = self._recent(bucket)
        if len(failures) < self.limit:
            return 0.0
        return max(0.0, failures[-self.limit] + self.window - self._clock())

    def failed(self, bucket: str) -> None:
        """Count one refused key of `bucket`."""
        failures = self._failures.setdefault(bucket, collections.deque())
        self._failures.move_to_end(bucket)
        failures.append(self._clock())
        while len(failures) > self.limit:
            failures.popleft()
        while len(self._failures) > MAX_BUCKETS:
            self._failures.popitem(last=False)


class Guard:
    """The throttle of one application and what it needs to know of its routes."""

    def __init__(
        self, throttle: Throttle, public: Iterable[Route], key_forms: Mapping[Route, str]
    ) -> None:
        self.throttle, self.key_forms = throttle, dict(key_forms)
        self.public = (set(public) | OPS_ROUTES) - set(self.key_forms)

    async def key(self, request: web.Request, route: Route) -> str | None:
        """The key the request presents, or None if it carries none or the route is public."""
        if route in self.key_forms:
            return str((await request.post()).get(self.key_forms[route], "")).strip()
        if "Authorization" not in request.headers or route in self.public:
            return None
        return given_key(request.headers["Authorization"])


GUARD = web.AppKey("auth_throttle", Guard)


@web.middleware
async def throttle_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer 429 to a key its client failed with too often; count each 401 to a key."""
    guard = request.app[GUARD]
    resource = request.match_info.route.resource
    route = (request.method, resource.canonical if resource is not None else "")
    key = await guard.key(request, route)
    if key is None:
        return await handler(request)
    bucket = f"{request.remote or '-'} {public_prefix(key)}"
    wait = guard.throttle.wait_seconds(bucket)
    if wait > 0:
        body = error_body("too many failed authentications; try again later")
        return json_response(body, status=429, headers={"Retry-After": str(math.ceil(wait))})
    try:
        response = await handler(request)
    except AnshinError as exc:
        if exc.status == 401:
            guard.throttle.failed(bucket)
        raise
    if response.status == 401:
        guard.throttle.failed(bucket)
    return response


def install(
    app: web.Application,
    *,
    public: Iterable[Route] = (),
    key_forms: Mapping[Route, str] | None = None,
    throttle: Throttle | None = None,
) -> Guard:
    """Put the throttle in front of every route of `app` but the `public` ones.

    `key_forms` names the routes where a key arrives in a form field instead of a header
    (route → field). Install it after `shared.service.base_app`, so that it sees the client
    behind trusted proxies.
    """
    guard = Guard(throttle or Throttle(), public, key_forms or {})
    app[GUARD] = guard
    app.middlewares.append(throttle_middleware)
    return guard
