"""The relay's settings: TLS mode, the password from the environment or a file, never written
into a manifest."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.mailer import relay
from shared import config
from tests.unit.test_deploy import environments


def test_the_password_file_wins_and_loses_its_newline(tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("from the file\n")
    settings = config.load(
        {
            "ANSHIN_SMTP_USERNAME": "anshin",
            "ANSHIN_SMTP_PASSWORD": "from the environment",
            "ANSHIN_SMTP_PASSWORD_FILE": str(secret),
        }
    )
    found = relay.from_settings(settings)
    assert (found.username, found.password) == ("anshin", "from the file")
    assert "from the file" not in repr(found) and "from the file" not in str(found)
    plain = config.load({"ANSHIN_SMTP_USERNAME": "u", "ANSHIN_SMTP_PASSWORD": "p w"})
    assert relay.from_settings(plain).password == "p w"


def test_a_missing_password_file_stops_the_start_naming_the_setting(tmp_path: Path) -> None:
    settings = config.load(
        {"ANSHIN_SMTP_USERNAME": "u", "ANSHIN_SMTP_PASSWORD_FILE": str(tmp_path / "none")}
    )
    with pytest.raises(SystemExit, match="ANSHIN_SMTP_PASSWORD_FILE"):
        relay.from_settings(settings)


def test_a_ca_file_that_is_missing_or_no_pem_stops_the_start(tmp_path: Path) -> None:
    (tmp_path / "junk.pem").write_text("not a certificate")
    for path in (tmp_path / "none.pem", tmp_path / "junk.pem"):
        found = relay.from_settings(config.load({"ANSHIN_SMTP_CA_FILE": str(path)}))
        with pytest.raises(SystemExit, match="ANSHIN_SMTP_CA_FILE"):
            relay.tls_context(found)


def test_a_password_without_a_user_stops_the_start() -> None:
    with pytest.raises(SystemExit, match="ANSHIN_SMTP_USERNAME"):
        relay.from_settings(config.load({"ANSHIN_SMTP_PASSWORD": "p"}))


def test_tls_modes() -> None:
    assert config.load({}).smtp_tls == "opportunistic"
    with pytest.raises(SystemExit, match="smtp_tls"):
        config.load({"ANSHIN_SMTP_TLS": "sometimes"})
    on = {"ANSHIN_SMTP_PORT": "465"}
    assert relay.from_settings(config.load(on)).implicit, "465 speaks TLS from the first byte"
    assert not relay.from_settings(config.load(on | {"ANSHIN_SMTP_TLS": "starttls"})).implicit
    assert relay.from_settings(config.load({"ANSHIN_SMTP_TLS": "implicit"})).implicit
    assert not relay.from_settings(config.load({"ANSHIN_SMTP_PORT": "587"})).implicit


def test_the_relay_password_is_never_written_into_a_manifest() -> None:
    # Not in config.SECRETS: a relay that needs no AUTH is fine in production.
    name = config.env_name("smtp_password")
    given = {where: str(env[name]) for where, env in environments().items() if name in env}
    assert set(given) == {"compose mailer", "k8s mailer"}
    for where, value in given.items():
        assert value.startswith("secret:") or value.startswith("${"), where
