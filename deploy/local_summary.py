"""What `make up` prints once everything is ready: where each part listens, keys, logs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.bus.permissions import PASSWORDS_DIR
from shared.config import Settings, env_name

if TYPE_CHECKING:
    from deploy.local import Stack


def summary(settings: Settings, env: dict[str, str], stack: Stack) -> str:
    """What `make up` prints once everything is ready."""
    lines = [
        "Anshin is running.",
        f"  ingest     http://127.0.0.1:{settings.ingest_port}  (/v1/orders, /v1/catalog)",
        f"  advisory   http://127.0.0.1:{settings.advisory_port}  (/v1/advisories, /safety)",
        f"  matcher    http://127.0.0.1:{settings.matcher_port}  (/healthz, /metrics)",
        f"  mailer     http://127.0.0.1:{settings.mailer_port}  (/u/{{token}}, /v1/bounces/*)",
    ]
    if settings.bounce_smtp_port:
        lines.append(f"  returns    SMTP on {settings.bounce_smtp_port} (bounces, complaints)")
    if stack.children and stack.children[0][0] == "mailbox":
        lines.append(
            f"  mailbox    http://127.0.0.1:{settings.mailbox_web_port}   "
            f"(SMTP on {settings.smtp_port}, Maildir {stack.data / 'mail'})"
        )
    lines += [
        f"  NATS       {settings.nats_url}",
        f"  PostgreSQL {settings.database_url}",
        f"  operator key: {env[env_name('operator_key')]}",
        *(
            [f"  NATS users:   one per service, passwords in {stack.data / PASSWORDS_DIR}"]
            if stack.nats_passwords
            else []
        ),
        f"  logs:         {stack.logs}",
        f"  quiet hours:  {settings.quiet_hours}"
        + (
            " (the local mailbox wakes no one; ANSHIN_QUIET_HOURS=21-08 holds routine mail"
            " at night in each customer's zone, as production does)"
            if settings.quiet_hours == "off"
            else " in each customer's own zone: routine mail waits, disasters and recalls do not"
        ),
        "Create an agency: .venv/bin/anshin agency create 'Consumer Safety Institute'",
        "Create a sales channel and its key: .venv/bin/anshin channel create web",
        "Stop with Ctrl-C or `make down`.",
    ]
    return "\n".join(lines)
