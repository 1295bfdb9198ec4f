"""Settings read once from the environment into a frozen Struct."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from shared.setting_lists import feed_list, proxy_networks


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Every setting of every service, each with a default that suits `make up`."""

    nats_url: str = "nats://127.0.0.1:4222"
    database_url: str = "postgresql://postgres@127.0.0.1:5432/anshin"
    # "production" (every manifest in deploy/): a service refuses development secrets
    env: Literal["development", "production"] = "development"
    # This process's NATS user (a role of shared/bus/topology.py) and its password; empty:
    # no credentials, for a server without authorization (the tests' own)
    nats_user: str = ""
    nats_password: str = ""
    # advisory: the password of the NATS user `operator`, for the console's bus views
    nats_operator_password: str = ""
    operator_key: str = ""
    secret_key: str = "dev-secret-change-me"
    # advisory: the secret an advisory's evidence is signed from (its Ed25519 key is derived
    # from it); empty: derived from secret_key, for development only (production refuses it)
    evidence_key: str = ""
    mailer_public_url: str = "http://127.0.0.1:8084"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    mail_from: str = "Anshin Safety <safety@anshin.example>"
    clock_file: str = ""
    log_level: str = "INFO"
    stream_replicas: int = 1
    max_deliver: int = 8
    ingest_port: int = 8081
    advisory_port: int = 8082
    matcher_port: int = 8083
    mailer_port: int = 8084
    max_body_bytes: int = 32 * 1024 * 1024
    data_dir: str = ".data"
    mailbox_web_port: int = 8025
    embedded_nats_port: int = 4222
    matcher_fanout_shards: int = 16
    matcher_long_term_late_days: int = 365
    matcher_schedule_poll_s: float = 1.0
    # Aftershocks are not a flood: a disaster playbook reaches a customer at most once in
    # this many hours for disasters of the same hazard (0: every disaster).
    matcher_disaster_fold_hours: float = 24.0
    # Mailer policy and delivery (see docs/mailer.md). Routine mail waits out the quiet hours
    # in the customer's own time zone ("off" for none; tests turn them off unless testing them).
    public_url: str = "http://127.0.0.1:8082"
    # advisory: the time zone of the dates on the public pages; empty: the zone each page's
    # language is usually read in (ja: Asia/Tokyo, fr: Europe/Paris, en: UTC)
    public_timezone: str = ""
    # advisory: the IANA time zone of the times on the operators' console, with UTC beside
    # them (the portal shows each agency's own zone, `anshin agency create --timezone`)
    console_timezone: str = "UTC"
    send_rate_per_second: float = 200.0
    send_rate_per_domain: float = 50.0
    routine_cap: int = 3
    cap_period_days: int = 7
    quiet_hours: str = "21-08"
    smtp_connections: int = 4
    # How the mailer reaches its relay (docs/mailer.md, "The relay"): STARTTLS when offered
    # ("opportunistic"; implicit TLS on port 465), STARTTLS required ("starttls"), or TLS from
    # the first byte ("implicit"); the certificate always verified, against the system's CAs
    # or those of smtp_ca_file. AUTH when a username is set, only over TLS; the password from
    # smtp_password or, where set, from the file smtp_password_file (a mounted secret).
    smtp_tls: Literal["opportunistic", "starttls", "implicit"] = "opportunistic"
    smtp_ca_file: str = ""
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_password_file: str = ""
    dkim_selector: str = ""
    dkim_key_file: str = ""
    dkim_domain: str = ""
    # A second DKIM signature beside the first, with an Ed25519 key (RFC 8463)
    dkim_ed25519_selector: str = ""
    dkim_ed25519_key_file: str = ""
    # A mail path (the relay, a recipient domain) pauses after this many attempts in a row
    # failed with the same reply code, for this long at first (docs/mailer.md, "Paths").
    smtp_breaker_failures: int = 20
    smtp_breaker_pause_s: float = 30.0
    # Provider health (docs/mailer.md, "Provider health"): over a rolling window, routine
    # mail to a mailbox provider pauses while its complaint rate, or its share of policy
    # refusals (5.7.x), passes the limit, once it was sent this many mails in the window.
    provider_window_hours: Annotated[float, msgspec.Meta(gt=0)] = 24.0
    provider_complaint_rate: Annotated[float, msgspec.Meta(ge=0)] = 0.001
    provider_policy_rate: Annotated[float, msgspec.Meta(ge=0)] = 0.01
    provider_min_sent: Annotated[int, msgspec.Meta(ge=1)] = 100
    # how often each mailer replica reads the figures again (a paused provider's routine mail
    # waits at least this long, and a minute, before it is looked at again)
    provider_check_s: Annotated[float, msgspec.Meta(ge=0)] = 15.0
    # advisory: a USGS quake becomes a circle of this radius at magnitude 5, doubling per unit
    quake_radius_km: float = 30.0
    # advisory: weaker USGS quakes are heard but declare no disaster
    quake_min_magnitude: float = 5.0
    # Reverse proxies (addresses or CIDRs, comma-separated) whose X-Forwarded-For and
    # X-Forwarded-Proto are believed; empty: none, a request's client is its peer.
    trusted_proxies: str = ""
    # A migration statement that waits longer for a table's lock fails, rather than queueing
    # every query on that table behind it for as long as another session holds the lock.
    migration_lock_timeout_s: Annotated[float, msgspec.Meta(ge=0)] = 5.0
    # mailer: returned mail (docs/mailer.md, "Bounces and complaints"). Every mail's envelope
    # sender is bounce+<signed token>@<bounce_domain> (empty: the From domain).
    bounce_domain: str = ""
    # the SMTP endpoint that takes the relay's returned mail (DSN, ARF); 0: none
    bounce_smtp_port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 0
    bounce_smtp_host: str = "0.0.0.0"
    bounce_max_bytes: Annotated[int, msgspec.Meta(ge=1024)] = 2 * 1024 * 1024
    # soft bounces of one address within the window that suppress it
    bounce_soft_limit: Annotated[int, msgspec.Meta(ge=1)] = 3
    bounce_soft_window_days: Annotated[float, msgspec.Meta(gt=0)] = 7.0
    # Amazon SES through SNS: the topic ARNs whose notifications are believed (comma-separated;
    # empty: the webhook is off); the hosts SNS signing certificates may come from (`*`: one
    # DNS label), and a CA file to trust beyond the system's (tests serve their own)
    bounce_ses_topics: str = ""
    bounce_sns_cert_hosts: str = "sns.*.amazonaws.com,sns.*.amazonaws.com.cn"
    bounce_sns_ca_file: str = ""
    # SendGrid Event Webhook: its verification key (base64 DER, as SendGrid shows it); empty: off
    bounce_sendgrid_key: str = ""
    # Postmark: the webhook's basic-auth credentials "user:password"; empty: off
    bounce_postmark_auth: str = ""
    # Retention (docs/privacy.md): how often each replica prunes, rows per transaction, and
    # how long one run may take before it leaves the rest to the next.
    retention_interval_s: Annotated[float, msgspec.Meta(gt=0)] = 3600.0
    retention_batch: Annotated[int, msgspec.Meta(ge=1)] = 1000
    retention_run_budget_s: Annotated[float, msgspec.Meta(gt=0)] = 30.0
    # ingest: an order (and a customer record without orders) once published, after this long
    ingest_order_retention_days: Annotated[int, msgspec.Meta(ge=1)] = 730
    # matcher: purchases; long-term advice runs ten years after a purchase, mailed up to
    # matcher_long_term_late_days late: eleven years at least
    matcher_purchase_retention_days: Annotated[int, msgspec.Meta(ge=4018)] = 4018
    # mailer: a ledger row's customer id becomes a pseudonym after this long
    mailer_ledger_pseudonym_days: Annotated[int, msgspec.Meta(ge=1)] = 730
    # every service with an outbox: rows the bus refused for good (their notices on DEAD
    # expire with the stream, after 30 days)
    dead_letter_retention_days: Annotated[int, msgspec.Meta(ge=1)] = 30
    # advisory: the disaster feeds it polls, `name=kind:url` comma-separated (kinds: jma for a
    # JMA Atom feed, usgs, nws; docs/advisory.md, "Feeds"); empty: none is polled
    feeds: str = ""
    # advisory: each feed is polled this often; after errors, waits double up to the cap
    feed_poll_s: Annotated[float, msgspec.Meta(gt=0)] = 60.0
    feed_backoff_max_s: Annotated[float, msgspec.Meta(gt=0)] = 600.0
    # advisory: one fetch of a feed or of one of its documents gives up after this long
    feed_timeout_s: Annotated[float, msgspec.Meta(gt=0)] = 30.0
    # advisory: how often it projects each published advisory's finish against its
    # deliver_by (the gauge anshin_advisories_missing_deadline)
    deadline_watch_s: Annotated[float, msgspec.Meta(gt=0)] = 30.0
    # ingest: how often it measures how long the oldest erasure has waited for its erasers
    # (the gauge anshin_erasure_oldest_pending_seconds)
    erasure_watch_s: Annotated[float, msgspec.Meta(gt=0)] = 60.0


# Environment variable for each field: the field name upper-cased, with the ANSHIN_ prefix
# except for the conventional NATS_URL and DATABASE_URL.
_UNPREFIXED = {"nats_url", "database_url"}


def env_name(field: str) -> str:
    """Return the environment variable that sets `field`."""
    return field.upper() if field in _UNPREFIXED else f"ANSHIN_{field.upper()}"


def load(environ: dict[str, str] | None = None) -> Settings:
    """Build Settings from the environment; a malformed value raises naming the variable."""
    env = os.environ if environ is None else environ
    raw: dict[str, str] = {}
    for field in Settings.__struct_fields__:
        value = env.get(env_name(field))
        if value is not None and value != "":
            raw[field] = value
    try:
        settings = msgspec.convert(raw, Settings, strict=False)
        proxy_networks(settings.trusted_proxies)
        feed_list(settings.feeds)
        _zones(settings)
    except (msgspec.ValidationError, ValueError) as exc:
        raise SystemExit(f"invalid setting: {exc}") from exc
    return settings


def _zones(settings: Settings) -> None:
    """Refuse a time-zone setting that names no IANA zone (pages would fall back to UTC)."""
    for field in ("console_timezone", "public_timezone"):
        name = getattr(settings, field)
        if not name:
            continue
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{env_name(field)}: {name!r} is not an IANA time zone (such as Asia/Tokyo)"
            ) from None


# Settings that hold a secret: never written into a manifest, only referenced.
SECRETS = (
    "database_url",
    "nats_password",
    "nats_operator_password",
    "operator_key",
    "secret_key",
    "evidence_key",
)


def refusals(settings: Settings, secrets: Iterable[str]) -> list[str]:
    """Why a service that reads `secrets` must not start in production; empty elsewhere."""
    if settings.env != "production":
        return []
    found = []
    reads = set(secrets)
    if "secret_key" in reads and settings.secret_key == Settings().secret_key:
        found.append(f"{env_name('secret_key')} is the development default")
    if "evidence_key" in reads and not settings.evidence_key:
        found.append(f"{env_name('evidence_key')} is empty")
    if "operator_key" in reads and not settings.operator_key:
        found.append(f"{env_name('operator_key')} is empty")
    if not (settings.nats_user and settings.nats_password):
        found.append(f"{env_name('nats_user')} or {env_name('nats_password')} is empty")
    if "nats_operator_password" in reads and not settings.nats_operator_password:
        found.append(f"{env_name('nats_operator_password')} is empty")
    return found


def warnings(settings: Settings) -> list[str]:
    """What an operator must hear at start-up: settings only fit for development."""
    found = []
    if settings.secret_key == Settings().secret_key:
        found.append(
            f"{env_name('secret_key')} is the development default: anyone who reads the source"
            " can sign unsubscribe links and e-mail hashes; set a secret of your own"
        )
    return found
