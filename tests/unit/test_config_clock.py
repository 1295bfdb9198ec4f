"""Settings from the environment, and the movable clock."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from shared import config, setting_lists
from shared.clock import Clock, FileClock, from_settings


def test_defaults_suit_make_up() -> None:
    settings = config.load({})
    assert settings.ingest_port == 8081
    assert settings.mailer_port == 8084
    assert settings.nats_url.startswith("nats://")


def test_environment_overrides_and_converts() -> None:
    settings = config.load(
        {"NATS_URL": "nats://elsewhere:4222", "ANSHIN_SMTP_PORT": "2525", "ANSHIN_MAX_DELIVER": ""}
    )
    assert settings.nats_url == "nats://elsewhere:4222"
    assert settings.smtp_port == 2525
    assert settings.max_deliver == 8  # empty means default


def test_malformed_setting_names_the_field() -> None:
    with pytest.raises(SystemExit, match="smtp_port"):
        config.load({"ANSHIN_SMTP_PORT": "twenty-five"})


def test_trusted_proxies_are_addresses_or_networks() -> None:
    found = config.load({"ANSHIN_TRUSTED_PROXIES": " 10.0.0.7, 10.1.0.0/16,,fd00::/8 "})
    networks = setting_lists.proxy_networks(found.trusted_proxies)
    assert [str(n) for n in networks] == ["10.0.0.7/32", "10.1.0.0/16", "fd00::/8"]
    assert setting_lists.proxy_networks("") == [], "the default trusts no proxy"
    for bad in ("ingress", "10.1.2.3/16", "10.0.0.0/33"):
        with pytest.raises(SystemExit, match=f"ANSHIN_TRUSTED_PROXIES: '{bad}'"):
            config.load({"ANSHIN_TRUSTED_PROXIES": f"10.0.0.1, {bad}"})


def test_time_zone_settings_name_iana_zones() -> None:
    """A mistyped zone stops the start, naming it; the pages would silently show UTC."""
    found = config.load({"ANSHIN_CONSOLE_TIMEZONE": "Asia/Tokyo", "ANSHIN_PUBLIC_TIMEZONE": ""})
    assert found.console_timezone == "Asia/Tokyo"
    for variable, bad in [
        ("ANSHIN_CONSOLE_TIMEZONE", "Asia/Tokio"),
        ("ANSHIN_CONSOLE_TIMEZONE", "../../etc/passwd"),
        ("ANSHIN_PUBLIC_TIMEZONE", "JST+9"),
    ]:
        with pytest.raises(SystemExit, match=f"{variable}: '{re.escape(bad)}' is not an IANA"):
            config.load({variable: bad})


def test_clock_moves_without_sleeping() -> None:
    clock = Clock()
    before = clock.now()
    clock.advance(timedelta(days=3650))
    assert clock.now() - before >= timedelta(days=3650)


def test_file_clock_moves_every_reader(tmp_path: Path) -> None:
    path = tmp_path / "clock"
    writer, reader = FileClock(path), from_settings(str(path))
    assert reader.offset() == timedelta(0)
    writer.advance(timedelta(hours=5))
    assert reader.offset() == timedelta(hours=5)
    writer.advance(timedelta(hours=1))
    assert reader.offset() == timedelta(hours=6)


def test_the_development_secret_is_warned_of_and_a_real_one_is_not() -> None:
    [warning] = config.warnings(config.load({}))
    assert "ANSHIN_SECRET_KEY" in warning
    assert config.warnings(config.load({"ANSHIN_SECRET_KEY": "a-real-secret"})) == []


def test_production_refuses_development_secrets_only_where_they_are_read() -> None:
    bare = config.load({"ANSHIN_ENV": "production"})
    assert config.refusals(bare, ()) == ["ANSHIN_NATS_USER or ANSHIN_NATS_PASSWORD is empty"]
    assert config.refusals(bare, ("secret_key", "operator_key")) == [
        "ANSHIN_SECRET_KEY is the development default",
        "ANSHIN_OPERATOR_KEY is empty",
        "ANSHIN_NATS_USER or ANSHIN_NATS_PASSWORD is empty",
    ]
    given = config.load({"ANSHIN_ENV": "production", "ANSHIN_SECRET_KEY": "s",
                         "ANSHIN_OPERATOR_KEY": "o", "ANSHIN_NATS_USER": "ingest",
                         "ANSHIN_NATS_PASSWORD": "p"})  # fmt: skip
    assert config.refusals(given, ("secret_key", "operator_key")) == []
    assert config.refusals(config.load({}), ("secret_key", "operator_key")) == []  # make up
    with pytest.raises(SystemExit, match="env"):
        config.load({"ANSHIN_ENV": "prod"})
