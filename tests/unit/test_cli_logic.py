"""The `anshin` CLI's logic: help texts, finding a `make up` stack, reading event files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services import cli
from services.advisory.cli import events_of, reach_table
from shared import exits
from shared.errors import AnshinError
from shared.tables import table

COMMANDS = [
    ["agency", "create"],
    ["agency", "list"],
    ["event", "declare"],
    ["advisory", "report"],
    ["orders", "load"],
    ["catalog", "load"],
]


@pytest.mark.parametrize("command", [[], ["agency"], ["event"], ["advisory"], *COMMANDS])
def test_every_command_explains_itself(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as ended:
        cli.main([*command, "--help"])
    assert ended.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith("usage: anshin")
    # A leaf's help says what it does beyond its usage line.
    assert len(text.splitlines()) > 4


def test_the_top_level_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    text = capsys.readouterr().out
    for name in ("agency", "event", "advisory", "orders", "catalog"):
        assert f"    {name} " in text or f"    {name}\n" in text


def test_a_missing_argument_is_one_line_of_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as ended:
        cli.main(["event", "declare"])
    assert ended.value.code == 2
    assert "the following arguments are required: file" in capsys.readouterr().err


def _make_up_data(data: Path) -> None:
    (data / "pg").mkdir(parents=True)
    lines = ["4242", str(data / "pg"), "1795349796", "5433", "/run/pg-sockets", "", "x", "ready"]
    (data / "pg" / "postmaster.pid").write_text("\n".join(lines) + "\n")
    (data / "anshin.pid").write_text("4241")
    (data / "operator_key").write_text("op-key\n")
    (data / "secret_key").write_text("secret\n")
    (data / "nats-users").mkdir()
    (data / "nats-users" / "operator").write_text("nats-op\n")


def test_a_make_up_stack_is_found_in_its_data_directory(tmp_path: Path) -> None:
    _make_up_data(tmp_path)
    env = {"ANSHIN_DATA_DIR": str(tmp_path), "ANSHIN_EMBEDDED_NATS_PORT": "14222"}
    found = cli.stack_settings(env)
    assert found.database_url == "postgresql://postgres@/anshin?host=/run/pg-sockets&port=5433"
    assert found.nats_url == "nats://127.0.0.1:14222"
    assert (found.operator_key, found.secret_key) == ("op-key", "secret")
    assert (found.nats_user, found.nats_password) == ("operator", "nats-op")


def test_the_environment_wins_over_the_data_directory(tmp_path: Path) -> None:
    _make_up_data(tmp_path)
    env = {
        "ANSHIN_DATA_DIR": str(tmp_path),
        "DATABASE_URL": "postgresql://db/anshin",
        "NATS_URL": "nats://bus:4222",
        "ANSHIN_OPERATOR_KEY": "mine",
    }
    found = cli.stack_settings(env)
    assert (found.database_url, found.nats_url) == ("postgresql://db/anshin", "nats://bus:4222")
    assert (found.operator_key, found.secret_key) == ("mine", "secret")
    assert found.nats_user == "", "another NATS server: not make up's users"


def test_in_the_advisorys_pod_the_cli_is_the_nats_user_operator(tmp_path: Path) -> None:
    pod = {"ANSHIN_DATA_DIR": str(tmp_path), "ANSHIN_NATS_USER": "advisory",
           "ANSHIN_NATS_PASSWORD": "adv", "ANSHIN_NATS_OPERATOR_PASSWORD": "op"}  # fmt: skip
    found = cli.stack_settings(pod)
    assert (found.nats_user, found.nats_password) == ("operator", "op")
    ingest_pod = {"ANSHIN_NATS_USER": "ingest", "ANSHIN_NATS_PASSWORD": "ing"}
    found = cli.stack_settings({"ANSHIN_DATA_DIR": str(tmp_path), **ingest_pod})
    assert (found.nats_user, found.nats_password) == ("ingest", "ing")


def test_without_a_stack_the_defaults_stay(tmp_path: Path) -> None:
    found = cli.stack_settings({"ANSHIN_DATA_DIR": str(tmp_path / "none")})
    assert found.database_url == "postgresql://postgres@127.0.0.1:5432/anshin"
    assert found.nats_url == "nats://127.0.0.1:4222"
    assert found.operator_key == ""


FEATURE = {"type": "Feature", "id": "us1", "properties": {"time": 0}, "geometry": {}}


def test_event_files_are_recognized_by_their_content() -> None:
    assert events_of(b"  <?xml version='1.0'?><alert/>", None, "f")[0][0] == "application/cap+xml"
    geo = json.dumps(FEATURE).encode()
    assert events_of(geo, None, "f") == [("application/geo+json", geo)]
    assert events_of(b'{"hazard": "flood"}', None, "f")[0][0] == "application/json"
    assert events_of(b'{"hazard": "flood"}', "geojson", "f")[0][0] == "application/geo+json"
    collection = {"type": "FeatureCollection", "features": [FEATURE, {**FEATURE, "id": "us2"}]}
    found = events_of(json.dumps(collection).encode(), None, "f")
    assert [json.loads(body)["id"] for _, body in found] == ["us1", "us2"]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"  \n", "quake.json is empty"),
        (b'{"hazard": ', "quake.json is neither XML nor valid JSON"),
        (b'{"type": "FeatureCollection", "features": []}', "the FeatureCollection has no features"),
    ],
)
def test_an_unreadable_event_file_is_named(data: bytes, problem: str) -> None:
    with pytest.raises(AnshinError, match=problem):
        events_of(data, None, "quake.json")


def test_errors_are_described_in_one_line() -> None:
    missing = FileNotFoundError(2, "No such file or directory", "orders.ndjson")
    assert cli.describe(missing) == "cannot read orders.ndjson: No such file or directory"
    assert cli.describe(AnshinError("no such advisory")) == "no such advisory"
    refused = ConnectionRefusedError(111, "Connect call failed")
    assert cli.describe(refused).startswith("cannot reach the database or NATS")


def test_tables_align_numbers_to_the_right() -> None:
    text = table(("state", "customers"), [("sent", "7"), ("suppressed", "12")], right=[1])
    assert text.splitlines() == [
        "state       customers",
        "----------  ---------",
        "sent                7",
        "suppressed         12",
    ]


def test_a_report_shows_the_documented_states_then_any_other() -> None:
    report = {
        "counts": {"sent": 3, "deferred": 2},
        "by_day": [{"day": "2026-01-01", "counts": {"sent": 3}}],
    }
    lines = reach_table(report).splitlines()
    states = [line.split()[0] for line in lines[2:8]]
    assert states == ["matched", "sent", "waiting", "suppressed", "failed", "deferred"]
    assert lines[3].split() == ["sent", "3"]
    assert lines[-1].split() == ["2026-01-01", "0", "3", "0", "0", "0", "0"]


def test_loading_orders_in_production_refuses_the_development_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Its e-mail hashes would match none of ingest's: it stops before reading anything."""
    orders = tmp_path / "orders.ndjson"
    orders.write_text("")
    for name in ("ANSHIN_SECRET_KEY", "DATABASE_URL", "NATS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ANSHIN_ENV", "production")
    monkeypatch.setenv("ANSHIN_DATA_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("ANSHIN_NATS_USER", "operator")
    monkeypatch.setenv("ANSHIN_NATS_PASSWORD", "op")
    assert cli.main(["orders", "load", str(orders)]) == exits.FAILED
    said = capsys.readouterr().err
    assert "refusing to run in production" in said and "ANSHIN_SECRET_KEY" in said, said
