"""Each role's NATS permissions, derived from the topology: exactly its subjects, nothing more.

A role publishes to its streams' subjects and asks its questions; it subscribes only to the
questions it answers and to its own inbox prefix (`_INBOX.<role>.>`: JetStream acks,
replies and pulled messages arrive there), so no role can listen in on another's deliveries.
The JetStream API is allowed per stream and per durable consumer: a role creates and updates
the streams it publishes to, may create (never reconfigure) a stream it consumes so that it can
start first, and creates, reads, pulls from and acknowledges only its own consumers.
`authorization()` writes the nats-server block; deploy/ and `make up` use it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import msgspec

from shared.bus.roles import ROLES, RoleSpec
from shared.bus.topology import (
    CONSUMERS,
    DEAD_LETTER_STREAM,
    DEAD_LETTER_SUBJECT,
    EXHAUSTED_BY,
    OUTBOX_DEAD_SUBJECT,
    STREAMS,
)

API = "$JS.API"
# Where `make up` keeps each NATS user's password, inside its data directory.
PASSWORDS_DIR = "nats-users"


def inbox_prefix(user: str) -> str:
    """The inbox prefix of a role's connection; its permissions allow no other inbox."""
    return f"_INBOX.{user}"


def covers(pattern: str, subject: str) -> bool:
    """Whether the NATS subject pattern (`*`, `>`) matches every subject that `subject` does."""
    want, have = pattern.split("."), subject.split(".")
    for i, token in enumerate(want):
        if token == ">":
            return len(have) > i
        if i >= len(have) or (token != "*" and token != have[i]) or have[i] == ">":
            return False
    return len(want) == len(have)


def stream_of(subject: str) -> str:
    """The stream that stores a subject."""
    for spec in STREAMS:
        if any(covers(pattern, subject) for pattern in spec.subjects):
            return spec.name
    raise KeyError(f"no stream stores {subject!r}")


def dead_letters(role: RoleSpec) -> list[str]:
    """The dead-letter subjects of the role's consumers."""
    return [DEAD_LETTER_SUBJECT.format(consumer=durable) for durable in role.consumes]


def outbox_notices(role: RoleSpec) -> list[str]:
    """The subjects of the notices of outbox rows the role's relays set aside."""
    return [OUTBOX_DEAD_SUBJECT.format(schema=schema) for schema in role.outboxes]


def owned_streams(role: RoleSpec) -> list[str]:
    """The streams the role publishes to: it creates them and keeps their configuration."""
    names = {stream_of(s) for s in [*role.publishes, *dead_letters(role), *outbox_notices(role)]}
    return [s.name for s in STREAMS if s.name in names]


def used_streams(role: RoleSpec) -> list[str]:
    """The streams the role only consumes: it may create one that is missing, nothing more."""
    names = {CONSUMERS[d].stream for d in role.consumes} - set(owned_streams(role))
    return [s.name for s in STREAMS if s.name in names]


class Permissions(msgspec.Struct, frozen=True, kw_only=True):
    """What a role's user may publish and subscribe to."""

    publish: list[str]
    subscribe: list[str]
    allow_responses: bool  # a reply to the inbox of a question it received, and only that


def permissions(role: RoleSpec) -> Permissions:
    """The nats-server permissions of the role's user."""
    publish = [*role.publishes, *dead_letters(role), *outbox_notices(role), *role.asks]
    for stream in owned_streams(role):
        publish += [f"{API}.STREAM.{op}.{stream}" for op in ("INFO", "CREATE", "UPDATE")]
    for stream in used_streams(role):
        publish += [f"{API}.STREAM.{op}.{stream}" for op in ("INFO", "CREATE")]
    for durable in role.consumes:
        stream = CONSUMERS[durable].stream
        publish += [
            f"{API}.CONSUMER.DURABLE.CREATE.{stream}.{durable}",
            f"{API}.CONSUMER.CREATE.{stream}.{durable}",
            f"{API}.CONSUMER.CREATE.{stream}.{durable}.>",
            f"{API}.CONSUMER.INFO.{stream}.{durable}",
            f"{API}.CONSUMER.MSG.NEXT.{stream}.{durable}",
            f"$JS.ACK.{stream}.{durable}.>",
        ]
        if durable in EXHAUSTED_BY:
            # Its `<service>-exhausted` consumer copies a message that ran out of deliveries
            # from the stream to the dead letters, and drops it where nothing else would.
            publish += [f"{API}.STREAM.{op}.{stream}" for op in ("MSG.GET", "MSG.DELETE")]
    # An erased customer's contact data leaves the stream at once, by subject.
    publish += [f"{API}.STREAM.PURGE.{stream}" for stream in role.purges]
    if role.inspects:
        publish += [f"{API}.STREAM.{op}.{DEAD_LETTER_STREAM}" for op in ("INFO", "MSG.GET")]
        publish += [f"{API}.CONSUMER.INFO.{c.stream}.{c.durable}" for c in CONSUMERS.values()]
    return Permissions(
        publish=list(dict.fromkeys(publish)),
        subscribe=[*role.answers, f"{inbox_prefix(role.name)}.>"],
        allow_responses=bool(role.answers),
    )


def password_variable(user: str) -> str:
    """The environment variable of the NATS server that holds a user's password."""
    return f"NATS_{user.upper()}_PASSWORD"


def authorization(passwords: Mapping[str, str] | None = None) -> str:
    """The nats-server `authorization` block: one user per role.

    Without `passwords`, each password is read from the server's environment
    (`$NATS_INGEST_PASSWORD`, ...), which is what the deployment files use.
    """
    lines = [
        "# The NATS users of Anshin, one per role, each allowed exactly its own subjects:",
        "# generated from shared/bus/roles.py by shared/bus/permissions.py; do not edit.",
        "authorization {",
        "  users = [",
    ]
    for name, role in ROLES.items():
        secret = json.dumps(passwords[name]) if passwords else f"${password_variable(name)}"
        lines.append(f"    {{user: {name}, password: {secret}, permissions: {{")
        allowed = permissions(role)
        for direction, subjects in (("publish", allowed.publish), ("subscribe", allowed.subscribe)):
            lines.append(f"      {direction}: {{allow: [")
            lines += [f"        {json.dumps(subject)}" for subject in subjects]
            lines.append("      ]}")
        if allowed.allow_responses:
            lines.append("      allow_responses: true")
        lines.append("    }}")
    lines += ["  ]", "}", ""]
    return "\n".join(lines)
