"""Questions to other services over NATS request-reply; no answer becomes a 503."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from nats.aio.client import Client
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout

from shared.errors import AnshinError
from shared.messages import Message, encode

T = TypeVar("T")

TIMEOUT_SECONDS = 2.0


class Unavailable(AnshinError):
    """Another service did not answer in time: try again later."""

    status = 503


async def ask(
    nc: Client, subject: str, question: Message, answer: type[T], who: str, timeout: float = 0
) -> T:
    """Send `question` on `subject` and decode the reply as `answer`, or raise Unavailable."""
    try:
        reply = await nc.request(subject, encode(question), timeout=timeout or TIMEOUT_SECONDS)
    except NoRespondersError as exc:
        raise Unavailable(f"the {who} is not available", [_detail(who, "no responder")]) from exc
    except (NatsTimeout, TimeoutError) as exc:
        raise Unavailable(f"the {who} did not answer in time", [_detail(who, "timeout")]) from exc
    try:
        decoded: T = msgspec.json.decode(reply.data, type=answer)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise Unavailable(f"the {who} gave an unreadable answer", [_detail(who, str(exc))]) from exc
    return decoded


def _detail(who: str, problem: str) -> dict[str, Any]:
    return {"field": who, "problem": problem}
