"""The running advisory service called as an operator, as any operator's script would."""

from __future__ import annotations

from typing import Any

import aiohttp
import msgspec

from shared.config import Settings, env_name
from shared.errors import AnshinError


async def call(
    settings: Settings,
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    content_type: str = "",
    query: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """Call the advisory service as an operator; an error answer raises naming its problem."""
    if not settings.operator_key:
        raise AnshinError(
            f"no operator key: set {env_name('operator_key')} (`make up` keeps it in"
            f" {settings.data_dir}/operator_key)"
        )
    base = f"http://127.0.0.1:{settings.advisory_port}"
    headers = {"Authorization": f"Bearer {settings.operator_key}"}
    if content_type:
        headers["Content-Type"] = content_type
    timeout = aiohttp.ClientTimeout(total=30)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.request(method, base + path, data=body, headers=headers, params=query) as reply,
        ):
            raw = await reply.read()
            status = reply.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise AnshinError(
            f"cannot reach the advisory service at {base} (is the stack running?): {exc}"
        ) from exc
    try:
        answer = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        answer = {"error": raw.decode(errors="replace")[:200]}
    if status >= 400:
        raise ServiceError(_problem(status, answer), status)
    return status, answer


class ServiceError(AnshinError):
    """The advisory service answered with an error."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def _problem(status: int, answer: Any) -> str:
    message = answer.get("error", "") if isinstance(answer, dict) else ""
    details = answer.get("details", []) if isinstance(answer, dict) else []
    named = "; ".join(f"{d.get('field')}: {d.get('problem')}" for d in details)
    text = f"{message} ({named})" if named else message
    if status == 401:
        text = f"the advisory service refused the operator key: {text}"
    return f"{text or 'error'} [HTTP {status}]"
