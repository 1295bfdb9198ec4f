"""What `make up` keeps in its data directory and adds to the services' environment: secrets
made on first use, the NATS users of production with their passwords, local defaults."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from deploy.servers import NatsServer, free_port
from shared.bus.permissions import PASSWORDS_DIR, authorization
from shared.bus.roles import ROLES
from shared.config import env_name

SERVICES = ("ingest", "advisory", "matcher", "mailer")

# Where `make up`'s mailer takes returned mail, unless ANSHIN_BOUNCE_SMTP_PORT says otherwise.
LOCAL_BOUNCE_SMTP_PORT = 2525


def _private(path: Path, text: str) -> None:
    """Write a file that only its owner may read."""
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
        out.write(text)


def _secret(path: Path) -> str:
    """A secret kept in the data directory, made on first use."""
    if not path.exists():
        _private(path, secrets.token_urlsafe(32))
    return path.read_text().strip()


def nats_passwords(data: Path) -> dict[str, str]:
    """The password of each NATS user (a role of shared/bus/topology.py), made on first use."""
    folder = data / PASSWORDS_DIR
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return {role: _secret(folder / role) for role in ROLES}


def secured_nats(
    data: Path, port: int = 0, log_file: Path | None = None
) -> tuple[NatsServer, dict[str, str]]:
    """A NATS server (not started yet) with the users of production, one per role, each
    allowed only its own subjects; and their passwords, kept in the data directory."""
    passwords = nats_passwords(data)
    auth = data / "nats-auth.conf"
    _private(auth, authorization(passwords))
    return NatsServer(data / "nats", port=port, log_file=log_file, config=auth), passwords


def local_env(env: dict[str, str], data: Path) -> dict[str, str]:
    """`env` with what `make up` adds where unset: secrets kept in `data`, the bounce endpoint,
    and no quiet hours for the local mailbox."""
    env = dict(env)
    env.setdefault(env_name("operator_key"), _secret(data / "operator_key"))
    env.setdefault(env_name("secret_key"), _secret(data / "secret_key"))
    env.setdefault(env_name("evidence_key"), _secret(data / "evidence_key"))
    # The relay's returned mail (bounces, complaints) comes back to the mailer's own SMTP
    # endpoint; on this machine only, as the local mailbox.
    env.setdefault(env_name("bounce_smtp_port"), str(LOCAL_BOUNCE_SMTP_PORT))
    env.setdefault(env_name("bounce_smtp_host"), "127.0.0.1")
    if not env.get(env_name("smtp_host")):
        # The local mailbox reaches no one asleep: someone trying Anshin sees the mail
        # at any hour. A configured relay keeps the quiet hours of the settings.
        env.setdefault(env_name("quiet_hours"), "off")
    return env


def free_ports(
    services: tuple[str, ...] = ("ingest", "advisory", "matcher", "mailer"),
) -> dict[str, str]:
    """A free port for everything `make up` listens on: for a stack launched beside others."""
    listeners = ["embedded_nats_port", "smtp_port", "mailbox_web_port", "bounce_smtp_port"]
    listeners += [f"{service}_port" for service in services]
    return {env_name(name): str(free_port()) for name in listeners}
